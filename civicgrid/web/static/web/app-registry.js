// Grid worker app, households: the visit form and the information collection forms
// (a new household, or an update of one with its members). Each saves to the outbox
// (app-outbox.js): sent now when online, else kept on the phone and sent, once, with
// its Idempotency-Key when the network returns. The list page also asks the service
// worker to keep the household pages so that they open without a network.
(function () {
  "use strict";
  var outbox = window.civicgridOutbox;
  var W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], C = "10X98765432";
  var PHONE = /^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$/;

  // GB 11643: caught on the phone, so a typo is fixed while the person is there.
  function idValid(v) {
    if (!/^\d{17}[\dX]$/.test(v)) { return false; }
    var s = 0;
    for (var i = 0; i < 17; i++) { s += Number(v[i]) * W[i]; }
    return C[s % 11] === v[17];
  }
  function fail(form, message, input) {
    var error = form.querySelector(".app-error");
    error.hidden = false; error.textContent = message;
    if (input) { input.focus(); }
    return null;
  }
  function value(form, name) {
    var el = form.elements[name];
    return el ? String(el.value || "").trim() : "";
  }
  function checked(form, name) {
    return Array.prototype.filter.call(form.querySelectorAll("input[name=" + name + "]"), function (c) { return c.checked; })
      .map(function (c) { return c.value; });
  }

  // The member being added, or null when the name is empty; false when it is wrong.
  function newPerson(form) {
    var name = value(form, "p_name");
    if (!name) { return null; }
    var id = value(form, "p_id_number").toUpperCase(), phone = value(form, "p_phone");
    if (id && !idValid(id)) { return fail(form, form.dataset.badId || "身份证号码校验位不正确", form.elements.p_id_number) || false; }
    if (phone && !PHONE.test(phone)) { return fail(form, "电话号码格式不正确", form.elements.p_phone) || false; }
    return {
      name: name, id_number: id, phone: phone, relation: value(form, "p_relation"),
      residence: value(form, "p_residence"), groups: checked(form, "p_groups")
    };
  }

  function done(form) {
    form.reset();
    form.querySelector(".app-error").hidden = true;
    var pos = form.querySelector(".app-position");
    if (pos) { pos.textContent = ""; }
  }

  // --- a visit --------------------------------------------------------------------
  var visit = document.getElementById("app-visit");
  if (visit) {
    visit.addEventListener("submit", function (e) {
      e.preventDefault();
      var follow = visit.elements.follow_up.checked;
      var notes = value(visit, "notes"), title = value(visit, "follow_up_title");
      if (follow && !notes && !title) {
        return fail(visit, "需要跟进时请写明发现的问题", visit.elements.notes);
      }
      var files = Array.prototype.slice.call(visit.elements.photos.files || []);
      var kindEl = visit.elements.kind;
      outbox.queue({
        kind: "visit",
        label: kindEl.options[kindEl.selectedIndex].text + "：" + document.querySelector("#app-household h2").textContent,
        url: visit.dataset.api,
        fields: {
          household: value(visit, "household"), kind: kindEl.value, notes: notes,
          lon: value(visit, "lon"), lat: value(visit, "lat"),
          follow_up: follow ? "true" : "false", follow_up_title: title,
          visited_at: new Date().toISOString()  // when it happened, not when it is sent
        },
        photos: files.map(function (f) { return { name: f.name, type: f.type, blob: f }; })
      }).then(function () { done(visit); visit.elements.lon.value = ""; visit.elements.lat.value = ""; });
    });
  }

  // --- information collection: an update of this household ------------------------
  var collect = document.getElementById("app-collect");
  if (collect) {
    collect.addEventListener("submit", function (e) {
      e.preventDefault();
      var address = value(collect, "address");
      if (!address) { return fail(collect, "请填写住址", collect.elements.address); }
      var person = newPerson(collect);
      if (person === false) { return; }
      var persons = checked(collect, "moved_out").map(function (id) { return { id: Number(id), active: false }; });
      if (person) { persons.push(person); }
      var household = Number(value(collect, "household"));
      nextVersion(household).then(function (version) {
        return outbox.queue({
          kind: "collect",
          label: "信息采集：" + document.querySelector("#app-household h2").textContent,
          url: collect.dataset.api,
          json: {
            household: household, version: version, address: address,
            kind: value(collect, "kind"), note: value(collect, "note"), persons: persons,
            collected_at: new Date().toISOString()
          }
        });
      }).then(function () {
        var kind = collect.elements.kind.value, note = collect.elements.note.value;
        done(collect);
        collect.elements.kind.value = kind; collect.elements.note.value = note;
        collect.elements.address.value = address;
      });
    });
  }

  // --- the version an edit is made on ---------------------------------------------
  // Every collection moves the household one version on. Edits saved one after the
  // other (offline, or before the first is answered) are sent in order, so each is
  // made on the version the ones before it leave: the page's, plus one per edit of
  // this household still waiting. One refused (someone else changed the household)
  // refuses those after it: the worker sees them and enters them again.
  var section = document.getElementById("app-household");
  function nextVersion(household) {
    var version = Number(section.dataset.version);
    return outbox.items().then(function (items) {
      items.forEach(function (it) {
        if (!it.error && it.json && it.json.household === household && typeof it.json.version === "number") {
          version = Math.max(version, it.json.version + 1);
        }
      });
      return version;
    });
  }
  document.addEventListener("civicgrid:sent", function (e) {
    var home = e.detail.body && e.detail.body.household;
    if (!section || !home || home.id !== Number(section.dataset.household)) { return; }
    if (home.version > Number(section.dataset.version)) {
      section.dataset.version = home.version;
      if (collect) { collect.elements.version.value = home.version; }
      section.querySelector("h2").textContent = home.address;
    }
    (home.persons || []).forEach(function (p) {
      var li = document.querySelector("#app-members li[data-person='" + p.id + "']");
      if (!li) { return; }
      li.querySelector(".app-member-name").textContent = p.name;
      li.classList.toggle("app-gone", !p.active);
    });
  });

  // --- a member's details ------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll(".app-member-edit"), function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      form.querySelector(".app-error").hidden = true;
      var id = value(form, "p_id_number").toUpperCase(), phone = value(form, "p_phone");
      if (id && !idValid(id)) { return fail(form, "身份证号码校验位不正确", form.elements.p_id_number); }
      if (phone && !PHONE.test(phone)) { return fail(form, "电话号码格式不正确", form.elements.p_phone); }
      var person = {
        id: Number(form.dataset.person), relation: value(form, "p_relation"),
        residence: value(form, "p_residence"), groups: checked(form, "p_groups"),
        active: !form.elements.moved_out.checked
      };
      // Empty means unchanged: the page holds masked values only.
      if (value(form, "p_name")) { person.name = value(form, "p_name"); }
      if (phone) { person.phone = phone; }
      if (id) { person.id_number = id; }
      var household = Number(section.dataset.household);
      nextVersion(household).then(function (version) {
        return outbox.queue({
          kind: "collect",
          label: "修改人员：" + (person.name || form.dataset.label),
          url: form.dataset.api,
          json: { household: household, version: version, persons: [person], collected_at: new Date().toISOString() }
        });
      }).then(function () {
        ["p_name", "p_phone", "p_id_number"].forEach(function (n) { form.elements[n].value = ""; });
        form.closest("details").open = false;
      });
    });
  });

  // --- information collection: a new household ------------------------------------
  var add = document.getElementById("app-new-household");
  if (add) {
    add.addEventListener("submit", function (e) {
      e.preventDefault();
      var address = value(add, "address");
      if (!address) { return fail(add, "请填写住址", add.elements.address); }
      var person = newPerson(add);
      if (person === false) { return; }
      outbox.queue({
        kind: "collect", label: "登记住户：" + address, url: add.dataset.api,
        json: {
          grid: value(add, "grid"), address: address, kind: value(add, "kind"),
          persons: person ? [person] : [], collected_at: new Date().toISOString()
        }
      }).then(function () { done(add); });
    });
  }

  // --- position -------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll(".app-gps"), function (button) {
    button.addEventListener("click", function () {
      var form = document.getElementById(button.dataset.for);
      if (!navigator.geolocation) { return; }
      navigator.geolocation.getCurrentPosition(function (p) {
        form.elements.lon.value = p.coords.longitude.toFixed(6);
        form.elements.lat.value = p.coords.latitude.toFixed(6);
        form.querySelector(".app-position").textContent = "GPS " + p.coords.longitude.toFixed(5) + ", " + p.coords.latitude.toFixed(5);
      }, function (err) { fail(form, "无法获取位置：" + err.message); },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  });

  // --- a member's phone number, unmasked on demand (a reason, audited; online) -------
  var reveal = document.getElementById("app-reveal");
  Array.prototype.forEach.call(document.querySelectorAll(".app-reveal"), function (button) {
    button.addEventListener("click", function () {
      var reason = document.getElementById("app-reveal-reason");
      var headers = { "Content-Type": "application/json", "Accept": "application/json" };
      var token = document.querySelector("[name=csrfmiddlewaretoken]");
      if (token) { headers["X-CSRFToken"] = token.value; }
      fetch(reveal.dataset.api, {
        method: "POST", credentials: "same-origin", headers: headers, cache: "no-store",
        body: JSON.stringify({ object: "registry.person", id: button.dataset.person, field: "phone", reason: reason.value })
      }).then(function (res) {
        return res.json().then(function (json) {
          var span = document.querySelector(".app-phone[data-person='" + button.dataset.person + "']");
          if (res.ok) { span.textContent = json.value; button.remove(); return; }
          reason.focus();
          span.title = json.reason || json.detail || "";
          reason.setCustomValidity(span.title); reason.reportValidity(); reason.setCustomValidity("");
        });
      }).catch(function () { reason.setCustomValidity("需要联网"); reason.reportValidity(); reason.setCustomValidity(""); });
    });
  });

  // --- keep the household pages for offline use ------------------------------------
  var links = document.querySelectorAll("#app-households a[data-household]");
  if (links.length && navigator.onLine && "serviceWorker" in navigator) {
    navigator.serviceWorker.ready.then(function (reg) {
      var urls = Array.prototype.map.call(links, function (a) { return a.getAttribute("href"); });
      if (reg.active) { reg.active.postMessage({ warm: urls }); }
    });
  }
})();
