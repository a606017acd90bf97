/*
 * Import page: when a file is picked, preselect the format whose title matches the file's
 * extension (e.g. "books.xlsx" selects "xlsx"). Picking the format by hand still wins afterwards.
 */
(function () {
  "use strict";

  function extensionOf(fileName) {
    var dot = fileName.lastIndexOf(".");
    return dot < 0 ? "" : fileName.slice(dot + 1).trim().toLowerCase();
  }

  function selectFormatFor(fileInput) {
    if (!fileInput.files || fileInput.files.length === 0) {
      return;
    }
    var wanted = extensionOf(fileInput.files[0].name);
    var selects = fileInput.form.querySelectorAll("select.guess_format");
    Array.prototype.forEach.call(selects, function (select) {
      var match = Array.prototype.findIndex.call(select.options, function (option) {
        return option.text.trim().toLowerCase() === wanted;
      });
      select.selectedIndex = match < 0 ? 0 : match;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var inputs = document.querySelectorAll('input.guess_format[type="file"]');
    Array.prototype.forEach.call(inputs, function (input) {
      input.addEventListener("change", function () {
        selectFormatFor(input);
      });
    });
  });
})();
