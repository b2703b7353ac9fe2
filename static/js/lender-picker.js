/* The desk's lender picker: every <input data-lender-picker="URL"> (ill/widgets.py LenderPicker)
 * becomes a Tom Select search-as-you-type combobox fed by the lender search (JSON). Without this
 * script the input stays a text field for the lender's code, with a <datalist> of suggestions.
 *
 * The server ranks the results (fee-offset participants and lenders sending by the requested
 * delivery first); the picker keeps that order and does no filtering of its own.
 * Call LenderPicker.init(root) for inputs added to the page later.
 */
(function () {
  "use strict";

  function describe(input, control) {
    // Tom Select copies the label but not the help text and errors: keep them announced.
    ["aria-describedby", "aria-invalid", "aria-required"].forEach(function (name) {
      var value = input.getAttribute(name);
      if (value) control.setAttribute(name, value);
    });
    if (input.required) control.setAttribute("aria-required", "true");
  }

  function init(input) {
    if (input.tomselect || typeof window.TomSelect !== "function") return;
    var source = input.getAttribute("data-lender-picker");
    var valueField = input.getAttribute("data-value-field") || "code";
    var deliveryName = input.getAttribute("data-delivery-field");
    var delivery = deliveryName && input.form ? input.form.elements.namedItem(deliveryName) : null;
    var text = {
      noResults: input.getAttribute("data-text-no-results") || "",
      loading: input.getAttribute("data-text-loading") || "",
      clear: input.getAttribute("data-text-clear") || "",
      more: input.getAttribute("data-text-more") || ""
    };
    var latest = {}; // values of the last answer: only those are shown, in the server's order
    var more = false;
    var asked = 0;
    input.removeAttribute("list");

    var picker = new window.TomSelect(input, {
      maxItems: 1,
      valueField: valueField,
      labelField: "label",
      searchField: [],
      dataAttr: "data-picker-selected",
      create: false,
      persist: false,
      preload: "focus",
      loadThrottle: 250,
      maxOptions: 50,
      plugins: { clear_button: { title: text.clear } },
      shouldLoad: function () { return true; },
      score: function () {
        return function (item) { return latest.hasOwnProperty(item[valueField]) ? 1 : 0; };
      },
      load: function (query, callback) {
        var self = this;
        var ticket = ++asked; // answers may come back out of order: only the last one counts
        var url = new URL(source, window.location.href);
        url.searchParams.set("q", query);
        url.searchParams.set("format", "json");
        if (delivery && delivery.value) url.searchParams.set("delivery", delivery.value);
        window.fetch(url.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
          .then(function (data) {
            if (ticket !== asked) { callback(); return; }
            latest = {};
            (data.results || []).forEach(function (item) { latest[item[valueField]] = true; });
            more = !!data.more;
            self.clearOptions();
            callback(data.results || []);
          })
          .catch(function () { latest = {}; callback(); });
      },
      render: {
        option: function (item, escape) {
          var facts = [item.kind, item.estimate_text, item.time].filter(Boolean).map(escape).join(" · ");
          var notes = (item.notes || []).map(function (note) {
            return '<span class="badge text-bg-light border ms-1">' + escape(note) + "</span>";
          }).join("");
          return '<div class="lender-option"><div><span class="fw-semibold">' + escape(item.name) +
            '</span> <span class="text-body-secondary small">' + escape(item.code) + "</span>" + notes +
            '</div><div class="small text-body-secondary">' + facts + "</div></div>";
        },
        item: function (item, escape) {
          return "<div>" + escape(item.label || item[valueField]) + "</div>";
        },
        no_results: function (data, escape) {
          return '<div class="no-results">' + escape(text.noResults) + "</div>";
        },
        loading: function (data, escape) {
          return '<div class="loading-text small text-body-secondary px-2 py-1">' + escape(text.loading) + "</div>";
        }
      },
      onLoad: function () {
        var footer = this.dropdown.querySelector(".lender-more");
        if (footer) footer.remove();
        if (more) {
          footer = document.createElement("div");
          footer.className = "lender-more small text-body-secondary px-2 py-1 border-top";
          footer.textContent = text.more;
          this.dropdown.appendChild(footer);
        }
      }
    });
    describe(input, picker.control_input);
    // The original input now only carries the value (Tom Select moved its label to the combobox):
    // out of the accessibility tree, so it is not announced as a second, nameless field.
    input.setAttribute("aria-hidden", "true");
    if (delivery) {
      delivery.addEventListener("change", function () { picker.clearOptions(); });
    }
  }

  function initAll(root) {
    (root || document).querySelectorAll("input[data-lender-picker]").forEach(init);
  }

  window.LenderPicker = { init: initAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { initAll(document); });
  } else {
    initAll(document);
  }
})();
