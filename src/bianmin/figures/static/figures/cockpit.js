// The cockpit's charts (ECharts, vendored): the series, the district map and the children's bar.
(function () {
  var data = JSON.parse(document.getElementById("cockpit-data").textContent);
  var script = document.currentScript;
  var charts = [];
  function make(id) { var el = document.getElementById(id); if (!el || !window.echarts) return null; var c = echarts.init(el); charts.push(c); return c; }
  var s = make("chart-series");
  if (s) {
    s.setOption({
      tooltip: { trigger: "axis" }, legend: { data: ["办结件数", "参评率", "满意率"] },
      grid: { left: 48, right: 48, bottom: 40, top: 40 },
      xAxis: { type: "category", data: data.series.map(function (r) { return r.period; }) },
      yAxis: [{ type: "value", name: "件" }, { type: "value", name: "%", min: 0, max: 100 }],
      series: [
        { name: "办结件数", type: "bar", data: data.series.map(function (r) { return r.completed; }) },
        { name: "参评率", type: "line", yAxisIndex: 1, data: data.series.map(function (r) { return r.participation; }) },
        { name: "满意率", type: "line", yAxisIndex: 1, data: data.series.map(function (r) { return r.satisfaction; }) }
      ]
    });
  }
  var m = document.getElementById("chart-map");
  if (m && window.echarts) {
    fetch(script.getAttribute("data-geojson")).then(function (r) { return r.json(); }).then(function (geo) {
      echarts.registerMap("districts", geo);
      var c = make("chart-map");
      var vals = data.map.map(function (r) { return r.value; }).filter(function (v) { return v !== null; });
      c.setOption({
        tooltip: { trigger: "item", formatter: function (p) { return p.name + "：" + (p.value == null || isNaN(p.value) ? "无数据" : p.value + "%"); } },
        visualMap: { min: vals.length ? Math.floor(Math.min.apply(null, vals)) : 0, max: 100, left: 8, bottom: 8, text: ["高", "低"], calculable: true, inRange: { color: ["#fde0dc", "#b3261e"] } },
        series: [{ type: "map", map: "districts", roam: true, label: { show: true, fontSize: 10 }, data: data.map }]
      });
    });
  }
  var b = make("chart-children");
  if (b) {
    b.setOption({
      tooltip: { trigger: "axis" }, grid: { left: 48, right: 16, bottom: 90, top: 24 },
      xAxis: { type: "category", data: data.children.map(function (r) { return r.name; }), axisLabel: { rotate: 45, fontSize: 11 } },
      yAxis: { type: "value", name: data.rank_label + "（%）", min: 0, max: 100 },
      series: [{ type: "bar", data: data.children.map(function (r) { return r.value; }), itemStyle: { color: "#b3261e" } }]
    });
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
