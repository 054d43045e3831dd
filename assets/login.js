/* The sign-in form's clientside callback: post the credentials, then go where we were asked. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  login: {
    signIn: function (clicks, submitUser, submitPassword, username, password) {
      var dc = window.dash_clientside;
      if (!clicks && !submitUser && !submitPassword) { return dc.no_update; }
      var show = function (text) { dc.set_props("login-error", { children: text }); };
      if (!username || !password) {
        show("Enter your username and password.");
        return dc.no_update;
      }
      show("Signing in…");
      fetch("/api/v1/auth/login", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: username, password: password }),
      }).then(function (r) {
        if (r.ok) {
          var next = new URLSearchParams(window.location.search).get("next") || "/";
          // only a path on this site: never "//host" or "/\\host"
          if (next.charAt(0) !== "/" || next.charAt(1) === "/" || next.charAt(1) === "\\") {
            next = "/";
          }
          window.location.assign(next);
        } else if (r.status === 429) {
          var wait = r.headers.get("Retry-After");
          show("Too many attempts. Try again" + (wait ? " in " + wait + " s." : " later."));
        } else {
          show("Wrong username or password.");
        }
      }).catch(function () { show("The server did not answer. Try again."); });
      return dc.no_update;
    },
  },
});
