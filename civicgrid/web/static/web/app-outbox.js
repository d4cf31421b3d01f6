// Grid worker app: the outbox. Whatever the worker saves (event reports, household
// visits, information collections) is kept in IndexedDB until it is sent; each item
// carries its Idempotency-Key, so an item sent twice (a lost answer, two tabs) is
// still one event, one visit, one collection. Also: the network badge and the
// service worker. Pages queue items with window.civicgridOutbox.queue(item).
(function () {
  "use strict";
  var script = document.getElementById("app-outbox-script");
  var outboxEl = document.getElementById("app-outbox");
  var sentEl = document.getElementById("app-sent");
  var net = document.getElementById("app-net");
  var DB = "civicgrid-app", STORE = "outbox";
  var syncing = false;

  // --- IndexedDB ------------------------------------------------------------------
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
  // A shared phone: only the signed-in worker's items are shown and sent (items
  // kept from before owners were recorded count as the current worker's).
  var OWNER = outboxEl.dataset.owner || "";
  function mine(item) { return !item.owner || item.owner === OWNER; }
  function all() {
    return tx("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return items.filter(mine).map(upgrade);
    });
  }
  function put(item) { return tx("readwrite", function (s) { s.put(item); }); }
  function drop(key) { return tx("readwrite", function (s) { s.delete(key); }); }

  // Reports queued by the first version of the app had no url: they are events.
  function upgrade(item) {
    if (item.url) { return item; }
    item.url = outboxEl.dataset.eventsApi;
    item.label = item.title;
    item.fields = { title: item.title, description: item.description, lon: item.lon, lat: item.lat, source: item.source };
    return item;
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) { return decodeURIComponent(m[1]); }
    var input = document.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
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
        li.dataset.kind = it.kind || "event";
        var when = new Date(it.created).toLocaleString("zh-CN");
        var photos = (it.photos || []).length;
        li.textContent = it.label + " · " + when + (photos ? " · 📷" + photos : "");
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
    li.dataset.kind = item.kind || "event";
    var ref = body.code || (body.household && body.household.address) || (body.id ? "#" + body.id : "");
    li.textContent = outboxEl.dataset.sent + "：" + item.label + (ref ? " → " + ref : "");
    sentEl.insertBefore(li, sentEl.firstChild);
    // Pages follow what the server now holds (e.g. a household's new version).
    document.dispatchEvent(new CustomEvent("civicgrid:sent", { detail: { item: item, body: body } }));
  }
  function showNet() {
    var on = navigator.onLine;
    net.textContent = on ? net.dataset.online : net.dataset.offline;
    net.classList.toggle("app-offline", !on);
  }

  // --- sending --------------------------------------------------------------------
  function request(item) {
    var headers = { "Idempotency-Key": item.key, "X-CSRFToken": csrf(), "Accept": "application/json" };
    if (item.json) {
      headers["Content-Type"] = "application/json";
      return { method: "POST", body: JSON.stringify(item.json), headers: headers, credentials: "same-origin" };
    }
    var body = new FormData();
    Object.keys(item.fields || {}).forEach(function (k) {
      var v = item.fields[k];
      if (v !== undefined && v !== null) { body.append(k, v); }
    });
    (item.photos || []).forEach(function (p) { body.append("photos", p.blob, p.name); });
    return { method: "POST", body: body, headers: headers, credentials: "same-origin" };
  }
  function detail(json) {
    if (json.detail) { return json.detail; }
    return Object.keys(json).map(function (k) { return k + ": " + [].concat(json[k]).join(" "); }).join("；");
  }
  function send(item) {
    return fetch(item.url, request(item)).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        if (res.ok) { return drop(item.key).then(function () { sent(item, json); }); }
        if (res.status >= 400 && res.status < 500 && res.status !== 401 && res.status !== 403 && res.status !== 429) {
          item.error = detail(json);
          return put(item);  // refused as it is (bad data, changed meanwhile): kept for the user to see and remove
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

  // item: {kind, label, url, fields|json, photos?}; returns a promise once it is kept.
  function queue(item) {
    item.key = uuid();
    item.owner = OWNER;
    item.created = Date.now();
    item.photos = item.photos || [];
    return put(item).then(render).then(function () { sync(); return item; });
  }

  // --- signing out ------------------------------------------------------------
  // The pages the service worker kept (household pages, masked but personal) go;
  // the static shell and the unsent items stay (the items wait for their worker).
  function forgetPages() {
    if (!window.caches) { return Promise.resolve(); }
    var scope = new URL(script.dataset.scope, location.href).pathname;
    return caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n.indexOf("civicgrid-app-") === 0; }).map(function (n) {
        return caches.open(n).then(function (c) {
          return c.keys().then(function (reqs) {
            return Promise.all(reqs.filter(function (r) { return new URL(r.url).pathname.indexOf(scope) === 0; })
              .map(function (r) { return c.delete(r); }));
          });
        });
      }));
    }).catch(function () { return null; });
  }
  var signout = document.getElementById("app-signout");
  if (signout) {
    signout.addEventListener("submit", function (e) {
      e.preventDefault();
      sync().then(all).then(function (items) {
        var waiting = items.length;
        if (waiting && !window.confirm(signout.dataset.waiting.replace("{n}", waiting))) { return; }
        return forgetPages().then(function () { signout.submit(); });
      });
    });
  }

  window.civicgridOutbox = { queue: queue, sync: sync, render: render, items: all };
  window.civicgridSync = sync;

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
