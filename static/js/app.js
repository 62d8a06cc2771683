// Scripts are running: show the controls that need them (see .js in app.css).
document.documentElement.classList.add("js");

// Tell the server the browser's time zone, so times render in local time.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.indexOf("tz=" + zone) === -1) {
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
  }
})();

// The server never sees the part of an address after "#" (a moment in a recording,
// #t=95): carry it through the log-in page, so the link opens where it pointed.
document.addEventListener("DOMContentLoaded", function () {
  var next = document.querySelector("form input[name='next']");
  if (next && next.value && location.hash && next.value.indexOf("#") === -1) {
    next.value += location.hash;
  }
});

// Every htmx request shows that something is on its way; one that takes long says what
// it waits for (SignalWire answers most pages).
(function () {
  var shown = null, slow = null;
  function box() { return document.getElementById("loading"); }
  document.addEventListener("htmx:beforeRequest", function () {
    var el = box();
    if (!el) return;
    clearTimeout(shown); clearTimeout(slow);
    shown = setTimeout(function () { el.textContent = "Loading…"; el.hidden = false; }, 150);
    slow = setTimeout(function () {
      el.textContent = "Still waiting for SignalWire…"; el.hidden = false;
    }, 2000);
  });
  document.addEventListener("htmx:afterRequest", function () {
    clearTimeout(shown); clearTimeout(slow);
    var el = box();
    if (el) { el.hidden = true; el.textContent = ""; }
  });
})();
