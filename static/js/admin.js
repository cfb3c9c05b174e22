// The admin's pages (templates/admin/base_site.html): accessible names for the fields
// that Django's and select2's scripts build without one, and the import-export export
// screen's "select all" box without its inline handler (blocked by the CSP). Applied to
// the page, then to whatever the scripts add later (select2, inline rows, filters).
(function () {
  "use strict";

  // Django's filter_horizontal: a <span aria-label> (aria-label is not allowed on a span
  // without a role): an image with that name.
  function nameFilterIcons(root) {
    root.querySelectorAll(".help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  // The header of a tabular inline's column that holds this control, or null.
  function columnHeader(control) {
    var cell = control.closest("td");
    var table = cell && cell.closest("table");
    if (!table || !table.tHead) return null;
    var column = Array.prototype.find.call(cell.classList, function (name) {
      return name.indexOf("field-") === 0;
    });
    if (column) return table.tHead.querySelector("th.column-" + column.slice("field-".length));
    return cell.classList.contains("delete") ? table.tHead.rows[0].lastElementChild : null;
  }

  // The name of a control: its <label>, else (a tabular inline) the header of its column
  // and the row's object.
  function labelText(control) {
    var label = control.id && document.querySelector('label[for="' + control.id + '"]');
    if (label) return label.textContent.replace(/\s*:\s*$/, "").trim();
    var header = columnHeader(control);
    if (!header) return "";
    var original = control.closest("tr").querySelector("td.original p");
    var row = original && original.firstChild ? original.firstChild.textContent.trim() : "";
    return header.textContent.trim() + (row ? " — " + row : "");
  }

  // The controls of a tabular inline have no <label>: the column's header names them.
  function nameTabularControls(root) {
    root.querySelectorAll(".tabular td input, .tabular td select, .tabular td textarea")
      .forEach(function (control) {
        if (control.type === "hidden" || control.hasAttribute("aria-label")) return;
        if (control.labels && control.labels.length) return;
        var text = labelText(control);
        if (text) control.setAttribute("aria-label", text);
      });
  }

  // select2 (autocomplete_fields): its combobox is named by the field's label; the box
  // that shows the choice is no text box (select2 4.0 gives it role="textbox").
  function nameAutocompletes(root) {
    root.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var container = select.nextElementSibling;
      if (!container || !container.classList.contains("select2")) return;
      container.querySelectorAll('.select2-selection__rendered[role="textbox"]')
        .forEach(function (rendered) {
          rendered.removeAttribute("role");
          rendered.removeAttribute("aria-readonly");
        });
      var label =
        (select.id && document.querySelector('label[for="' + select.id + '"]')) ||
        columnHeader(select);
      if (!label) return;
      if (!label.id) label.id = (select.id || "select") + "_libelle";
      container.querySelectorAll('[role="combobox"]').forEach(function (combobox) {
        var rendered = combobox.getAttribute("aria-labelledby") || "";
        if (rendered.split(" ").indexOf(label.id) === -1) {
          combobox.setAttribute("aria-labelledby", (label.id + " " + rendered).trim());
        }
      });
    });
  }

  // A split date and time (AdminSplitDateTime): "Date :" and "Heure :" are bare text.
  function nameSplitDateTimes(root) {
    root.querySelectorAll("p.datetime").forEach(function (paragraph) {
      var inputs = paragraph.querySelectorAll("input:not([type=hidden])");
      var row = paragraph.closest(".form-row, .fieldBox, td");
      var label = row && row.querySelector("label");
      var field = label ? label.textContent.replace(/\s*:\s*$/, "").trim() : "";
      ["date", "heure"].forEach(function (part, index) {
        var input = inputs[index];
        if (input && !input.hasAttribute("aria-label")) {
          input.setAttribute("aria-label", (field ? field + " — " : "") + part);
        }
      });
    });
  }

  // import-export's export screen: its "select all" box (templates/admin/import_export/
  // export.html) ticks or unticks every field.
  function bindSelectAll(root) {
    root.querySelectorAll("input.select-toggle:not([data-lie])").forEach(function (box) {
      box.setAttribute("data-lie", "");
      box.addEventListener("change", function () {
        document
          .querySelectorAll('.selectable-field-export-row input[type="checkbox"]')
          .forEach(function (checkbox) {
            checkbox.checked = box.checked;
          });
      });
    });
  }

  function fix(root) {
    nameFilterIcons(root);
    nameTabularControls(root);
    nameAutocompletes(root);
    nameSplitDateTimes(root);
    bindSelectAll(root);
  }

  function start() {
    fix(document);
    new MutationObserver(function () {
      fix(document);
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  window.addEventListener("load", function () {
    fix(document);
  });
})();
