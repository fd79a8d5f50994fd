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
