/* 数据统计: the charts of the dashboard and the big screen, drawn with the vendored Apache ECharts.
 * WenmingCharts.draw(element, kind, charts, {dark, big}) draws one chart ("trend", "platforms",
 * "themes", "nodes", "funnel") from the JSON the server gives (views.chart_data) and returns the
 * ECharts instance; calling it again on the same element updates the chart in place. */
(function () {
  "use strict";

  var FONT = '-apple-system, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", "Source Han Sans SC", sans-serif';
  var THEMES = {
    light: {
      text: "#1f2328", muted: "#656d76", line: "#d8dee4", split: "#eef1f4",
      palette: ["#b71c1c", "#e6862b", "#2f6fb0", "#3a9a5b", "#8e5bb5", "#c9a227", "#4aa5b8", "#d0587e", "#6b7b8c", "#7a4b2a"],
      funnel: ["#7a1010", "#9c1717", "#b71c1c", "#c4432a", "#c2621c", "#a86a12"]
    },
    dark: {
      text: "#e8f1ff", muted: "#9fbde0", line: "#2a4a75", split: "#17304f",
      palette: ["#36c5f0", "#f6c344", "#ff7a59", "#5ee3a1", "#b48cff", "#ff5c8a", "#4f8dff", "#ffa940", "#9be15d", "#8ec5ff"],
      funnel: ["#1565c0", "#1976d2", "#0288d1", "#00838f", "#00796b", "#2e7d32"]
    }
  };

  function sizes(big) {
    return big ? { text: 18, small: 16, title: 20 } : { text: 12, small: 11, title: 14 };
  }

  function base(theme, big) {
    var s = sizes(big);
    return {
      color: theme.palette,
      backgroundColor: "transparent",
      textStyle: { color: theme.text, fontFamily: FONT, fontSize: s.text },
      animationDuration: 700,
      tooltip: { confine: true, textStyle: { fontSize: s.text } }
    };
  }

  function emptyGraphic(theme, big, text) {
    return [{
      type: "text", left: "center", top: "middle",
      style: { text: text, fill: theme.muted, fontSize: sizes(big).title, fontFamily: FONT }
    }];
  }

  function total(items) {
    var sum = 0;
    for (var i = 0; i < items.length; i++) { sum += Number(items[i].value) || 0; }
    return sum;
  }

  function trend(charts, theme, big) {
    var t = charts.trend || { periods: [], activities: [], hours: [] };
    var s = sizes(big);
    var o = base(theme, big);
    var labels = charts.labels || {};
    o.tooltip.trigger = "axis";
    o.legend = { top: 0, textStyle: { color: theme.text, fontSize: s.text }, data: [labels.activities, labels.hours] };
    o.grid = { left: 8, right: 8, top: big ? 48 : 36, bottom: 8, containLabel: true };
    o.xAxis = {
      type: "category", data: t.periods,
      axisLine: { lineStyle: { color: theme.line } },
      axisLabel: { color: theme.muted, fontSize: s.small, hideOverlap: true,
        formatter: function (v) { return charts.interval === "month" ? v : String(v).slice(5); } }
    };
    o.yAxis = [
      // Each axis in its series' colour: the legend names them, on any width.
      { type: "value", minInterval: 1, axisLabel: { color: theme.palette[0], fontSize: s.small },
        splitLine: { lineStyle: { color: theme.split } } },
      { type: "value", axisLabel: { color: theme.palette[1], fontSize: s.small }, splitLine: { show: false } }
    ];
    o.series = [
      { name: labels.activities, type: "bar", data: t.activities, barMaxWidth: 22, itemStyle: { borderRadius: [3, 3, 0, 0] } },
      { name: labels.hours, type: "line", yAxisIndex: 1, data: t.hours, smooth: false, symbolSize: 6,
        lineStyle: { width: big ? 3 : 2 }, areaStyle: { opacity: 0.08 } }
    ];
    if (!t.periods.length) { o.graphic = emptyGraphic(theme, big, labels.empty); }
    return o;
  }

  function pie(items, theme, big, empty, centre) {
    var s = sizes(big);
    var o = base(theme, big);
    o.tooltip.trigger = "item";
    o.tooltip.formatter = "{b}：{c}（{d}%）";
    o.legend = { type: "scroll", bottom: 0, textStyle: { color: theme.text, fontSize: s.small },
      pageTextStyle: { color: theme.muted }, pageIconColor: theme.text, pageIconInactiveColor: theme.line,
      itemWidth: 12, itemHeight: 10 };
    o.series = [{
      type: "pie", radius: ["36%", "58%"], center: ["50%", "45%"], avoidLabelOverlap: true, percentPrecision: 1,
      minShowLabelAngle: 12,  // no label for a thin slice: its name is in the legend and the tooltip
      itemStyle: { borderColor: big ? "#0b1a33" : "#fff", borderWidth: 2 },
      emptyCircleStyle: { color: theme.split },
      label: { color: theme.text, fontSize: s.small, formatter: "{b}\n{d}%",
        alignTo: "edge", edgeDistance: 4, width: big ? 120 : 90, overflow: "truncate" },
      labelLine: { lineStyle: { color: theme.muted }, length: 8, length2: 8 },
      labelLayout: { hideOverlap: true },
      data: items.filter(function (it) { return Number(it.value) > 0; })
    }];
    if (big) {  // on the wall the slices carry their names; a paged legend cannot be clicked there
      o.legend.show = false;
      o.series[0].center = ["50%", "50%"];
      o.series[0].radius = ["38%", "60%"];
    }
    if (centre) {
      o.title = { text: centre, left: "center", top: big ? "middle" : "40%", textStyle: { color: theme.muted, fontSize: s.title, fontWeight: "normal" } };
    }
    if (!total(items)) { o.graphic = emptyGraphic(theme, big, empty); o.legend.show = false; delete o.title; }
    return o;
  }

  function ranking(items, theme, big, charts) {
    var s = sizes(big);
    var o = base(theme, big);
    var rows = items.slice(0, 10).reverse();  // best on top
    o.tooltip.trigger = "axis";
    o.tooltip.axisPointer = { type: "shadow" };
    o.grid = { left: 8, right: big ? 70 : 56, top: 8, bottom: 8, containLabel: true };
    o.xAxis = { type: "value", axisLabel: { show: false }, splitLine: { lineStyle: { color: theme.split } } };
    o.yAxis = { type: "category", data: rows.map(function (r) { return r.name; }),
      axisLine: { lineStyle: { color: theme.line } }, axisTick: { show: false },
      axisLabel: { color: theme.text, fontSize: s.small, width: big ? 260 : 170, overflow: "truncate" } };
    o.series = [{
      name: (charts.labels || {}).nodes, type: "bar", data: rows.map(function (r) { return r.value; }), barMaxWidth: big ? 26 : 18,
      itemStyle: { borderRadius: [0, 4, 4, 0] },
      label: { show: true, position: "right", color: theme.text, fontSize: s.small }
    }];
    if (!items.length) { o.graphic = emptyGraphic(theme, big, (charts.labels || {}).empty); }
    return o;
  }

  function funnel(items, theme, big, empty) {
    var s = sizes(big);
    var o = base(theme, big);
    var top = items.length ? Number(items[0].value) || 0 : 0;
    o.color = theme.funnel;
    o.tooltip.trigger = "item";
    o.tooltip.formatter = "{b}：{c}";
    o.series = [{
      type: "funnel", sort: "none", left: "8%", right: "8%", top: 8, bottom: 8, minSize: "18%", maxSize: "100%", gap: 3,
      min: 0, max: Math.max(top, 1),
      label: { show: true, position: "inside", color: "#fff", fontSize: s.text, fontWeight: "bold", formatter: "{b}  {c}" },
      itemStyle: { borderWidth: 0 },
      data: items.map(function (it) { return { name: it.name, value: it.value }; })
    }];
    if (!top) { o.graphic = emptyGraphic(theme, big, empty); o.series[0].data = []; }
    return o;
  }

  function option(kind, charts, theme, big) {
    var empty = (charts.labels || {}).empty;
    switch (kind) {
      case "trend": return trend(charts, theme, big);
      case "platforms": return pie(charts.platforms || [], theme, big, empty, big ? (charts.labels || {}).platform : "");
      case "themes": return pie(charts.themes || [], theme, big, empty, big ? (charts.labels || {}).theme : "");
      case "nodes": return ranking(charts.nodes || [], theme, big, charts);
      case "funnel": return funnel(charts.funnel || [], theme, big, empty);
    }
    return null;
  }

  var instances = [];

  function draw(el, kind, charts, opts) {
    opts = opts || {};
    if (!window.echarts || !el) { return null; }
    var theme = THEMES[opts.dark ? "dark" : "light"];
    var chart = window.echarts.getInstanceByDom(el);
    if (!chart) {
      var locale = /^en/i.test(document.documentElement.lang || "") ? "EN" : "ZH";
      chart = window.echarts.init(el, null, { renderer: "canvas", locale: locale });
      instances.push(chart);
    }
    var o = option(kind, charts, theme, !!opts.big);
    if (o) { chart.setOption(o, true); }
    return chart;
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      instances.forEach(function (c) { if (!c.isDisposed()) { c.resize(); } });
    }, 120);
  });

  window.WenmingCharts = { draw: draw, option: option };
})();
