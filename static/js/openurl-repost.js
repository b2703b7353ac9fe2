// templates/414.html: an OpenURL link too long for the server (gunicorn's request-line limit) is
// sent again as a POST form to /openurl/, which takes the same parameters (OpenURL 1.0's HTTP POST
// transport). `_relay` tells the view the post comes from this site, so the session cookie (SameSite
// Lax) came with it. Any other long address only gets the page's explanation.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (!/^\/openurl\/?$/.test(window.location.pathname) || !window.location.search) {
    return;
  }
  const form = document.createElement("form");
  form.method = "post";
  form.action = "/openurl/";
  form.acceptCharset = "utf-8";
  const add = (name, value) => {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  };
  let params;
  try {
    params = new URLSearchParams(window.location.search);
  } catch (error) {
    return;
  }
  params.forEach((value, name) => add(name, value));
  add("_relay", "1");
  const notice = document.getElementById("openurl-reposting");
  if (notice) {
    notice.hidden = false;
  }
  document.body.appendChild(form);
  form.submit();
});
