// Small progressive enhancements; every page works without them.
document.addEventListener("htmx:responseError", (event) => {
  const flashes = document.getElementById("flashes");
  if (!flashes) return;
  const xhr = event.detail.xhr;
  const message = document.createElement("p");
  message.className = "flash flash-error";
  message.setAttribute("role", "alert");
  let text = xhr.statusText || "The request failed";
  try { text = JSON.parse(xhr.responseText).error.message || text; } catch (e) {
    const doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    const p = doc.querySelector(".error-page p, .flash");
    if (p) text = p.textContent;
  }
  message.textContent = text;
  flashes.replaceChildren(message);
});

// The CSRF token travels as the X-CSRFToken header (hx-headers on <body>) on every htmx request; the
// forms' hidden csrf_token field is for the no-JS post only, so it is left out of htmx requests and never
// lands in a URL or a request log.
document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.headers["X-CSRFToken"]) delete event.detail.parameters.csrf_token;
});

// A refusal answered as the component itself (a 409 or 422 carrying X-Swap-Refusal, see portal/htmx.py)
// replaces the component as a success would, so its message and the typed values show where the user acted.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.getResponseHeader("X-Swap-Refusal") === "1") {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
