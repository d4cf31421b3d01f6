// Grid worker app: my grid on a map, reports with GPS and photos kept in IndexedDB
// (the outbox) until they are sent; each carries its Idempotency-Key so a report
// sent twice (a lost answer, two tabs) is still one event.
(function () {
  "use strict";
  var script = document.getElementById("app-script");
  var form = document.getElementById("app-report");
  var outboxEl = document.getElementById("app-outbox");
  var sentEl = document.getElementById("app-sent");
  var net = document.getElementById("app-net");
  var DB = "civicgrid-app", STORE = "outbox";
  var syncing = false;
  function field(name) { return form.elements[name]; }

  // --- IndexedDB outbox ---------------------------------------------------------
  function db() {
    return new Promise(function (ok, fail) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "key" }); };
      req.onsuccess = function () { ok(req.result); };
      req.onerror = function () { fail(req.error); };
    });
  }
  function tx(mode, work) {
    return db().then(function (d) {
      return new Promise(function (ok, fail) {
        var t = d.transaction(STORE, mode);
        var out = work(t.objectStore(STORE));
        t.oncomplete = function () { ok(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { fail(t.error); };
      });
    });
  }
  function all() { return tx("readonly", function (s) { return s.getAll(); }); }
  function put(item) { return tx("readwrite", function (s) { s.put(item); }); }
  function drop(key) { return tx("readwrite", function (s) { s.delete(key); }); }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : form.querySelector("[name=csrfmiddlewaretoken]").value;
  }

  // --- what is waiting ------------------------------------------------------------
  function render() {
    return all().then(function (items) {
      document.getElementById("app-outbox-count").textContent = items.length;
      outboxEl.innerHTML = "";
      if (!items.length) {
        var li = document.createElement("li");
        li.className = "app-empty"; li.textContent = outboxEl.dataset.empty;
        outboxEl.appendChild(li);
      }
      items.sort(function (a, b) { return a.created - b.created; }).forEach(function (it) {
        var li = document.createElement("li");
        li.dataset.key = it.key;
        var when = new Date(it.created).toLocaleString("zh-CN");
        li.textContent = it.title + " · " + when + (it.photos.length ? " · 📷" + it.photos.length : "");
        if (it.error) {
          var err = document.createElement("div");
          err.className = "app-failed";
          err.textContent = outboxEl.dataset.failed + "：" + it.error;
          var del = document.createElement("button");
          del.type = "button"; del.textContent = outboxEl.dataset.drop;
          del.onclick = function () { drop(it.key).then(render); };
          li.appendChild(err); li.appendChild(del);
        }
        outboxEl.appendChild(li);
      });
    });
  }
  function sent(item, body) {
    var li = document.createElement("li");
    li.className = "app-sent-item";
    li.textContent = outboxEl.dataset.sent + "：" + item.title + " → " + body.code;
    sentEl.insertBefore(li, sentEl.firstChild);
  }
  function showNet() {
    var on = navigator.onLine;
    net.textContent = on ? net.dataset.online : net.dataset.offline;
    net.classList.toggle("app-offline", !on);
  }

  // --- sending --------------------------------------------------------------------
  function send(item) {
    var body = new FormData();
    ["title", "description", "lon", "lat", "source"].forEach(function (k) { body.append(k, item[k]); });
    item.photos.forEach(function (p) { body.append("photos", p.blob, p.name); });
    return fetch(form.dataset.api, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Idempotency-Key": item.key, "X-CSRFToken": csrf(), "Accept": "application/json" }
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        if (res.ok) { return drop(item.key).then(function () { sent(item, json); }); }
        if (res.status >= 400 && res.status < 500 && res.status !== 401 && res.status !== 403 && res.status !== 429) {
          item.error = json.detail || JSON.stringify(json);
          return put(item);  // refused as it is: kept for the user to see and remove
        }
        throw new Error("HTTP " + res.status);  // try again later
      });
    });
  }
  function sync() {
    if (syncing || !navigator.onLine) { return Promise.resolve(); }
    syncing = true;
    return all().then(function (items) {
      var waiting = items.filter(function (i) { return !i.error; })
        .sort(function (a, b) { return a.created - b.created; });
      return waiting.reduce(function (p, item) {
        return p.then(function () { return send(item); });
      }, Promise.resolve());
    }).catch(function () { /* network gone again: the outbox keeps them */ })
      .then(function () { syncing = false; return render(); });
  }
  window.civicgridSync = sync;

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
    var item = {
      key: uuid(), created: Date.now(), title: title, description: description,
      lon: lon, lat: lat, source: "grid_worker",
      photos: files.map(function (f) { return { name: f.name, type: f.type, blob: f }; })
    };
    put(item).then(function () {
      form.reset(); field("lon").value = ""; field("lat").value = "";
      if (marker) { marker.remove(); marker = null; }
      document.getElementById("app-position").textContent = "";
      return render();
    }).then(sync);
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

  // --- start ----------------------------------------------------------------------
  window.addEventListener("online", function () { showNet(); sync(); });
  window.addEventListener("offline", showNet);
  showNet();
  render().then(sync);
  setInterval(sync, 30000);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(script.dataset.sw, { scope: script.dataset.scope });
  }
})();
