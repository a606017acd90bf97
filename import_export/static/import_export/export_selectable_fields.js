/*
 * Export page with selectable fields: every resource has its own set of field checkboxes;
 * only the set of the chosen resource is shown. A "select all" box ticks or clears them.
 */
(function () {
  "use strict";

  function fieldRows() {
    return document.querySelectorAll(".selectable-field-export-row[resource-index]");
  }

  function showFieldsOf(resourceIndex) {
    Array.prototype.forEach.call(fieldRows(), function (row) {
      var own = row.getAttribute("resource-index") === String(resourceIndex);
      row.style.display = own ? "" : "none";
    });
  }

  function setAllVisibleCheckboxes(checked) {
    Array.prototype.forEach.call(fieldRows(), function (row) {
      if (row.style.display === "none") {
        return;
      }
      var box = row.querySelector('input[type="checkbox"]:not(.select-toggle)');
      if (box) {
        box.checked = checked;
      }
    });
  }

  // Kept global: the template's toggle calls it from an inline handler.
  window.onSelectToggleChange = function (event) {
    setAllVisibleCheckboxes(event.target.checked);
  };

  document.addEventListener("DOMContentLoaded", function () {
    var chooser = document.getElementById("id_resource");
    if (!chooser) {
      return;
    }
    var current = chooser.tagName === "SELECT" ? chooser.value || "0" : "0";
    showFieldsOf(current);
    chooser.addEventListener("change", function () {
      showFieldsOf(chooser.value || "0");
    });
  });
})();
