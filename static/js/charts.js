/* On a narrow screen a chart scrolls sideways inside its own box: start it
   at the latest values (and the "now" line), where a clinician looks first. */
(function () {
  "use strict";
  function toLatest(root) {
    (root || document).querySelectorAll(".chart-scroll").forEach(function (box) {
      box.scrollLeft = box.scrollWidth;
    });
  }
  toLatest();
  document.body.addEventListener("htmx:afterSettle", function (e) { toLatest(e.target); });
})();
