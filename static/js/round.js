/* The round form: keep what is typed on the server as it is typed (which
   also counts as activity, so typing keeps the session), and bring an error
   summary or a saved result into view. */
(function () {
  "use strict";
  var summary = document.getElementById("error-summary") || document.getElementById("round-result");
  if (summary) { summary.focus(); window.scrollTo(0, 0); }

  var form = document.querySelector("form[data-autosave]");
  if (!form) { return; }
  var state = document.getElementById("autosave-state");
  var timer = null;
  var submitting = false;

  function save() {
    timer = null;
    if (submitting) { return; }
    var data = new FormData(form);
    fetch(form.dataset.autosave, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRFToken": data.get("csrfmiddlewaretoken"), Accept: "application/json" }
    }).then(function (r) {
      if (r.redirected || !r.ok) { throw new Error("not kept"); }
      return r.json();
    }).then(function (d) {
      if (state) { state.textContent = "Draft kept " + new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false }); }
      document.dispatchEvent(new CustomEvent("crs:session", { detail: d }));
    }).catch(function () {
      if (state) { state.textContent = "Draft not kept: check the connection"; }
    });
  }
  function typed() {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(save, 1500);
  }
  form.addEventListener("input", typed);
  form.addEventListener("change", typed);
  form.addEventListener("submit", function () {
    submitting = true;
    if (timer) { window.clearTimeout(timer); }
  });
})();
