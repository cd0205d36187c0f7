// Keyboard shortcuts of the case workbench. Elements declare their key with data-key; in the
// queue, j/k move the selection and Enter opens it. Keys are ignored while typing in a field.
(function () {
  function typing(e) {
    var t = e.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-href]"));
  var sel = -1;
  function select(i) {
    if (!rows.length) return;
    if (sel >= 0) rows[sel].classList.remove("sel");
    sel = Math.max(0, Math.min(rows.length - 1, i));
    rows[sel].classList.add("sel");
    rows[sel].scrollIntoView({block: "nearest"});
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape" && typing(e)) { e.target.blur(); return; }
    if (typing(e)) return;
    if (e.key === "j") { select(sel + 1); e.preventDefault(); return; }
    if (e.key === "k") { select(sel - 1); e.preventDefault(); return; }
    if (e.key === "Enter" && sel >= 0) { window.location = rows[sel].dataset.href; return; }
    var el = document.querySelector('[data-key="' + e.key + '"]');
    if (!el) return;
    e.preventDefault();
    if (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT") { el.focus(); }
    else { el.click(); }
  });
})();
