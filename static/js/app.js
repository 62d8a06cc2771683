// Scripts are running: show the controls that need them (see .js in app.css).
document.documentElement.classList.add("js");

// Tell the server the browser's time zone, so times render in local time.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.indexOf("tz=" + zone) === -1) {
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
  }
})();
