/* Warn before an idle session ends, offer to stay signed in, and leave no
   patient data on screen once it has ended. The server decides: this only
   asks it how long is left (asking is not activity) near the end. */
(function () {
  "use strict";
  var body = document.body;
  var idle = Number(body.dataset.idleSeconds || 0);
  if (!idle) { return; }
  var warnAt = Math.min(120, Math.floor(idle / 3));
  var deadline = Date.now() + idle * 1000;
  var lastAsked = 0;
  var ending = false;
  var dialog = document.getElementById("idle-warning");
  var countdown = document.getElementById("idle-countdown");
  var stay = document.getElementById("idle-stay");

  function csrfToken() {
    try { return JSON.parse(body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }
  function setLeft(seconds) { deadline = Date.now() + seconds * 1000; }
  function ask(then) {
    lastAsked = Date.now();
    fetch(body.dataset.sessionStatus, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok && !r.redirected ? r.json() : { seconds_left: 0 }; })
      .then(function (d) { setLeft(d.seconds_left); if (then) { then(d.seconds_left); } })
      .catch(function () {});
  }
  function stayIn() {
    fetch(body.dataset.sessionKeepalive, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" }
    }).then(function (r) { return r.ok && !r.redirected ? r.json() : null; })
      .then(function (d) {
        if (d) { setLeft(d.seconds_left); close(); } else { signedOut(); }
      }).catch(function () {});
  }
  function close() { if (dialog.open) { dialog.close(); } }
  function signedOut() {
    // Off the page, so the patient's details leave the screen of a shared
    // PC; back to it after signing in (a round being typed was kept).
    var here = window.location.pathname + window.location.search;
    window.location.assign(body.dataset.login + "?timed_out=1&next=" + encodeURIComponent(here));
  }
  function words(seconds) {
    if (seconds >= 60) {
      var m = Math.ceil(seconds / 60);
      return m + " minute" + (m === 1 ? "" : "s");
    }
    return seconds + " second" + (seconds === 1 ? "" : "s");
  }
  stay.addEventListener("click", stayIn);
  dialog.addEventListener("cancel", function (e) { e.preventDefault(); stayIn(); });
  // Other scripts (the round form's draft) report activity the server saw.
  document.addEventListener("crs:session", function (e) { setLeft(e.detail.seconds_left); close(); });
  window.setInterval(function () {
    var left = Math.round((deadline - Date.now()) / 1000);
    if (left <= 0) {
      if (!ending) {
        ending = true;
        ask(function (seconds) { ending = false; if (seconds <= 0) { signedOut(); } });
      }
      return;
    }
    if (left <= warnAt) {
      // Another tab may have been busy: check before warning, then every 20 s.
      if (Date.now() - lastAsked > 20000) { ask(); }
      countdown.textContent = words(left);
      if (!dialog.open) { dialog.showModal(); stay.focus(); }
    } else {
      close();
    }
  }, 1000);
})();
