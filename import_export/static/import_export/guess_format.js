/*
 * Import page: when a file is chosen, pick the format matching its extension.
 *
 * The format options are labelled with the format's title ("csv", "xlsx", ...), which is also the
 * usual file extension, so "books.XLSX" selects "xlsx". Nothing changes when no option matches,
 * which leaves a format the user chose by hand alone. Plain DOM code: the script also runs on
 * pages without jQuery.
 */
(function () {
  "use strict";

  function extensionOf(fileName) {
    var dot = fileName.lastIndexOf(".");
    return dot === -1 ? "" : fileName.slice(dot + 1).toLowerCase();
  }

  function selectFormatFor(fileInput, formatSelect) {
    var file = fileInput.files && fileInput.files[0];
    var extension = extensionOf(file ? file.name : fileInput.value);
    if (!extension) {
      return;
    }
    var options = formatSelect.options;
    for (var i = 0; i < options.length; i++) {
      if (options[i].text.trim().toLowerCase() === extension) {
        formatSelect.selectedIndex = i;
        formatSelect.dispatchEvent(new Event("change", { bubbles: true }));
        return;
      }
    }
  }

  function connect() {
    var fileInput = document.querySelector("input[type=file].guess_format");
    var formatSelect = document.querySelector("select.guess_format");
    if (!fileInput || !formatSelect) {
      return;
    }
    fileInput.addEventListener("change", function () {
      selectFormatFor(fileInput, formatSelect);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connect);
  } else {
    connect();
  }
})();
