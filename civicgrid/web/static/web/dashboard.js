// Leadership dashboard: the area's map coloured by the chosen measure (ECharts, as
// the peace index map does), trends, top matters and overdue by department; a click
// on a sub-area loads its figures; htmx polls the live counts.
(function () {
  "use strict";
  var labels = JSON.parse(document.getElementById("db-labels").textContent);
  var el = document.getElementById("db-map");
  var measureEl = document.getElementById("db-measure");
  var map = echarts.init(el), trend = echarts.init(document.getElementById("db-trend"));
  var matters = echarts.init(document.getElementById("db-matters"));
  var departments = echarts.init(document.getElementById("db-departments"));
  var text = { color: "#e6eef7" }, current = null;
  el.chart = map;

  function drawMap() {
    var geo = current.map, measure = measureEl.value;
    var name = "db-" + current.area.code;
    echarts.registerMap(name, geo);
    var values = geo.features.map(function (f) { return f.properties[measure]; })
      .filter(function (v) { return v !== null && v !== undefined; });
    var max = values.length ? Math.max.apply(null, values) : 1;
    var min = values.length ? Math.min.apply(null, values) : 0;
    var good = measure === "satisfaction" || measure === "index";
    map.setOption({
      tooltip: { formatter: function (p) {
        var d = (p.data || {}).props || {};
        return p.name + "<br>" + labels.events + " " + (d.events || 0) + "<br>" + labels.overdue + " " +
          (d.overdue || 0) + "<br>" + labels.satisfaction + " " + (d.satisfaction == null ? "—" : d.satisfaction + "%") +
          "<br>" + labels.index + " " + (d.index == null ? "—" : d.index);
      } },
      visualMap: { min: min, max: max === min ? min + 1 : max, calculable: true, left: "left", bottom: 10,
        textStyle: text, text: [labels[measure], ""],
        inRange: { color: good ? ["#b71c1c", "#fbc02d", "#2e7d32"] : ["#1b5e20", "#fbc02d", "#b71c1c"] } },
      series: [{ type: "map", map: name, roam: true, nameProperty: "name",
        label: { show: true, color: "#fff", fontSize: 11 },
        itemStyle: { borderColor: "#90caf9", areaColor: "#234" },
        data: geo.features.map(function (f) {
          return { name: f.properties.name, value: f.properties[measure], props: f.properties };
        }) }]
    }, true);
  }
  function drawCharts() {
    var t = current.trend;
    trend.setOption({
      tooltip: { trigger: "axis" }, legend: { textStyle: text, data: [labels.reported, labels.closed] },
      grid: { left: 36, right: 10, top: 30, bottom: 24 },
      xAxis: { type: "category", data: t.days, axisLabel: text },
      yAxis: { type: "value", minInterval: 1, axisLabel: text, splitLine: { lineStyle: { color: "#1f4a73" } } },
      series: [{ name: labels.reported, type: "line", smooth: true, data: t.reported },
               { name: labels.closed, type: "line", smooth: true, data: t.closed }]
    }, true);
    function bars(chart, rows, series) {
      chart.setOption({
        tooltip: { trigger: "axis" }, legend: series.length > 1 ? { textStyle: text } : undefined,
        grid: { left: 110, right: 16, top: series.length > 1 ? 28 : 8, bottom: 20 },
        xAxis: { type: "value", minInterval: 1, axisLabel: text, splitLine: { lineStyle: { color: "#1f4a73" } } },
        yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.name; }), axisLabel: text },
        series: series.map(function (s) {
          return { name: s[1], type: "bar", data: rows.map(function (r) { return r[s[0]]; }), itemStyle: { color: s[2] } };
        }),
        graphic: rows.length ? [] : [{ type: "text", left: "center", top: "middle", style: { text: labels.none, fill: "#7f9bb8" } }]
      }, true);
    }
    bars(matters, current.matters, [["n", labels.events, "#42a5f5"]]);
    bars(departments, current.departments, [["overdue", labels.overdue, "#ef5350"], ["supervision_orders", labels.orders, "#ffca28"]]);
  }
  function drawPath() {
    var nav = document.getElementById("db-path");
    nav.innerHTML = "";
    current.path.forEach(function (p, i) {
      var a = document.createElement(i < current.path.length - 1 ? "a" : "span");
      a.textContent = p.name;
      if (i < current.path.length - 1) { a.onclick = function () { go(p.code); }; }
      nav.appendChild(a);
      if (i < current.path.length - 1) { nav.appendChild(document.createTextNode(" › ")); }
    });
    document.getElementById("db-area").textContent = current.area.name;
  }
  function show(figures) {
    current = figures;
    drawPath(); drawMap(); drawCharts();
    var live = document.getElementById("db-live");
    if (live && live.dataset.area !== figures.area.code) {
      // Point the live counts at the new area and fetch them now.
      htmx.ajax("GET", el.dataset.live.replace("CODE", figures.area.code) + "?live=" + el.dataset.seconds, { target: "#db-live", swap: "outerHTML" });
    }
    var url = new URL(location.href);
    url.searchParams.set("area", figures.area.code);
    url.searchParams.set("measure", measureEl.value);
    history.replaceState(null, "", url);
  }
  function go(code) {
    fetch(el.dataset.api.replace("CODE", code), { credentials: "same-origin" })
      .then(function (r) { return r.json(); }).then(show);
  }
  window.dashboardGo = go;
  map.on("click", function (p) {
    var props = (p.data || {}).props;
    if (props && props.drillable) { go(props.code); }
  });
  measureEl.addEventListener("change", function () { drawMap(); show(current); });
  window.addEventListener("resize", function () { [map, trend, matters, departments].forEach(function (c) { c.resize(); }); });
  show(JSON.parse(document.getElementById("db-figures").textContent));
})();
