// Event detail map: the grid's outline and the reported point, in WGS-84.
// No base map tiles: government intranets have no tile server.
(function () {
  "use strict";
  var el = document.getElementById("ev-map");
  var source = document.getElementById("ev-map-data");
  if (!el || !source || !window.L) { return; }
  var data = JSON.parse(source.textContent);
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
  el.leafletMap = map;  // for scripted checks (the browser test)
  var point = L.latLng(data.point[1], data.point[0]);
  var bounds = L.latLngBounds([point, point]);
  var grid = data.grid ? L.geoJSON(data.grid, { style: { color: "#b71c1c", weight: 2, fillOpacity: 0.08 } }) : null;
  if (grid) { bounds.extend(grid.getBounds()); }
  // The view first: vector layers added to a map without a view fail in Leaflet 1.9.
  map.fitBounds(bounds.pad(0.15), { maxZoom: 17 });
  if (grid) { grid.addTo(map); }
  L.circleMarker(point, { radius: 8, color: "#fff", weight: 2, fillColor: "#1565c0", fillOpacity: 1 }).addTo(map);
})();
