// The QC form's defect percentages, shown as the inspector types. The server works them out again;
// this is only a help while counting.
(function () {
  "use strict";

  function whole(input) {
    var text = (input.value || "").trim();
    return /^\d+$/.test(text) ? parseInt(text, 10) : null;
  }

  function percent(count, sample) {
    return (Math.round(count * 1000 / sample) / 10).toFixed(1) + "%";
  }

  function update(form) {
    var sample = whole(form.querySelector("[data-qc-sample]"));
    var total = 0;
    form.querySelectorAll("[data-qc-count]").forEach(function (input) {
      var out = input.parentElement.querySelector("[data-qc-percent]");
      var count = whole(input);
      if (!out) { return; }
      if (!sample || count === null) {
        out.textContent = "";
      } else {
        total += count;
        out.textContent = percent(count, sample) + (count > sample ? " (more than the sample)" : "");
      }
    });
    var shown = form.querySelector("[data-qc-total]");
    if (shown) {
      // A fruit may show two defects, so the sum may pass 100%: it is the defects per 100 fruit.
      shown.textContent = sample ? percent(total, sample) : "–";
    }
  }

  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-qc-form")) { update(form); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-qc-form]").forEach(update);
  });
})();
