// Progressive enhancements only: every page works without this file.
(function () {
  "use strict";

  // The intake form's net weight, shown as the clerk types.
  function showNet(form) {
    var gross = parseFloat(form.querySelector("[name=gross_weight_kg]").value);
    var tare = parseFloat(form.querySelector("[name=tare_weight_kg]").value);
    var out = form.querySelector("#net-weight");
    if (isNaN(gross) || isNaN(tare)) {
      out.textContent = "–";
    } else {
      var net = Math.round((gross - tare) * 100) / 100;
      out.textContent = net.toFixed(2) + " kg" + (net <= 0 ? " (check the weights)" : "");
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
