/* A table wider than a phone scrolls inside its .table-responsive box; a keyboard user can only
 * scroll it if the box takes the focus. So every such box that does overflow becomes a focusable
 * region named after its table (its caption, the nearest heading before it, or its aria-label).
 * Boxes that fit are left alone: an extra tab stop with nothing to scroll is only noise. */
(function () {
  "use strict";

  function nameOf(box) {
    var table = box.querySelector("table");
    var caption = table && table.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    var labelled = table && (table.getAttribute("aria-label") || "");
    if (labelled) return labelled;
    for (var node = box.previousElementSibling; node; node = node.previousElementSibling) {
      if (/^H[1-6]$/.test(node.tagName)) return node.textContent.trim();
    }
    var section = box.closest("section, .card");
    var heading = section && section.querySelector("h1, h2, h3, h4, h5, h6");
    return heading ? heading.textContent.trim() : document.title;
  }

  function mark() {
    var used = {};
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "group");  // not a landmark: the section around it is one
        if (!box.hasAttribute("aria-label")) {
          var name = nameOf(box);
          used[name] = (used[name] || 0) + 1;  // two tables under one heading: tell them apart
          box.setAttribute("aria-label", used[name] > 1 ? name + " (" + used[name] + ")" : name);
        }
        box.dataset.scrollRegion = "1";
      } else if (!scrolls && box.dataset.scrollRegion) {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
        delete box.dataset.scrollRegion;
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mark);
  else mark();
  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(mark, 150);
  });
  window.ILLScrollRegions = { mark: mark };
})();
