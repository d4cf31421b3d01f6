// Service worker of the grid worker app: keeps the app shell and the pages of the
// app the worker opened (the household pages too) so that they open without a
// network. Reports, visits and collections are not touched here: the page keeps them
// in IndexedDB and sends them itself (with their Idempotency-Key) when online.
var CACHE = "civicgrid-app-{{ version }}";
var SHELL = {{ shell|safe }};
var PAGES = {{ pages|safe }};
var WARM_MAX = 100;
self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) {
    return c.addAll(SHELL).then(function () {
      // Pages beyond the shell are a help, not a condition of installing.
      return Promise.all(PAGES.map(function (p) { return c.add(p).catch(function () { return null; }); }));
    });
  }).then(function () { return self.skipWaiting(); }));
});
self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf("civicgrid-app-") === 0 && k !== CACHE;
    }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});
function keep(req, res) {
  if (res.ok && !res.redirected) {
    var copy = res.clone();
    return caches.open(CACHE).then(function (c) { return c.put(req, copy); }).then(function () { return res; });
  }
  return Promise.resolve(res);
}
// The pages of the app (personal, if masked); the static shell stays.
function forgetPages() {
  return caches.open(CACHE).then(function (c) {
    return c.keys().then(function (reqs) {
      return Promise.all(reqs.filter(function (r) {
        return new URL(r.url).pathname.indexOf(SHELL[0]) === 0;
      }).map(function (r) { return c.delete(r); }));
    });
  });
}
self.addEventListener("fetch", function (e) {
  var req = e.request;
  if (req.method !== "GET") { return; }  // posts go straight to the network
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) { return; }
  if (req.mode === "navigate" && url.pathname.indexOf(SHELL[0]) === 0) {
    // A page of the app: fresh when online (tasks change), the kept copy when
    // offline (the same address, or the same page without its query, or the home).
    e.respondWith(fetch(req).then(function (res) {
      // Sent to the sign-in page (signed out, session over): the kept pages go too.
      if (res.redirected && new URL(res.url).pathname.indexOf("/login/") >= 0) {
        return forgetPages().then(function () { return res; });
      }
      return keep(req, res);
    }).catch(function () {
      return caches.match(req).then(function (hit) {
        return hit || caches.match(req, { ignoreSearch: true });
      }).then(function (hit) { return hit || caches.match(SHELL[0]); });
    }));
    return;
  }
  if (SHELL.indexOf(url.pathname) >= 0) {
    e.respondWith(caches.match(req).then(function (hit) { return hit || fetch(req); }));
  }
});
// The households list asks to keep the pages of its households (those not kept yet).
self.addEventListener("message", function (e) {
  var urls = (e.data && e.data.warm) || [];
  e.waitUntil(caches.open(CACHE).then(function (c) {
    return urls.slice(0, WARM_MAX).reduce(function (p, u) {
      return p.then(function () {
        return c.match(u).then(function (hit) {
          if (hit) { return null; }
          return fetch(u, { credentials: "same-origin" }).then(function (res) {
            if (res.ok && !res.redirected) { return c.put(u, res); }
            return null;
          }).catch(function () { return null; });
        });
      });
    }, Promise.resolve());
  }));
});
