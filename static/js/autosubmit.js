// A <select data-autosubmit> sends its form as soon as another value is chosen (the filter
// button is shown only without JavaScript, in <noscript>). No inline onchange: see the CSP.
"use strict";
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.requestSubmit());
});
