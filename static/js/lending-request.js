/* Entering an incoming request (templates/lending/new_request.html): the copy's fields
 * (<fieldset data-for-kind="copy">) are shown only while the kind chosen is "copy". Without this
 * script every field stays visible; the server ignores nothing either way. */
(function () {
  "use strict";
  function init() {
    var kind = document.querySelector("select[name=kind][data-kind-switch]");
    if (!kind) return;
    var groups = document.querySelectorAll("[data-for-kind]");
    function update() {
      groups.forEach(function (group) {
        group.hidden = group.getAttribute("data-for-kind") !== kind.value;
      });
    }
    kind.addEventListener("change", update);
    update();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
