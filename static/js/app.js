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

  // A form posted after the session ended, filled in again after the login (core/stash.py).
  function restoreStashedForm() {
    var source = document.getElementById("stashed-form");
    if (!source) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var names = Object.keys(data);
    var form = Array.prototype.find.call(document.querySelectorAll("main form[method=post]"), function (candidate) {
      return names.some(function (name) { return candidate.elements.namedItem(name); });
    });
    if (!form) {
      return;
    }
    names.forEach(function (name) {
      var values = data[name];
      Array.prototype.forEach.call(form.querySelectorAll("[name='" + CSS.escape(name) + "']"), function (field) {
        if (field.type === "checkbox" || field.type === "radio") {
          field.checked = values.indexOf(field.value) !== -1;
        } else if (field.multiple) {
          Array.prototype.forEach.call(field.options, function (option) { option.selected = values.indexOf(option.value) !== -1; });
        } else if (field.type !== "file") {
          field.value = values[0];
        }
        field.dispatchEvent(new Event("input", {bubbles: true}));
      });
    });
    var notice = document.querySelector("[data-stashed-notice]");
    if (notice) {
      notice.hidden = false;
    }
  }

  // Pickers (a text box with a <datalist>) have autocomplete="off" so the browser's own suggestions do not
  // cover the list; that also stops Back from restoring what was typed. Kept per page for this tab, and put
  // back only when the page is reached by Back or Forward, never on a fresh visit.
  function keepPickerValues() {
    var navigation = window.performance && performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    var returning = navigation && navigation.type === "back_forward";
    document.querySelectorAll("main form input[list][name]").forEach(function (input) {
      var key = "picker:" + location.pathname + ":" + input.name;
      try {
        if (returning && !input.value && sessionStorage.getItem(key)) {
          input.value = sessionStorage.getItem(key);
          input.dispatchEvent(new Event("input", {bubbles: true}));
        }
        input.addEventListener("input", function () { sessionStorage.setItem(key, input.value); });
      } catch (error) {
        // Storage refused (private mode, quota): Back behaves as it did.
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // A form that came back with errors: its summary takes the focus, so a screen reader reads it and
    // nobody hunts below the fold. Its links move the focus to the field.
    // Scan pages keep the focus in their scan field (autofocus): the next scan must land there.
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      if (!document.querySelector("[autofocus]")) {
        summary.focus();
      }
      summary.addEventListener("click", function (event) {
        var link = event.target.closest("a[href^='#']");
        var field = link && document.getElementById(link.getAttribute("href").slice(1));
        if (field) {
          event.preventDefault();
          field.scrollIntoView({block: "center"});
          field.focus();
        }
      });
    }
    restoreStashedForm();
    keepPickerValues();
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
