/*
 * Session upkeep on the dashboard page: refresh the short-lived access cookie before it
 * expires, sign out from the header button, and send the user to the sign-in page when the
 * session is over. The CSRF double-submit value is read from its (non-httpOnly) cookie.
 */
(function () {
  "use strict";
  if (window.location.pathname.indexOf("/login") === 0) { return; }
  var REFRESH_EVERY_MS = 5 * 60 * 1000;

  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  function toLogin() {
    window.location.assign("/login/?next=" + encodeURIComponent(window.location.pathname + window.location.search));
  }

  function refresh() {
    return fetch("/api/v1/auth/refresh", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": cookie("_csrf_refresh") },
    }).then(function (r) {
      if (r.status === 401) { toLogin(); return false; }
      return r.ok;
    }).catch(function () { return false; });
  }

  function logout() {
    fetch("/api/v1/auth/logout", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": cookie("_csrf_token") },
    }).finally(function () { window.location.assign("/login/"); });
  }

  window.setInterval(refresh, REFRESH_EVERY_MS);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { refresh(); }
  });
  document.addEventListener("click", function (ev) {
    if (ev.target && ev.target.id === "header-logout") { logout(); }
  });
  window.dashAuth = { refresh: refresh, logout: logout, toLogin: toLogin };
})();
