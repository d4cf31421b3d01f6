// Citizen report map: click (or use the device's position) to set the hidden
// lon/lat fields in WGS-84. Town outlines stand in for base tiles, which
// intranets do not have.
(function () {
  "use strict";
  var el = document.getElementById("ev-report-map");
  if (!el || !window.L) { return; }
  var lon = document.getElementById("id_lon");
  var lat = document.getElementById("id_lat");
  var label = document.getElementById("ev-point");
  var towns = JSON.parse(document.getElementById("ev-towns").textContent || "null");
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
  el.leafletMap = map;  // for scripted checks (the browser test)
  var marker = null;
  var outline = null;
  if (towns && towns.features && towns.features.length) {
    outline = L.geoJSON(towns, {
      style: { color: "#888", weight: 1, fillColor: "#fff", fillOpacity: 0.6 },
      onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name, { sticky: true }); }
    });
  }
  function show(latlng, zoom) {
    if (marker) { marker.setLatLng(latlng); } else {
      marker = L.circleMarker(latlng, { radius: 9, color: "#fff", weight: 2, fillColor: "#b71c1c", fillOpacity: 1 }).addTo(map);
    }
    lon.value = latlng.lng.toFixed(6);
    lat.value = latlng.lat.toFixed(6);
    label.textContent = label.dataset.marked + " " + lon.value + ", " + lat.value;
    if (zoom) { map.setView(latlng, Math.max(map.getZoom(), zoom)); }
  }
  // The view before the outlines: Leaflet 1.9 fails on vectors added without one.
  if (outline) { map.fitBounds(outline.getBounds()); outline.addTo(map); } else { map.setView([36.65, 118.05], 9); }
  if (lon.value && lat.value) { show(L.latLng(parseFloat(lat.value), parseFloat(lon.value)), 14); }
  map.on("click", function (e) { show(e.latlng); });
  if (outline) { outline.on("click", function (e) { show(e.latlng); }); }
  var locate = document.getElementById("ev-locate");
  if (!navigator.geolocation) { locate.hidden = true; return; }
  locate.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(
      function (p) { show(L.latLng(p.coords.latitude, p.coords.longitude), 15); },
      function () { label.textContent = label.dataset.failed; },
      { enableHighAccuracy: true, timeout: 10000 }
    );
  });
})();
