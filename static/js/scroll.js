/* A wide table or chart scrolls inside its own box on a narrow screen (see
   app.css); a box that does scroll takes keyboard focus so it can be scrolled
   with the arrow keys, and loses it again when the screen is wide enough. */
(function () {
  "use strict";
  var BOXES = "main table, .response-chart, .chart-scroll, .heat-wrap";
  function mark(root) {
    (root || document).querySelectorAll(BOXES).forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        if (!box.hasAttribute("tabindex")) { box.setAttribute("tabindex", "0"); box.dataset.scrollFocus = "1"; }
      } else if (box.dataset.scrollFocus) {
        box.removeAttribute("tabindex"); delete box.dataset.scrollFocus;
      }
    });
  }
  mark();
  window.addEventListener("resize", function () { mark(); });
  document.body.addEventListener("htmx:afterSettle", function () { mark(); });
})();
