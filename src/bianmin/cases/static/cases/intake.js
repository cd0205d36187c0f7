// 窗口收件: typing in 查找事项 narrows the item choice at once (the form's GET does the same
// without JavaScript). Options keep their order; the first match is selected.
(function () {
  var q = document.getElementById("item-q"), select = document.getElementById("item-select");
  if (!q || !select) return;
  var options = Array.prototype.slice.call(select.options);
  q.addEventListener("input", function () {
    var text = q.value.trim().toLowerCase(), first = null;
    options.forEach(function (o) {
      var hit = !text || o.text.toLowerCase().indexOf(text) >= 0;
      o.hidden = !hit; o.disabled = !hit;
      if (hit && !first) first = o;
    });
    if (first) select.value = first.value;
  });
  q.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); select.focus(); } });
})();
