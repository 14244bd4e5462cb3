// The live hint beside a new-password field: asks POST /api/v1/password/check (the
// policy's local checks, for the signed-in user) a moment after typing stops, and shows
// the reason. The form works without it: the server checks again on submit.
(function () {
  "use strict";
  var field = document.getElementById("new");
  var hint = document.getElementById("new-hint");
  if (!field || !hint) { return; }
  var lang = document.documentElement.lang === "fr" ? "fr" : "en";
  var timer = null;
  var asked = 0;
  function check() {
    var password = field.value;
    var ticket = ++asked;
    if (password === "") { hint.textContent = ""; return; }
    fetch("/api/v1/password/check", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ password: password, lang: lang })
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (v) {
      if (!v || ticket !== asked) { return; }
      hint.textContent = v.acceptable ? "" : v.message;
      field.setCustomValidity(v.acceptable ? "" : v.message);
    }).catch(function () { /* the server decides on submit */ });
  }
  field.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
})();
