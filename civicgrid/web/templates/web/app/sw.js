// Service worker of the grid worker app: keeps the app shell so that it opens
// without a network. Reports are not touched here: the page keeps them in
// IndexedDB and sends them itself (with their Idempotency-Key) when online.
var CACHE = "civicgrid-app-{{ version }}";
var SHELL = {{ shell|safe }};
self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); })
    .then(function () { return self.skipWaiting(); }));
});
self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf("civicgrid-app-") === 0 && k !== CACHE;
    }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});
self.addEventListener("fetch", function (e) {
  var req = e.request;
  if (req.method !== "GET") { return; }  // posts go straight to the network
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) { return; }
  if (req.mode === "navigate") {
    // The page: fresh when online (tasks change), the kept copy when offline.
    e.respondWith(fetch(req).then(function (res) {
      if (res.ok && !res.redirected) {
        var copy = res.clone();
        caches.open(CACHE).then(function (c) { c.put(SHELL[0], copy); });
      }
      return res;
    }).catch(function () { return caches.match(SHELL[0]); }));
    return;
  }
  if (SHELL.indexOf(url.pathname) >= 0) {
    e.respondWith(caches.match(req).then(function (hit) { return hit || fetch(req); }));
  }
});
