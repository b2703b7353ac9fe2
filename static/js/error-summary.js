/* A form sent back with problems: its error summary ([data-error-summary], a list of links to the
 * fields) takes the focus, so a screen reader reads it first and a keyboard user is at the list. */
(function () {
  "use strict";
  function focusSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) summary.focus();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", focusSummary);
  else focusSummary();
})();
