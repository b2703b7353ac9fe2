/* What Django's admin leaves for a screen reader to guess (axe-core finds each one):
 *  - fields of a tabular inline sit under a column header but have no <label>: each gets the
 *    header's text as its name;
 *  - the autocomplete widgets (Select2) draw a combobox without a name: it gets its field's label;
 *  - the empty "original" column header of an inline gets a name;
 *  - a box that scrolls sideways on a phone (an inline, a wide changelist) takes the focus, so a
 *    keyboard can scroll it.
 * Linked from templates/admin/base_site.html (no inline script: the Content-Security-Policy). */
(function () {
  "use strict";
  // The name of an empty column header, translated by the template that loads this script.
  var script = document.currentScript;
  var ITEM = (script && script.getAttribute("data-item-label")) || "Item";

  function text(element) {
    return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function nameInlineFields(root) {
    root.querySelectorAll(".tabular table").forEach(function (table) {
      var headers = Array.prototype.slice.call(table.querySelectorAll("thead th"));
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.slice.call(row.children).forEach(function (cell, index) {
          var header = headers[index];
          cell.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (field) {
            if (field.labels && field.labels.length) return;
            if (field.hasAttribute("aria-label") || field.hasAttribute("aria-labelledby")) return;
            var name = text(header);
            if (name) field.setAttribute("aria-label", name);
          });
        });
      });
      // Django leaves the headers of the object's own column and of the link column empty.
      table.querySelectorAll("thead th").forEach(function (th) {
        if (!text(th)) {
          var hidden = document.createElement("span");
          hidden.className = "sr-only";
          hidden.textContent = ITEM;
          th.appendChild(hidden);
        }
      });
    });
  }

  function nameComboboxes(root) {
    // Select2 names its combobox by the chosen value only (aria-labelledby the value's box, empty
    // when nothing is chosen): name it by the field's label, then the value.
    root.querySelectorAll(".select2-selection[role=combobox]").forEach(function (box) {
      if (box.dataset.named) return;
      var container = box.closest(".select2");
      var select = container && container.previousElementSibling;
      var label = select && select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
      if (!label) return;
      if (!label.id) label.id = select.id + "-label";
      var value = box.getAttribute("aria-labelledby");
      box.setAttribute("aria-labelledby", value ? label.id + " " + value : label.id);
      var rendered = box.querySelector(".select2-selection__rendered[role=textbox]");
      if (rendered && !rendered.hasAttribute("aria-labelledby")) rendered.setAttribute("aria-labelledby", label.id);
      box.dataset.named = "1";
    });
  }

  function focusableScrollers() {
    document.querySelectorAll(".inline-group, #changelist .results, .module").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).overflowX !== "visible";
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "group");
        if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", text(box.querySelector("h2")) || document.title);
      }
    });
  }

  function all() {
    nameInlineFields(document);
    nameComboboxes(document);
    focusableScrollers();
  }

  document.addEventListener("DOMContentLoaded", all);
  window.addEventListener("load", all);  // Select2 draws its widgets after DOMContentLoaded
  new MutationObserver(function () {
    nameComboboxes(document);
  }).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("formset:added", function () {
    nameInlineFields(document);
  });
})();
