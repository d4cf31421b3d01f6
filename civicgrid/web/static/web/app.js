// Grid worker app, home page: my grid on a map and the event report form (GPS or a
// tap on the map, photos). A report goes to the outbox (app-outbox.js), which sends
// it with its Idempotency-Key now or when the network returns.
(function () {
  "use strict";
  var form = document.getElementById("app-report");
  function field(name) { return form.elements[name]; }

  // --- the form -------------------------------------------------------------------
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var error = document.getElementById("app-form-error");
    var title = field("title").value.trim(), description = field("description").value.trim();
    var lon = field("lon").value, lat = field("lat").value;
    var missing = !title ? field("title") : !description ? field("description") : !lon ? document.getElementById("app-gps") : null;
    if (missing) {
      error.hidden = false;
      error.textContent = missing.id === "app-gps" ? form.dataset.needPlace || "请定位或在地图上点选位置" : "请填写问题和详情";
      missing.focus();
      return;
    }
    error.hidden = true;
    var files = Array.prototype.slice.call(field("photos").files || []);
    window.civicgridOutbox.queue({
      kind: "event", label: title, url: form.dataset.api,
      fields: { title: title, description: description, lon: lon, lat: lat, source: "grid_worker" },
      photos: files.map(function (f) { return { name: f.name, type: f.type, blob: f }; })
    }).then(function () {
      form.reset(); field("lon").value = ""; field("lat").value = "";
      if (marker) { marker.remove(); marker = null; }
      document.getElementById("app-position").textContent = "";
    });
  });

  // --- the map --------------------------------------------------------------------
  var map = L.map("app-map", { attributionControl: false });
  var grids = JSON.parse(document.getElementById("app-grids").textContent);
  var layer = L.geoJSON(grids, { style: { color: "#b71c1c", weight: 2, fillOpacity: 0.08 } });
  // The view before the layer: Leaflet 1.9 fails on vectors added to a map without one.
  if (grids.features.length) { map.fitBounds(layer.getBounds()); } else { map.setView([36.8, 118.05], 11); }
  layer.addTo(map);
  document.getElementById("app-map").leafletMap = map;
  var marker = null;
  function place(lat, lon, label) {
    field("lat").value = lat.toFixed(6); field("lon").value = lon.toFixed(6);
    if (marker) { marker.setLatLng([lat, lon]); } else { marker = L.marker([lat, lon]).addTo(map); }
    document.getElementById("app-position").textContent = label + " " + lon.toFixed(5) + ", " + lat.toFixed(5);
  }
  map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng, "📍"); });
  document.getElementById("app-gps").addEventListener("click", function () {
    if (!navigator.geolocation) { return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      place(p.coords.latitude, p.coords.longitude, "GPS");
      map.setView([p.coords.latitude, p.coords.longitude], 16);
    }, function (err) {
      var error = document.getElementById("app-form-error");
      error.hidden = false; error.textContent = "无法获取位置：" + err.message;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
})();
