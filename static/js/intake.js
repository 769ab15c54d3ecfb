// The intake form's block picker and bin scanner. Progressive: without this file the block is typed as
// "farm/block" and the bins as one code per line in the textarea, and the server checks both.
(function () {
  "use strict";

  // --- The picked block's grower, farm, fruit and variety, from the suggestion the clerk chose. ---

  function showBlock(input) {
    var list = input.list;
    var value = input.value.trim().toUpperCase();
    var option = null;
    if (list) {
      list.querySelectorAll("option").forEach(function (candidate) {
        if (candidate.value.toUpperCase() === value) { option = candidate; }
      });
    }
    if (!option) {
      return;  // still typing, or a block the server will look up: keep what is shown
    }
    var facts = document.getElementById("block-facts");
    ["grower", "farm", "fruit", "variety"].forEach(function (name) {
      var cell = facts && facts.querySelector("[data-block-fact=" + name + "]");
      if (cell) { cell.textContent = option.dataset[name] || "–"; }
    });
  }

  // --- Bin scanning: a scanner types a code and presses Enter. ---

  function codesOf(text) {
    return text.split(/[\s,;]+/).map(function (code) { return code.trim().toUpperCase(); })
      .filter(function (code) { return code; });
  }

  function setUpScanner(textarea) {
    var form = textarea.form;
    var count = form.querySelector("[name=bin_count]");
    var codes = codesOf(textarea.value);

    // The scan box takes the textarea's place (its id, so its label and help still point at it); the codes go
    // to the server in a hidden field of the same name, one per line, as the textarea would have sent them.
    var scan = document.createElement("input");
    scan.type = "text";
    scan.autocomplete = "off";
    scan.spellcheck = false;
    scan.setAttribute("enterkeyhint", "enter");
    var described = textarea.getAttribute("aria-describedby");
    if (described) { scan.setAttribute("aria-describedby", described); }
    var store = document.createElement("input");
    store.type = "hidden";
    store.name = textarea.name;

    var warning = document.createElement("p");
    warning.className = "field-errors";
    warning.setAttribute("role", "alert");
    warning.dataset.binWarning = "";
    var tally = document.createElement("p");
    tally.className = "help";
    tally.setAttribute("aria-live", "polite");
    tally.dataset.binTally = "";
    var list = document.createElement("ul");
    list.className = "bin-list";
    list.setAttribute("aria-label", "Scanned bins");

    var id = textarea.id;
    textarea.replaceWith(scan);
    scan.id = id;
    scan.after(store, warning, tally, list);

    function render() {
      store.value = codes.join("\n");
      list.replaceChildren.apply(list, codes.map(function (code) {
        var item = document.createElement("li");
        item.textContent = code;
        var remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "×";
        remove.setAttribute("aria-label", "Remove bin " + code);
        remove.addEventListener("click", function () {
          codes = codes.filter(function (other) { return other !== code; });
          warning.textContent = "";
          render();
          scan.focus();
        });
        item.append(remove);
        return item;
      }));
      tally.textContent = codes.length === 1 ? "1 bin scanned" : codes.length + " bins scanned";
      if (count) {
        // The bin count follows the scanned codes; with none scanned, the clerk types it.
        if (codes.length) { count.value = codes.length; }
        count.readOnly = codes.length > 0;
      }
    }

    function add() {
      var fresh = codesOf(scan.value);
      scan.value = "";
      var twice = [];
      fresh.forEach(function (code) {
        if (codes.indexOf(code) >= 0) { twice.push(code); } else { codes.push(code); }
      });
      warning.textContent = twice.length ? "Already scanned: " + twice.join(", ") + "." : "";
      render();
    }

    scan.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();  // Enter ends a scan; it must not submit the form
        add();
      }
    });
    // A code typed but not yet entered still counts when the form is sent.
    form.addEventListener("submit", function () { if (scan.value.trim()) { add(); } });
    render();
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-block-picker]")) { showBlock(event.target); }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id === "block-options") {
      document.querySelectorAll("[data-block-picker]").forEach(showBlock);
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-bin-scanner]").forEach(setUpScanner);
  });
})();
