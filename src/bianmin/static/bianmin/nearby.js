// "使用我的位置": the browser's location → /api/v1/sites/nearby → a list of nearby sites.
// Progressive enhancement only: the page works without this file (the district/township form).
(function () {
  "use strict";
  var form = document.getElementById("finder-form");
  var button = document.getElementById("locate");
  var status = document.getElementById("locate-status");
  var section = document.getElementById("geo-results");
  var list = document.getElementById("geo-list");
  var title = document.getElementById("geo-title");
  if (!form || !button) return;

  // Changing the district reloads the township list at once (without JS the button does it).
  var district = document.getElementById("district");
  if (district) {
    district.addEventListener("change", function () {
      var township = document.getElementById("township");
      if (township) township.value = "";
      form.submit();
    });
  }

  if (!("geolocation" in navigator) || !window.fetch) return;
  button.hidden = false;

  // Widen the search step by step until something is within reach.
  var attempts = [
    { mode: "walk", minutes: 15, label: "步行 15 分钟内" },
    { mode: "drive", minutes: 15, label: "驾车 15 分钟内" },
    { mode: "drive", minutes: 60, label: "驾车 1 小时内" }
  ];

  function formatDistance(m) {
    return m < 1000 ? m + " 米" : (m / 1000).toFixed(1) + " 公里";
  }

  function line(label, text, href) {
    var div = document.createElement("div");
    div.className = "site-line";
    var span = document.createElement("span");
    span.className = "label";
    span.textContent = label;
    div.appendChild(span);
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = text;
      div.appendChild(a);
    } else {
      div.appendChild(document.createTextNode(text));
    }
    return div;
  }

  function render(data, attempt) {
    list.textContent = "";
    title.textContent = "您附近" + attempt.label + "可到达的办事地点（" + data.count + " 个）";
    data.items.forEach(function (s) {
      var li = document.createElement("li");
      li.className = "site-card";
      var head = document.createElement("div");
      head.className = "site-head";
      var a = document.createElement("a");
      a.className = "site-name";
      a.href = "/regions/sites/" + encodeURIComponent(s.code) + "/";
      a.textContent = s.name;
      var tag = document.createElement("span");
      tag.className = "tag tag-" + s.kind;
      tag.textContent = s.kind_name;
      head.appendChild(a);
      head.appendChild(tag);
      li.appendChild(head);
      if (s.address) li.appendChild(line("地址", s.address));
      if (s.hours) li.appendChild(line("时间", s.hours));
      if (s.phone) li.appendChild(line("电话", s.phone, "tel:" + s.phone));
      var reach = document.createElement("div");
      reach.className = "site-line site-reach";
      reach.textContent = "距离约 " + formatDistance(s.distance_m) + " · " + data.mode_name + "约 " + s.minutes + " 分钟";
      li.appendChild(reach);
      list.appendChild(li);
    });
    section.hidden = false;
    section.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  function search(lng, lat, i) {
    var attempt = attempts[i];
    var url = "/api/v1/sites/nearby?lng=" + lng.toFixed(6) + "&lat=" + lat.toFixed(6) +
      "&mode=" + attempt.mode + "&minutes=" + attempt.minutes + "&limit=20";
    return fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) {
          status.textContent = res.body && res.body.message ? res.body.message : "查询失败，请稍后再试。";
          return;
        }
        if (res.body.count === 0 && i + 1 < attempts.length) return search(lng, lat, i + 1);
        if (res.body.count === 0) {
          status.textContent = "您附近暂未找到办事地点，请通过上方选择区县和乡镇（街道）查找。";
          return;
        }
        status.textContent = "";
        render(res.body, attempt);
      });
  }

  button.addEventListener("click", function () {
    status.textContent = "正在获取您的位置……";
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        status.textContent = "正在查找附近的办事地点……";
        search(pos.coords.longitude, pos.coords.latitude, 0).catch(function () {
          status.textContent = "网络异常，查询失败，请稍后再试。";
        });
      },
      function (err) {
        status.textContent = err.code === 1
          ? "未获得定位授权。请在浏览器中允许定位，或通过上方选择区县和乡镇（街道）查找。"
          : "暂时无法获取您的位置，请通过上方选择区县和乡镇（街道）查找。";
      },
      { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 }
    );
  });
})();
