/* The kiosk's screens. Nothing about the citizen is kept here: no localStorage, no
   sessionStorage, no cookies written by script (the server's session holds the visit and is
   flushed when it ends). The idle timer ends the visit when the screen is left untouched. */
(function () {
  "use strict";
  var body = document.body;

  // --- idle timeout: a warning, then the visit is ended (POST /kiosk/end/) ---------------------
  var idle = parseInt(body.dataset.idle || "90", 10) * 1000;
  var overlay = document.getElementById("k-idle");
  var countEl = document.getElementById("k-idle-count");
  var endForm = document.getElementById("k-end-form");
  var warnAt = Math.max(idle - 10000, 1000), timer = null, ticker = null;
  function endVisit() { if (endForm) { endForm.submit(); } }
  function warn() {
    if (!overlay) { endVisit(); return; }
    var left = Math.round((idle - warnAt) / 1000);
    countEl.textContent = left;
    overlay.hidden = false;
    ticker = setInterval(function () {
      left -= 1; countEl.textContent = left;
      if (left <= 0) { clearInterval(ticker); endVisit(); }
    }, 1000);
  }
  function touch() {
    if (overlay && !overlay.hidden) { return; }
    clearTimeout(timer);
    timer = setTimeout(body.dataset.visit === "0" ? function () { location.replace(location.pathname); } : warn, warnAt);
  }
  ["pointerdown", "keydown", "touchstart"].forEach(function (e) { document.addEventListener(e, touch, { passive: true }); });
  var stay = document.getElementById("k-idle-stay");
  if (stay) { stay.addEventListener("click", function () { clearInterval(ticker); overlay.hidden = true; touch(); }); }
  touch();

  // --- the identity-card reader: one small interface, two implementations ------------------------
  // read() resolves to {id_number, name}. "device": the terminal's reader driver exposes
  // window.kioskReaderDevice.read(); "demo": a card from the demo registries (server).
  var readers = {
    demo: function (btn) {
      return fetch(btn.dataset.readerUrl, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        return r.json().then(function (data) { if (!r.ok) { throw new Error(data.message || "读卡失败"); } return data; });
      });
    },
    device: function () {
      if (!window.kioskReaderDevice) { return Promise.reject(new Error("未检测到身份证读卡器，请联系工作人员")); }
      return window.kioskReaderDevice.read();
    }
  };
  function maskName(n) { return n ? n.charAt(0) + "*".repeat(n.length - 1) : ""; }
  function maskId(s) { return s && s.length > 10 ? s.slice(0, 6) + "*".repeat(s.length - 10) + s.slice(-4) : "****"; }

  var form = document.getElementById("k-identify");
  if (form) {
    var read = document.getElementById("k-read"), card = document.getElementById("k-card");
    var name = document.getElementById("k-name"), id = document.getElementById("k-id");
    var mobile = document.getElementById("k-mobile"), submit = document.getElementById("k-submit");
    var ready = function () { submit.disabled = !(name.value && id.value && /^1\d{10}$/.test(mobile.value)); };
    read.addEventListener("click", function () {
      card.textContent = "正在读取……";
      (readers[read.dataset.reader] || readers.device)(read).then(function (c) {
        name.value = c.name; id.value = c.id_number;
        card.textContent = maskName(c.name) + "　" + maskId(c.id_number);
        ready();
      }).catch(function (e) { card.textContent = e.message || "读卡失败，请重新放置身份证"; });
    });
    document.querySelectorAll(".k-keypad button").forEach(function (b) {
      b.addEventListener("click", function () {
        var k = b.dataset.key;
        if (k === "clear") { mobile.value = ""; } else if (k === "back") { mobile.value = mobile.value.slice(0, -1); }
        else if (mobile.value.length < 11) { mobile.value += k; }
        ready();
      });
    });
    form.addEventListener("submit", function () { submit.disabled = true; submit.textContent = "正在查询，请稍候……"; });
    ready();
  }

  // --- printing: the certificate's PDF in a hidden frame, then the browser's print -----------------
  var print = document.getElementById("k-print");
  if (print) {
    var frame = document.getElementById("k-print-frame");
    print.addEventListener("click", function () {
      frame.onload = function () { try { frame.contentWindow.print(); } catch (e) { /* the PDF viewer prints by itself */ } };
      frame.src = print.dataset.pdf;
      print.textContent = "已发送打印";
    });
  }

  // --- evaluation: the reasons are asked for a bad grade only -----------------------------------
  var evalForm = document.getElementById("k-eval");
  if (evalForm) {
    var reasons = document.getElementById("k-reasons");
    var sync = function () {
      var g = evalForm.querySelector("input[name=grade]:checked");
      reasons.hidden = !g || parseInt(g.value, 10) > 2;
    };
    evalForm.querySelectorAll("input[name=grade]").forEach(function (r) { r.addEventListener("change", sync); });
    sync();
  }
})();
