/*
 * Alerts in the browser: a toast per firing and resolution (coloured by severity), a badge with
 * the number firing, an ARIA live announcement, and an optional sound made with the Web Audio
 * API (no file to fetch). Sound is off by default; the header button cycles off -> critical
 * only -> every severity, remembered per user in this browser. All text goes in as text.
 */
(function () {
  "use strict";
  if (window.location.pathname.indexOf("/login") === 0) { return; }
  var MODES = ["off", "critical", "all"];
  var LABELS = { off: "Sound: off", critical: "Sound: critical", all: "Sound: all" };
  var audio = null;

  function user() {
    var el = document.getElementById("header-user");
    return el ? el.textContent.split(" ")[0] : "";
  }

  function soundMode() {
    return window.localStorage.getItem("dashAlertSound:" + user()) || "off";
  }

  function showMode() {
    var mode = soundMode();
    var dc = window.dash_clientside;
    if (dc && dc.set_props) {
      dc.set_props("alerts-sound", { children: LABELS[mode], "aria-pressed": mode === "off" ? "false" : "true" });
    }
  }

  function beep(severity) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = severity === "critical" ? 880 : 660;
      gain.gain.setValueAtTime(0.0001, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.4);
      window.dashAlerts.beeps += 1;
    } catch (e) { /* no audio device: the toast still shows */ }
  }

  function text(el, value) { el.textContent = value; return el; }

  function toast(ev) {
    var box = document.getElementById("alerts-toasts");
    if (!box) { return; }
    var item = document.createElement("div");
    item.className = "toast toast-" + ev.severity + " toast-" + ev.state;
    item.setAttribute("role", ev.severity === "critical" ? "alert" : "status");
    var title = document.createElement("strong");
    text(title, (ev.state === "resolved" ? "Resolved: " : "") + (ev.rule || ev.rule_id));
    var body = document.createElement("span");
    var value = ev.value === null || ev.value === undefined ? "no data" : String(ev.value);
    text(body, ev.series + " = " + value + " (" + ev.severity + ")");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    text(close, "×");
    close.addEventListener("click", function () { item.remove(); });
    item.appendChild(title);
    item.appendChild(body);
    item.appendChild(close);
    box.appendChild(item);
    window.setTimeout(function () { item.remove(); }, ev.severity === "critical" ? 30000 : 10000);
  }

  function onAlert(ev) {
    window.dashAlerts.received.push(ev);
    var dc = window.dash_clientside;
    if (dc && dc.set_props && typeof ev.firing === "number") {
      dc.set_props("alerts-badge", { children: String(ev.firing), hidden: ev.firing === 0 });
      dc.set_props("alerts-refresh", { data: Date.now() });
    }
    if (ev.state === "pending" || ev.snoozed) { return; }
    toast(ev);
    var announce = document.getElementById("alerts-announce");
    if (announce) {
      text(announce, (ev.state === "resolved" ? "Resolved: " : ev.severity + " alert: ") +
        (ev.rule || ev.rule_id) + " on " + ev.series);
    }
    var mode = soundMode();
    if (ev.state === "firing" && (mode === "all" || (mode === "critical" && ev.severity === "critical"))) {
      beep(ev.severity);
    }
  }

  function hook(socket) {
    socket.on("alert", onAlert);
    showMode();
  }

  document.addEventListener("click", function (ev) {
    if (ev.target && ev.target.id === "alerts-sound") {
      var next = MODES[(MODES.indexOf(soundMode()) + 1) % MODES.length];
      window.localStorage.setItem("dashAlertSound:" + user(), next);
      showMode();
      if (next !== "off") { beep("info"); } // a click unlocks audio, and lets the user hear it
    }
  });

  window.dashAlerts = { received: [], beeps: 0, onAlert: onAlert };
  var existing = window.dashLive && window.dashLive.socket();
  if (existing) {
    hook(existing);
  } else {
    (window.dashLiveHooks = window.dashLiveHooks || []).push(hook);
  }
})();
