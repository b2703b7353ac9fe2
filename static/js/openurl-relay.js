// templates/ill/patron/openurl_relay.html: a citation posted from another site is posted again
// from this one at once (the button is there without JavaScript).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-openurl-relay]");
  if (form) {
    form.submit();
  }
});
