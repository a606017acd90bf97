/*
 * Export page: show only the field checkboxes of the chosen resource, and let the user tick or
 * untick all of them at once.
 *
 * The template puts each resource's checkboxes in a "fieldset.selectable-fields", one list item
 * per field, and marks each item with data-resource-index: the resource's position in the
 * resource choice ("#id_resource", a select, or a hidden input when there is only one resource).
 * The other resources' boxes stay in the form; the server ignores them. Without this script every
 * group is shown, which still works.
 */
(function () {
  "use strict";

  function chosenResourceIndex() {
    var resource = document.getElementById("id_resource");
    return resource && resource.value !== "" ? resource.value : "0";
  }

  function showChosenGroup(groups) {
    var chosen = chosenResourceIndex();
    groups.forEach(function (group) {
      group.hidden = !group.querySelector('[data-resource-index="' + chosen + '"]');
    });
  }

  function setAllBoxes(group, checked) {
    group.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      box.checked = checked;
    });
  }

  function enableSelectButtons(group) {
    var actions = group.querySelector(".selectable-fields-actions");
    if (!actions) {
      return;
    }
    actions.hidden = false;
    actions.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-select]");
      if (button) {
        setAllBoxes(group, button.getAttribute("data-select") === "all");
      }
    });
  }

  function connect() {
    var groups = Array.prototype.slice.call(
      document.querySelectorAll("fieldset.selectable-fields")
    );
    if (!groups.length) {
      return;
    }
    groups.forEach(enableSelectButtons);
    showChosenGroup(groups);
    var resource = document.getElementById("id_resource");
    if (resource) {
      resource.addEventListener("change", function () {
        showChosenGroup(groups);
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connect);
  } else {
    connect();
  }
})();
