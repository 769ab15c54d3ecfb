// The scan-to-move form: a scanner types the SSCC and presses Enter; that moves the focus to the
// room field instead of submitting, and the room's Enter submits. Without this file both fields
// are filled by hand and the button submits.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-scan-move]");
    if (!form) { return; }
    var sscc = form.querySelector("[name=sscc]");
    var room = form.querySelector("[name=room]");
    sscc.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        room.focus();
        room.select();
      }
    });
    if (!sscc.value) { sscc.focus(); } else if (!room.value) { room.focus(); }
  });
})();
