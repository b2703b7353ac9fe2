/* Look-up from the national catalogues (ill/catalogue.py), two parts:
 *
 * 1. The request forms: a "Look up" button next to the ISBN, ISSN and NCID fields (added here, so
 *    without JavaScript there is no button that does nothing; the form works the same). It asks
 *    our server (which asks NDL Search or CiNii Books) and fills the fields that are still empty;
 *    fields the patron already filled differently are listed, with a button to take the
 *    catalogue's values. What happened is said in an aria-live region. On any failure the form
 *    is left as it was and a calm message says so.
 * 2. The desk's request page: the "Libraries holding this (CiNii Books)" card loads its body after
 *    the page; "Add … as a candidate" puts the lender into the next free lender field of the
 *    order form, when the page has one.
 */
(function () {
  "use strict";

  var FIELDS = ["title", "author", "publisher", "pub_year", "edition", "issn", "isbn", "ncid"];

  function format(template, values) {
    return String(template || "").replace(/%\((\w+)\)s/g, function (all, name) {
      return values.hasOwnProperty(name) ? values[name] : all;
    });
  }

  function visible(element) {
    return !!element && !element.closest(".d-none,[hidden]") && element.type !== "hidden";
  }

  function labelOf(input) {
    var label = input.id ? document.querySelector('label[for="' + input.id + '"]') : null;
    var text = label ? label.textContent : input.name;
    return text.replace(/\*/g, "").replace(/\s+/g, " ").trim();
  }

  // --- 1. the request forms ------------------------------------------------------------------

  function initForm(box) {
    var form = box.closest("form");
    if (!form || box.getAttribute("data-ready")) return;
    box.setAttribute("data-ready", "1");
    var url = box.getAttribute("data-catalogue-lookup");
    var kinds = (box.getAttribute("data-kinds") || "").split(/\s+/).filter(Boolean);
    var message = box.querySelector("[data-lookup-message]");
    var differences = box.querySelector("[data-lookup-differences]");
    var text = function (name) { return box.getAttribute("data-text-" + name) || ""; };
    var busy = false;
    var firstRow = null;

    kinds.forEach(function (kind) {
      var input = form.elements.namedItem(kind);
      if (!input || !visible(input)) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-outline-primary";
      button.textContent = text("button");
      button.setAttribute("aria-label", text("button") + " (" + labelOf(input) + ")");
      button.title = text("button-label");
      button.setAttribute("data-lookup", kind);
      button.setAttribute("data-testid", "lookup-" + kind);
      var group = document.createElement("div");
      group.className = "input-group";
      input.parentNode.insertBefore(group, input);
      group.appendChild(input);
      group.appendChild(button);
      if (input.classList.contains("is-invalid")) group.classList.add("has-validation");
      button.addEventListener("click", function () { run(kind, input, button); });
      var row = input.closest(".row") || group;
      if (!firstRow) firstRow = row;
    });
    if (!firstRow) { box.hidden = true; return; }
    firstRow.parentNode.insertBefore(box, firstRow.nextSibling); // the message below the numbers
    box.hidden = false;

    function say(textValue, tone) {
      message.className = "small" + (tone ? " text-" + tone + "-emphasis" : "");
      message.textContent = textValue;
    }

    function run(kind, input, button) {
      if (busy) return;
      differences.hidden = true;
      differences.textContent = "";
      var value = input.value.trim();
      if (!value) { say(text("empty"), "warning"); input.focus(); return; }
      busy = true;
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      say(text("searching"));
      var target = new URL(url, window.location.href);
      target.searchParams.set("kind", kind);
      target.searchParams.set("value", value);
      window.fetch(target.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (type.indexOf("application/json") !== 0) return Promise.reject(new Error("not json"));
          return response.json();
        })
        .then(function (data) {
          if (data && data.ok) fill(kind, data);
          else say((data && data.message) || text("failed"), "warning");
        })
        .catch(function () { say(text("failed"), "warning"); })
        .then(function () {
          busy = false;
          button.disabled = false;
          button.removeAttribute("aria-busy");
        });
    }

    function fill(kind, data) {
      var filled = [];
      var differing = [];
      FIELDS.forEach(function (name) {
        if (name === kind || !data.fields.hasOwnProperty(name)) return;
        var input = form.elements.namedItem(name);
        if (!input || !visible(input) || input.readOnly || input.disabled) return;
        var value = String(data.fields[name]);
        var current = input.value.trim();
        if (!current) {
          input.value = value;
          input.dispatchEvent(new Event("input", { bubbles: true }));
          input.dispatchEvent(new Event("change", { bubbles: true }));
          input.setAttribute("data-filled-from-catalogue", data.service);
          filled.push(labelOf(input));
        } else if (current !== value) {
          differing.push({ input: input, value: value });
        }
      });
      var summary = filled.length
        ? format(text("filled"), { fields: filled.join(text("separator") || ", ") })
        : text("nothing-new");
      say(data.message + " " + summary, filled.length ? "success" : "");
      if (data.link) {
        var link = document.createElement("a");
        link.href = data.link;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        link.className = "ms-1";
        link.textContent = text("source");
        message.appendChild(link);
      }
      if (differing.length) offerReplace(differing);
    }

    function offerReplace(differing) {
      var intro = document.createElement("p");
      intro.className = "mb-1";
      intro.textContent = text("differs");
      var list = document.createElement("ul");
      list.className = "mb-1";
      differing.forEach(function (item) {
        var li = document.createElement("li");
        var label = document.createElement("strong");
        label.textContent = labelOf(item.input) + ": ";
        li.appendChild(label);
        li.appendChild(document.createTextNode(item.value));
        list.appendChild(li);
      });
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-outline-primary";
      button.setAttribute("data-testid", "lookup-replace");
      button.textContent = text("replace");
      button.addEventListener("click", function () {
        differing.forEach(function (item) {
          item.input.value = item.value;
          item.input.dispatchEvent(new Event("change", { bubbles: true }));
          item.input.setAttribute("data-filled-from-catalogue", "1");
        });
        differences.hidden = true;
        differences.textContent = "";
        var names = differing.map(function (i) { return labelOf(i.input); });
        say(format(text("replaced"), { fields: names.join(text("separator") || ", ") }), "success");
        differing[0].input.focus();
      });
      differences.appendChild(intro);
      differences.appendChild(list);
      differences.appendChild(button);
      differences.hidden = false;
    }
  }

  // --- 2. the desk's holders card ------------------------------------------------------------

  function orderFields() {
    var box = document.querySelector("[data-action=order]");
    if (!box) return [];
    return Array.prototype.slice.call(box.querySelectorAll("input[name^=lender_]")).filter(function (input) {
      return /^lender_[0-9]+$/.test(input.name);
    });
  }

  function initHolders(card) {
    if (card.getAttribute("data-ready")) return;
    card.setAttribute("data-ready", "1");
    var body = card.querySelector("[data-holders-body]");
    var message = card.querySelector("[data-holders-message]");
    var text = function (name) { return card.getAttribute("data-text-" + name) || ""; };
    var fallback = body.innerHTML;
    var loading = document.createElement("p");
    loading.className = "small text-body-secondary mb-0";
    loading.textContent = text("loading");
    body.replaceChildren(loading);
    body.setAttribute("aria-busy", "true");
    window.fetch(card.getAttribute("data-cinii-holders"), { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var loaded = doc.querySelector("[data-holders-loaded]");
        if (!loaded) return Promise.reject(new Error("not the holders"));
        body.replaceChildren(document.importNode(loaded, true));
        var summary = loaded.querySelector("p");
        if (summary) message.textContent = summary.textContent.trim(); // announced once, not the whole list
        offerAdding(card, message, text);
      })
      .catch(function () {
        body.innerHTML = fallback;
        var note = document.createElement("p");
        note.className = "small mb-0";
        note.setAttribute("data-testid", "holders-failure");
        note.textContent = text("failed");
        body.insertBefore(note, body.firstChild);
      })
      .then(function () { body.removeAttribute("aria-busy"); });
  }

  function offerAdding(card, message, text) {
    if (!orderFields().length) return; // nothing to add to: the buttons stay hidden
    card.querySelectorAll("[data-add-candidate]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var code = button.getAttribute("data-add-candidate");
        var label = button.getAttribute("data-lender-label") || code;
        var fields = orderFields();
        var taken = fields.filter(function (input) { return input.value === code; });
        if (taken.length) { message.textContent = format(text("already"), { lender: label }); return; }
        var free = fields.filter(function (input) { return !input.value; })[0];
        if (!free) { message.textContent = format(text("full"), { lender: label }); return; }
        var details = free.closest("details");
        if (details) details.open = true;
        if (free.tomselect) {
          free.tomselect.addOption({ code: code, label: label, name: label });
          free.tomselect.setValue(code);
        } else {
          free.value = code;
          free.dispatchEvent(new Event("change", { bubbles: true }));
        }
        var position = free.name.replace("lender_", "");
        message.textContent = format(text("added"), { lender: label, position: position });
      });
    });
  }

  function init() {
    document.querySelectorAll("[data-catalogue-lookup]").forEach(initForm);
    document.querySelectorAll("[data-cinii-holders]").forEach(initHolders);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
