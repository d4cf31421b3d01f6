// Choosing a city looks it up at once (an inline handler would be refused by the
// Content-Security-Policy, which allows scripts from our own files only).
(function () {
  "use strict";
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
})();
