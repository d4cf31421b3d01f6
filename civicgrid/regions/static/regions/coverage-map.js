// Coverage check map for the admin: the region's grids in grey, gaps in red,
// overlaps in orange, spills beyond the boundary in purple; each piece's popup
// gives its area in m² and the grids around it. No base tiles (intranets).
(function () {
  "use strict";
  var el = document.getElementById("coverage-map");
  var source = document.getElementById("coverage-data");
  if (!el || !source || !window.L) { return; }
  var data = JSON.parse(source.textContent);
  var labels = document.getElementById("coverage-labels").dataset;
  var colours = { gap: "#d32f2f", overlap: "#ef6c00", outside: "#6a1b9a" };
  var map = L.map(el, { zoomSnap: 0.25, preferCanvas: true });
  var bounds = L.latLngBounds([]);
  if (data.boundary) {
    var b = L.geoJSON(data.boundary, { style: { color: "#263238", weight: 2, dashArray: "6 4", fill: false },
      interactive: false }).addTo(map);
    bounds.extend(b.getBounds());
  }
  var grids = L.geoJSON(data.grids, {
    style: { color: "#607d8b", weight: 1, fillOpacity: 0.08 },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(f.properties.code + " " + f.properties.name);
    }
  }).addTo(map);
  if (grids.getLayers().length) { bounds.extend(grids.getBounds()); }
  if (data.outlines) {  // the overview of a city: all outlines as one drawing
    var outlines = L.geoJSON(data.outlines, { style: { color: "#607d8b", weight: 1 }, interactive: false }).addTo(map);
    bounds.extend(outlines.getBounds());
  }

  function text(s) { var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
  var pieces = L.geoJSON(data.pieces, {
    style: function (f) {
      var c = colours[f.properties.kind] || "#d32f2f";
      return { color: c, fillColor: c, weight: 2, fillOpacity: 0.55 };
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindPopup("<strong>" + text(labels[p.kind] || p.kind) + "</strong><br>" +
        text(labels.area) + ": " + text(p.area_m2.toFixed(2)) + "<br>" +
        text(labels.grids) + ": " + text(p.grids.join(", ")));
    }
  }).addTo(map);
  pieces.bringToFront();
  if (bounds.isValid()) { map.fitBounds(bounds.pad(0.05)); } else { map.setView([36.65, 118.05], 10); }
  // Small pieces would vanish at the region's zoom: mark each with a circle too.
  pieces.eachLayer(function (layer) {
    var c = layer.getBounds().getCenter();
    var colour = colours[layer.feature.properties.kind] || "#d32f2f";
    L.circleMarker(c, { radius: 6, color: colour, weight: 2, fillOpacity: 0.2 })
      .bindPopup(layer.getPopup().getContent()).addTo(map);
  });
})();
