// The print-outs' "Print" button (a data-print attribute): no inline onclick, so that the
// Content-Security-Policy needs no 'unsafe-inline'.
"use strict";
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
