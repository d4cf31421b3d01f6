// Grid boundary editor for the admin: Leaflet + Geoman, writing WGS-84 GeoJSON back
// into the form's textarea. No base map tiles: intranets have no tile server.
(function () {
  "use strict";
  var el = document.getElementById("grid-map");
  if (!el || !window.L) { return; }
  var field = document.getElementById(el.dataset.geojsonField);
  var crs = document.getElementById(el.dataset.crsField);
  var map = L.map(el, { zoomSnap: 0.25 });
  var neighbours = JSON.parse(document.getElementById("grid-neighbours").textContent || "null");
  var bounds = null;
  if (neighbours) {
    var n = L.geoJSON(neighbours, { style: { color: "#888", weight: 1, fillOpacity: 0.05 },
      pmIgnore: true, interactive: false }).addTo(map);
    if (n.getLayers().length) { bounds = n.getBounds(); }
  }
  var layer = null;
  function show() {
    if (layer) { map.removeLayer(layer); layer = null; }
    var geometry;
    try { geometry = JSON.parse(field.value); } catch (e) { return; }
    if (crs && crs.value !== "wgs84") { return; }  // only WGS-84 can be drawn as is
    layer = L.geoJSON(geometry, { style: { color: "#b71c1c", weight: 2 } }).addTo(map);
    bounds = layer.getBounds();
    layer.eachLayer(function (l) {
      l.on("pm:edit", function () {
        var shapes = [];
        layer.eachLayer(function (x) { shapes.push(x.toGeoJSON().geometry); });
        field.value = JSON.stringify(shapes.length === 1 ? shapes[0] :
          { type: "MultiPolygon", coordinates: shapes.map(function (s) {
            return s.type === "Polygon" ? s.coordinates : s.coordinates[0]; }) });
        if (crs) { crs.value = "wgs84"; }
      });
    });
    if (map.pm) { layer.eachLayer(function (l) { l.pm.enable({ allowSelfIntersection: false }); }); }
  }
  show();
  if (bounds && bounds.isValid()) { map.fitBounds(bounds.pad(0.1)); } else { map.setView([36.65, 118.05], 10); }
  if (map.pm) {
    map.pm.addControls({ position: "topleft", drawMarker: false, drawCircleMarker: false,
      drawPolyline: false, drawCircle: false, drawText: false, cutPolygon: false, rotateMode: false });
    map.on("pm:create", function (e) {
      field.value = JSON.stringify(e.layer.toGeoJSON().geometry);
      map.removeLayer(e.layer);
      if (crs) { crs.value = "wgs84"; }
      show();
    });
  }
  field.addEventListener("change", show);
  if (crs) { crs.addEventListener("change", show); }
})();
