// Dashboard map: the children of an area coloured by index; click to drill down.
(function () {
  var el = document.getElementById("pi-map");
  var chart = echarts.init(el);
  var stack = [];
  function load(code) {
    fetch(el.dataset.api + code + "/?kind=" + encodeURIComponent(el.dataset.kind),
      { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (geo) {
        var name = "area-" + code;
        echarts.registerMap(name, geo);
        document.getElementById("pi-map-title").textContent =
          geo.area.name + " · " + (geo.month || "");
        chart.setOption({
          tooltip: { formatter: function (p) {
            var d = p.data || {};
            return p.name + "<br>" + el.dataset.label + " " + (d.value == null ? "—" : d.value) +
              (d.rank ? "<br>排名 " + d.rank + "/" + d.rank_total : "");
          } },
          visualMap: { min: 0, max: 100, left: "left", calculable: true,
            inRange: { color: ["#b71c1c", "#fbc02d", "#2e7d32"] } },
          series: [{ type: "map", map: name, roam: true, nameProperty: "name",
            data: geo.features.map(function (f) {
              return { name: f.properties.name, value: f.properties.index,
                code: f.properties.code, rank: f.properties.rank,
                rank_total: f.properties.rank_total, drillable: f.properties.drillable };
            }) }]
        }, true);
      });
  }
  chart.on("click", function (p) {
    if (p.data && p.data.drillable) { stack.push(el.dataset.current); go(p.data.code); }
  });
  function go(code) { el.dataset.current = code; load(code); }
  document.getElementById("pi-map-up").addEventListener("click", function () {
    if (stack.length) { go(stack.pop()); }
  });
  if (el.dataset.start) { go(el.dataset.start); }
})();
