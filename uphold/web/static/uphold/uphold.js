// Uphold's only script. Pages work without it; it adds the quick exit by keyboard and
// makes "Leave quickly" replace this page in the history, so Back does not return here.
(function () {
  "use strict";

  function leave(form) {
    try {
      navigator.sendBeacon(form.action, new FormData(form));
    } catch (error) {
      // The neutral page matters more than ending the session; the session also times out.
    }
    window.location.replace(form.getAttribute("data-leave-url"));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form.leave")) {
      event.preventDefault();
      leave(form);
    }
  });

  var lastEscape = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var now = Date.now();
    var form = document.querySelector("form.leave");
    if (form && now - lastEscape < 800) {
      leave(form);
    }
    lastEscape = now;
  });
})();
