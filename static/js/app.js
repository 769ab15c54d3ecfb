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

// Filter bars (data-auto-submit): a ticked chip or a picked option applies at once, as the Filter button does.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (!form || !form.hasAttribute("data-auto-submit")) { return; }
    if (event.target.type === "checkbox" || event.target.tagName === "SELECT") {
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    }
  });
})();

// An htmx request that fails would otherwise change nothing on the page: say so, where messages go.
(function () {
  "use strict";
  var REASONS = {
    403: "Your role does not allow this.",
    404: "That was not found; it may have been removed. Reload the page.",
    405: "That action is not possible here. Reload the page.",
    409: "Someone else changed this meanwhile. Reload the page to see the latest.",
    413: "That was too large to send.",
    429: "Too many requests; wait a moment and try again."
  };

  function show(text) {
    var main = document.getElementById("main") || document.body;
    var box = document.getElementById("request-error");
    if (!box) {
      box = document.createElement("p");
      box.id = "request-error";
      box.className = "message error";
      box.setAttribute("role", "alert");
      box.setAttribute("data-testid", "request-error");
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = text;
  }

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var reason = REASONS[status] || "Something went wrong on our side (error " + status + "). Nothing was half-saved; try again.";
    show(reason);
  });
  document.addEventListener("htmx:sendError", function () {
    show("The server could not be reached. Check the connection and try again.");
  });
  document.addEventListener("htmx:timeout", function () {
    show("The server took too long to answer. Try again.");
  });
  // A later request that works clears the message.
  document.addEventListener("htmx:afterRequest", function (event) {
    var box = document.getElementById("request-error");
    if (box && event.detail.successful) { box.remove(); }
  });
})();
