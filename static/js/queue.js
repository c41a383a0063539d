/* Say so when the queue's self-refresh fails, instead of showing an old
   list as if it were current; clear the warning when a refresh works. */
(function () {
  "use strict";
  var warning = document.getElementById("refresh-failed");
  if (!warning) { return; }
  function failed(e) {
    if (e.target && e.target.id === "queue-rows") { warning.hidden = false; }
  }
  document.body.addEventListener("htmx:sendError", failed);
  document.body.addEventListener("htmx:timeout", failed);
  // Fires before the old list is replaced, for good and bad answers alike.
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    if (e.target && e.target.id === "queue-rows") { warning.hidden = !e.detail.isError; }
  });
})();
