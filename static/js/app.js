// Progressive enhancements only: every page works without this file.
(function () {
  "use strict";

  // A number as typed, read as core/numbers.py reads it: one comma or point is the decimal mark; spaces group.
  // Anything it does not read plainly is NaN here and the server says what it understood.
  function typedNumber(text) {
    var compact = (text || "").replace(/[\s\u00a0\u202f]/g, "");
    if (!/^[+-]?[0-9]*[.,]?[0-9]+$/.test(compact)) { return NaN; }
    return parseFloat(compact.replace(",", "."));
  }

  // The intake form's net weight, shown as the clerk types, in the company's number format.
  function showNet(form) {
    var gross = typedNumber(form.querySelector("[name=gross_weight_kg]").value);
    var tare = typedNumber(form.querySelector("[name=tare_weight_kg]").value);
    var out = form.querySelector("#net-weight");
    if (isNaN(gross) || isNaN(tare)) {
      out.textContent = "–";
    } else {
      var net = Math.round((gross - tare) * 100) / 100;
      var shown;
      try {
        shown = net.toLocaleString(out.dataset.locale || "en-ZA", {minimumFractionDigits: 2, maximumFractionDigits: 2});
      } catch (error) {
        shown = net.toFixed(2);
      }
      out.textContent = shown + " kg" + (net <= 0 ? " (check the weights)" : "");
    }
  }

  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && form.querySelector("#net-weight")) {
      showNet(form);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form #net-weight").forEach(function (out) { showNet(out.form || out.closest("form")); });
    // Print buttons on the docket.
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
