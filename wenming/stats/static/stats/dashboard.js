/* 数据统计 dashboard: the period picker shows the dates its choice needs; the charts are drawn
 * from the <script type="application/json" id="stats-charts"> block. Without JavaScript (or if
 * the chart library fails to load) every chart's data stays readable in the table under it. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function periodFields() {
    var kind = document.getElementById("f-kind");
    if (!kind) { return; }
    var fields = document.querySelectorAll("#stats-filters [data-kind]");
    function sync() {
      for (var i = 0; i < fields.length; i++) {
        var show = fields[i].getAttribute("data-kind") === kind.value;
        fields[i].hidden = !show;
        var input = fields[i].querySelector("input");
        if (input) { input.disabled = !show; }  // only the dates the choice needs are sent
      }
    }
    kind.addEventListener("change", sync);
    sync();
  }

  function charts() {
    var block = document.getElementById("stats-charts");
    if (!block) { return; }
    var data = JSON.parse(block.textContent);
    var els = document.querySelectorAll("[data-chart]");
    if (!window.echarts || !window.WenmingCharts) {
      // No charts: show the tables instead of empty boxes.
      for (var i = 0; i < els.length; i++) { els[i].hidden = true; }
      var tables = document.querySelectorAll("details.chart-table");
      for (var j = 0; j < tables.length; j++) { tables[j].open = true; }
      return;
    }
    for (var k = 0; k < els.length; k++) {
      window.WenmingCharts.draw(els[k], els[k].getAttribute("data-chart"), data, {});
    }
  }

  function start() { periodFields(); charts(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
