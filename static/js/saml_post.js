// The campus sign-in's HTTP-POST binding page (templates/djangosaml2/post_binding_form.html): send
// the sign-in request to the university's identity provider at once. A file, not djangosaml2's
// inline script (the CSP allows no inline script); without JavaScript the button does the same.
"use strict";
document.querySelectorAll("form[data-saml-autosubmit]").forEach((form) => form.submit());
