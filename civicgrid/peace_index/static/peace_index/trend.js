// The 12-month trend of the public page (ECharts from our own static files).
(function () {
  var data = JSON.parse(document.getElementById("pi-trend-data").textContent);
  var chart = echarts.init(document.getElementById("pi-trend"));
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: ["平安指数", "治安指标值", "治理指标值"] },
    xAxis: { type: "category", data: data.months },
    yAxis: { type: "value", min: 0, max: 100 },
    series: [
      { name: "平安指数", type: "line", data: data.index },
      { name: "治安指标值", type: "line", data: data.security },
      { name: "治理指标值", type: "line", data: data.governance }
    ]
  });
})();
