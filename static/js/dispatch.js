// The load's scan box: a scanner types the SSCC and presses Enter, which submits the form; after the
// page comes back the box has the focus again, so the next pallet is scanned without a click. A scanner
// that sends the AI "00" in front is trimmed here too (the server trims it anyway). Without this file the
// form works the same, one click more.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-scan-load]");
    if (!form) { return; }
    var sscc = form.querySelector("[name=sscc]");
    form.addEventListener("submit", function () {
      var value = sscc.value.replace(/\s+/g, "");
      if (value.length === 20 && value.indexOf("00") === 0) { value = value.slice(2); }
      sscc.value = value;
    });
    sscc.focus();
    sscc.select();
  });
})();
