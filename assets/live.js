/*
 * Live updates for the dashboard page.
 *
 * Socket.IO push on the /live namespace; messages are buffered and applied once per animation
 * frame with Plotly.extendTraces (never one dcc.Store update per message: Dash merges several
 * set_props before a render, which would lose data). Every message carries a cursor; a gap is
 * filled from the server before newer points are drawn, and a point never goes on a trace at or
 * before the trace's last timestamp, so nothing is drawn twice. While the socket is down the page
 * polls through a dcc.Interval callback, and the socket reconnects with exponential backoff and
 * jitter.
 */
(function () {
  "use strict";

  var IDS = {
    state: "live-state",
    retry: "live-retry",
    pause: "live-pause",
    cursor: "live-cursor",
    poll: "live-poll",
    banner: "live-banner",
  };
  var BACKOFF = { initial: 1000, factor: 1.5, max: 30000, retries: 10 };

  var st = {
    config: null,
    cursor: null,
    socket: null,
    pending: {},
    frameScheduled: false,
    attempts: 0,
    retryTimer: null,
    countdownTimer: null,
    catchingUp: false,
    queued: [],
    polling: false,
    mode: "connecting",
    paused: false,
    overflow: false,
    offscreen: {},
    cursorAtPause: null,
    pendingPoints: 0,
  };
  // While paused, at most this many points wait; beyond it they are dropped and fetched again
  // from the server (with `since`) on resume.
  var MAX_PAUSED_POINTS = 50000;
  var stats = { messages: 0, points: 0, frames: 0, lastFrameAt: 0, drawn: {}, offscreen: 0,
                woken: 0, lazyDrawn: 0 };
  var MAX_HELD = 20000; // points kept per series for charts out of view
  // Script work per frame: a chart is drawn in this frame only if the time spent so far plus a
  // chart's usual cost fits (the first always does), so a burst of updates is spread over frames
  // and never becomes one long task; the rest of the frame is left to style, layout and paint.
  var FRAME_BUDGET_MS = 6;
  var chartCostMs = 4; // moving average of one chart's draw, measured as they are drawn

  function setProps(id, props) {
    var dc = window.dash_clientside;
    if (dc && dc.set_props) {
      dc.set_props(id, props);
    }
  }

  // A tile's text and class go straight to its element: a set_props re-renders every widget of
  // Dash's tree, for each tile. React keeps that same text node, so a later render still updates it.
  function setTile(id, text, className, title) {
    var el = document.getElementById(id);
    if (!el) { return; } // gone with a dashboard switched meanwhile: Dash would throw on it
    var node = el.childNodes.length === 1 && el.firstChild.nodeType === 3 ? el.firstChild : null;
    if (!node) {
      setProps(id, title === undefined ? { children: text, className: className }
        : { children: text, className: className, title: title });
      return;
    }
    if (node.nodeValue !== text) { node.nodeValue = text; }
    if (el.className !== className) { el.className = className; }
    if (title !== undefined && el.title !== title) { el.title = title; } // what the colour means
  }

  function parseCursor(text) {
    var s = String(text || "");
    var i = s.lastIndexOf("-");
    return { epoch: s.slice(0, i), seq: parseInt(s.slice(i + 1), 10) };
  }

  function showState(mode, text) {
    st.mode = mode;
    if (st.paused && (mode === "live" || mode === "reconnecting")) {
      document.documentElement.setAttribute("data-live", mode);
      setProps(IDS.retry, { hidden: true });
      return; // the paused label stays until resume
    }
    document.documentElement.setAttribute("data-live", mode);
    if (mode === "live" && health.message) {
      setProps(IDS.state, { children: health.message, className: "live-state degraded" });
      setProps(IDS.retry, { hidden: true });
      return; // the socket is up, but the node's bus or database is not
    }
    setProps(IDS.state, { children: text, className: "live-state " + mode });
    setProps(IDS.retry, { hidden: mode !== "offline" });
  }

  /* ---- formatting, kept in step with dashboard/boards/units.py (format_number) and
   * dashboard/boards/thresholds.py (reached, level_title); layouts/widgets/status.py for the
   * pills. The server sends each number's format resolved (percent, si, iec, duration, prefix,
   * suffix; decimals null: as many as the number needs) and its threshold steps with their level
   * and meaning, so no unit id, colour name or hue is known here. ---- */

  var SI = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
  var IEC = [[Math.pow(2, 40), "Ti"], [Math.pow(2, 30), "Gi"], [Math.pow(2, 20), "Mi"], [1024, "Ki"]];
  var DURATIONS = [[86400, "d"], [3600, "h"], [60, "min"], [1, "s"], [1e-3, "ms"]];
  var SECONDS = { s: 1, ms: 1e-3 };

  function number(v, decimals) {
    var auto = decimals === null, size = Math.abs(v);
    var d = auto ? (size >= 100 || size === 0 ? 0 : size >= 10 ? 1 : size >= 1 ? 2 : 3)
      : Math.max(0, Math.min(decimals || 0, 6));
    return v.toLocaleString("en-US", { minimumFractionDigits: auto ? 0 : d, maximumFractionDigits: d });
  }

  function scaled(v, steps) {
    for (var i = 0; i < steps.length; i++) {
      if (Math.abs(v) >= steps[i][0]) { return [v / steps[i][0], steps[i][1]]; }
    }
    return [v, ""];
  }

  function duration(v, unit, decimals) {  // 350 ms, 1.2 s, 3.5 min
    var seconds = v * SECONDS[unit];
    if (seconds === 0) { return "0 " + unit; }
    var s = scaled(seconds, DURATIONS);
    if (!s[1]) { s = [seconds * 1e6, "\u00b5s"]; }
    return number(s[0], decimals) + " " + s[1];
  }

  function formatValue(v, fmt) {
    fmt = fmt || {};
    var d = fmt.decimals === undefined ? 0 : fmt.decimals;
    if (fmt.percent) {
      return number(v * 100, d) + "%";
    }
    var body;
    if (Object.prototype.hasOwnProperty.call(SECONDS, fmt.duration)) {
      body = duration(v, fmt.duration, d);
    } else if (fmt.si || fmt.iec) {  // 1.2k, 3.4M; 1.5Ki(B)
      var s = scaled(v, fmt.iec ? IEC : SI);
      body = number(s[0], d) + s[1];
    } else {
      body = number(v, d);
    }
    return (fmt.prefix || "") + body + (fmt.suffix || "");
  }

  // the threshold step a value takes its colour from: the highest it reaches, else the base
  function levelOf(v, steps) {
    var best = null;
    (steps || []).forEach(function (s) {
      if (s.value === null) {
        if (!best) { best = s; }
      } else if (v >= s.value && (!best || best.value === null || s.value >= best.value)) {
        best = s;
      }
    });
    return best;
  }

  function valueClass(v, target) {
    var step = levelOf(v, target.steps);
    if (!step) { return "stat-value"; }
    return "stat-value level-" + step.level + (step.level === "bad" ? " stat-breach" : "");
  }

  function levelTitle(v, target) {
    var step = levelOf(v, target.steps);
    return step ? target.name + ": " + step.note + " (" + target.scale + ")" : undefined;
  }

  function statusOf(v) {
    if (v >= 1) { return ["Up", "status-pill status-up"]; }
    if (v >= 0.5) { return ["Degraded", "status-pill status-degraded"]; }
    return ["Down", "status-pill status-down"];
  }

  /* ---- applying points ---- */

  /* ---- charts out of view take no updates until they scroll in ---- */

  var visible = {};   // graph id -> false while it is off screen (unknown means visible)
  var watched = {};   // graph id -> the element observed for it
  var observer = window.IntersectionObserver ? new window.IntersectionObserver(function (entries) {
    var woke = false;
    entries.forEach(function (entry) {
      var id = entry.target.id;
      var was = visible[id] !== false;
      visible[id] = entry.isIntersecting;
      if (entry.isIntersecting && !was) { woke = true; }
    });
    if (woke) {
      var held = st.offscreen;
      st.offscreen = {};
      stats.woken += 1;
      apply(held);
    }
  }, { rootMargin: "200px" }) : null;

  function onScreen(id) {
    var outer = document.getElementById(id);
    if (observer && outer && watched[id] !== outer) {
      if (watched[id]) { observer.unobserve(watched[id]); }
      watched[id] = outer;
      observer.observe(outer);
    }
    return visible[id] !== false;
  }

  function holdOffscreen(key, pts) {
    var held = (st.offscreen[key] || []).concat(pts);
    st.offscreen[key] = held.length > MAX_HELD ? held.slice(held.length - MAX_HELD) : held;
    stats.offscreen += pts.length;
  }

  /* ---- what is below the first screen is put in when it comes near the viewport ---- */

  // layouts/lazy.py leaves such a chart (outside edit mode, such a card's whole content) out: a
  // slot (data-graph-id) stands in for it, and a click on it (n_clicks, set here) has the server
  // send it. Its chart's live points are held until the chart is drawn, then extend it (only
  // those newer than what it came with).
  var near = {};     // slot id -> true while it is within the margin of the viewport
  var slots = {};    // graph id -> its slot
  var lazyWatched = {};
  var lazyLoading = {};
  var lazyObserver = window.IntersectionObserver ? new window.IntersectionObserver(function (entries) {
    entries.forEach(function (entry) { near[entry.target.id] = entry.isIntersecting; });
    wireLazy();
  }, { rootMargin: "200px" }) : null;

  function drawnIn(slot) {
    if (slot.getAttribute("data-chart") === "0") { return slot.childElementCount > 0; } // no chart
    var gd = slot.querySelector(".js-plotly-plot");
    return !!(gd && gd.data && gd._fullLayout);
  }

  function lazyPending(id) {
    var slot = slots[id];
    return !!(slot && slot.isConnected && (lazyLoading[id] || !drawnIn(slot)));
  }

  function drawLazy(slot) {
    var id = slot.getAttribute("data-graph-id");
    if (lazyLoading[id] || drawnIn(slot)) { return; }
    var slotId;
    try { slotId = JSON.parse(slot.id); } catch (e) { return; }
    lazyLoading[id] = true;
    var since = Date.now(), asked = since;
    setProps(slotId, { n_clicks: asked });
    stats.lazyDrawn += 1;
    (function drawn() {
      // a grid drawn anew meanwhile has another slot: wireLazy starts over with it
      if (slots[id] === slot && slot.isConnected && !drawnIn(slot) && Date.now() - since < 30000) {
        // no chart yet after a while (its request was dropped or failed): ask again, and keep
        // waiting, so the points held for it extend it once it is drawn
        if (Date.now() - asked > 3000) {
          asked = Date.now();
          setProps(slotId, { n_clicks: asked });
        }
        window.setTimeout(drawn, 50);
        return;
      }
      delete lazyLoading[id];
      stats.woken += 1;
      var held = st.offscreen; // its points, held meanwhile, extend the chart now
      st.offscreen = {};
      apply(held);
    })();
  }

  function wireLazy() {
    document.querySelectorAll("[data-graph-id]").forEach(function (slot) {
      var id = slot.getAttribute("data-graph-id");
      if (slots[id] !== slot) { slots[id] = slot; }
      if (!lazyObserver) { drawLazy(slot); return; }
      if (lazyWatched[slot.id] !== slot) {
        if (lazyWatched[slot.id]) { lazyObserver.unobserve(lazyWatched[slot.id]); }
        lazyWatched[slot.id] = slot;
        lazyObserver.observe(slot);
        return; // the observer answers at once with whether it is near
      }
      if (near[slot.id]) { drawLazy(slot); }
    });
  }

  function graphDiv(id) {
    var outer = document.getElementById(id);
    if (!outer) { return null; }
    var gd = outer.classList.contains("js-plotly-plot") ? outer : outer.querySelector(".js-plotly-plot");
    if (gd && gd.data) { zoomable(gd); }
    return gd && gd.data ? gd : null;
  }

  function firstIndexAtOrAfter(xs, cutoff) {
    var lo = 0, hi = xs.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (xs[mid] < cutoff) { lo = mid + 1; } else { hi = mid; }
    }
    return lo;
  }

  /* ---- series that appear after the page loaded ---- */

  function parseKey(text) {
    var i = text.indexOf("{");
    if (i < 0) { return { name: text, labels: {} }; }
    var labels = {};
    var re = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    var m;
    var inner = text.slice(i + 1, -1);
    while ((m = re.exec(inner))) {
      labels[m[1]] = m[2].replace(/\\(.)/g, function (_, c) { return c === "n" ? "\n" : c; });
    }
    return { name: text.slice(0, i), labels: labels };
  }

  function selects(selector, key) {
    if (selector.name !== key.name) { return false; }
    var want = selector.labels || {};
    return Object.keys(want).every(function (k) { return key.labels[k] === want[k]; });
  }

  function plotlyText(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function adopt(keyText) {
    // give a new series the targets of the widgets whose selectors pick it
    var catchers = (st.config && st.config.catchers) || [];
    if (!catchers.length) { return false; }
    var key = parseKey(keyText);
    var found = [];
    st.config.catchers = catchers.filter(function (c) {
      if (!c.selectors.some(function (s) { return selects(s, key); })) { return true; }
      if (c.add) {
        var values = Object.keys(key.labels).map(function (k) { return key.labels[k]; });
        var legend = c.add.legends && c.add.legends[key.name]; // an expression's template
        var name = legend ? legend.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g,
          function (_, l) { return key.labels[l] || ""; }).trim()
          : values.length ? values.join(", ") : key.name;
        found.push({ type: "newtrace", graph: c.add.graph, window: c.add.window,
                     name: plotlyText(name) });
        return true;
      }
      found = found.concat(c.targets);
      return !c.once;
    });
    if (found.length) { st.config.targets[keyText] = found; }
    return found.length > 0;
  }

  function apply(series) {
    if (!st.config || (st.paused && st.overflow)) { return; }
    var targets = st.config.targets || {};
    Object.keys(series || {}).forEach(function (key) {
      if (!targets[key] && !adopt(key)) { return; }
      var pts = series[key];
      if (!pts || !pts.length) { return; }
      st.pending[key] = (st.pending[key] || []).concat(pts);
      st.pendingPoints += pts.length;
      stats.points += pts.length;
    });
    if (st.paused) {
      if (st.pendingPoints > MAX_PAUSED_POINTS) {
        st.pending = {};
        st.pendingPoints = 0;
        st.overflow = true;
      }
      showPaused();
      return;
    }
    scheduleFrame();
  }

  function showPaused() {
    var text = st.overflow ? "Paused (many new points: fetched on resume)"
      : "Paused (" + st.pendingPoints + " new points)";
    setProps(IDS.state, { children: text, className: "live-state paused" });
  }

  function pause() {
    st.paused = true;
    st.cursorAtPause = st.cursor;
    setProps(IDS.pause, { children: "Resume", "aria-pressed": "true" });
    showPaused();
  }

  function resume() {
    st.paused = false;
    setProps(IDS.pause, { children: "Pause", "aria-pressed": "false" });
    showState(st.mode, st.mode === "live" ? "Live" : "Reconnecting… (polling)");
    if (st.overflow) {
      st.overflow = false;
      st.cursor = st.cursorAtPause;
      catchUp();
    } else {
      scheduleFrame();
    }
  }

  function scheduleFrame() {
    if (!st.frameScheduled) {
      st.frameScheduled = true;
      window.requestAnimationFrame(onFrame);
    }
  }

  function onFrame() {
    var frameStart = performance.now();
    st.frameScheduled = false;
    if (st.paused) { return; }
    var targets = (st.config && st.config.targets) || {};
    var byGraph = {};
    var deferred = {};
    var heldThisFrame = {};
    var drewAny = false, overBudget = false;
    Object.keys(st.pending).forEach(function (key) {
      var pts = st.pending[key];
      if (drewAny && performance.now() - frameStart > FRAME_BUDGET_MS) {
        overBudget = true;
        deferred[key] = pts;
        return;
      }
      pts.sort(function (a, b) { return a[0] - b[0]; });
      var last = pts[pts.length - 1];
      (targets[key] || []).forEach(function (t) {
        if (t.type === "text") {
          if (t.lastTs !== undefined && last[0] < t.lastTs) { return; } // an older point: keep the newer
          t.lastTs = last[0];
          setTile(t.id, formatValue(last[1], t.format), valueClass(last[1], t), levelTitle(last[1], t));
          drewAny = true;
        } else if (t.type === "status") {
          if (t.lastTs !== undefined && last[0] < t.lastTs) { return; }
          t.lastTs = last[0];
          var s = statusOf(last[1]);
          setTile(t.id, s[0], s[1]);
          drewAny = true;
        } else if (t.type === "newtrace") {
          if (!onScreen(t.graph) || lazyPending(t.graph)) {
            if (!heldThisFrame[key]) { holdOffscreen(key, pts); heldThisFrame[key] = true; }
            return;
          }
          var ngd = graphDiv(t.graph);
          if (!ngd || !window.Plotly) {
            deferred[key] = pts;
            return;
          }
          window.Plotly.addTraces(ngd, { type: "scatter", mode: "lines", name: t.name, x: [], y: [],
                                         line: { width: 1.5 } });
          t.type = "trace";
          t.trace = ngd.data.length - 1;
          deferred[key] = pts; // drawn by the next frame, into the new trace
          return;
        }
        if (t.type === "trace") {
          if (!onScreen(t.graph) || lazyPending(t.graph)) {
            if (!heldThisFrame[key]) { holdOffscreen(key, pts); heldThisFrame[key] = true; }
            return;
          }
          var gd = graphDiv(t.graph);
          if (!gd || !window.Plotly) {
            deferred[key] = pts;
            return;
          }
          var trace = gd.data[t.trace];
          if (!trace) { return; }
          var xs = trace.x || [];
          var lastX = xs.length ? xs[xs.length - 1] : -Infinity;
          var nx = [], ny = [];
          for (var i = 0; i < pts.length; i++) {
            if (pts[i][0] > lastX) {
              nx.push(pts[i][0]);
              ny.push(pts[i][1]);
              lastX = pts[i][0];
            }
          }
          // a chart with nothing new is not drawn: an empty draw still costs a redraw of its
          // axes, and on a slow machine it took the frame's budget every frame, so a chart
          // after it (a tile's sparkline) was put off for ever
          if (!nx.length) { return; }
          var g = byGraph[t.graph] ||
            (byGraph[t.graph] = { gd: gd, x: [], y: [], traces: [], max: [], keys: [], drawn: {} });
          g.keys.push(key);
          var cutoff = nx[nx.length - 1] - t.window;
          var keep = xs.length - firstIndexAtOrAfter(xs, cutoff) + nx.length;
          g.x.push(nx);
          g.y.push(ny);
          g.traces.push(t.trace);
          g.max.push(keep);
          g.drawn[key] = { ts: nx[nx.length - 1], value: ny[ny.length - 1] };
        }
      });
    });
    var drewGraph = false;
    Object.keys(byGraph).forEach(function (id) {
      var g = byGraph[id];
      if (drewGraph && performance.now() - frameStart + chartCostMs > FRAME_BUDGET_MS) {
        // next frame: its points go back to pending (points already drawn elsewhere are
        // skipped then by the timestamp check, and text targets take the newest value again)
        overBudget = true;
        g.keys.forEach(function (key) {
          if (!deferred[key]) { deferred[key] = st.pending[key]; }
        });
        return;
      }
      var drawStart = performance.now();
      // the dashboard's plotly bundle draws new points without a full redraw (same result)
      (window.Plotly.extendTracesLive || window.Plotly.extendTraces)(
        g.gd, { x: g.x, y: g.y }, g.traces, g.max);
      drewGraph = true;
      var at = performance.now();
      chartCostMs = 0.8 * chartCostMs + 0.2 * (at - drawStart);
      Object.keys(g.drawn).forEach(function (key) {
        stats.drawn[key] = { ts: g.drawn[key].ts, value: g.drawn[key].value, at: at };
      });
    });
    st.pending = deferred;
    st.pendingPoints = 0;
    stats.frames += 1;
    stats.lastFrameAt = performance.now();
    if (overBudget) {
      scheduleFrame();
    } else if (Object.keys(deferred).length) {
      window.setTimeout(scheduleFrame, 100);
    }
  }

  /* ---- cursors, gaps and catch-up ---- */

  function advance(cursor) {
    var c = parseCursor(st.cursor), n = parseCursor(cursor);
    if (!st.cursor || (n.epoch === c.epoch && n.seq > c.seq)) {
      st.cursor = cursor;
    }
  }

  function reset() {
    // The node restarted or our cursor is older than its log: reload history from scratch.
    var last = parseInt(window.sessionStorage.getItem("dashLiveReload") || "0", 10);
    if (Date.now() - last > 30000) {
      window.sessionStorage.setItem("dashLiveReload", String(Date.now()));
      window.location.reload();
    } else {
      showState("offline", "The server restarted: reload the page");
    }
  }

  function onBatch(msg) {
    stats.messages += 1;
    if (st.paused && st.overflow) {
      return; // fetched again from the pause's cursor on resume
    }
    if (!st.config || st.catchingUp) {
      st.queued.push(msg);
      return;
    }
    var c = parseCursor(st.cursor), m = parseCursor(msg.cursor), p = parseCursor(msg.prev);
    if (m.epoch !== c.epoch) {
      reset();
      return;
    }
    if (m.seq <= c.seq) {
      return; // already applied (from a poll or a catch-up)
    }
    if (p.epoch === c.epoch && p.seq > c.seq) {
      st.queued.push(msg);
      catchUp();
      return;
    }
    apply(msg.series);
    st.cursor = msg.cursor;
  }

  function drainQueue() {
    var q = st.queued;
    st.queued = [];
    q.forEach(onBatch);
  }

  function catchUp() {
    if (st.catchingUp || !st.socket || !st.socket.connected) { return; }
    st.catchingUp = true;
    st.socket.timeout(5000).emit("since", { dashboard: st.config.dashboard, vars: st.config.vars || {}, cursor: st.cursor }, function (err, res) {
      st.catchingUp = false;
      if (!err && res) {
        if (res.reset) { reset(); return; }
        if (!res.error) {
          apply(res.series);
          advance(res.cursor);
        }
      }
      drainQueue();
    });
  }

  /* ---- the node's dependencies: its bus or database down delays updates ---- */

  var health = { message: "" };

  function onHealth(h) {
    var was = health.message;
    health.message = (h && !h.ok && h.message) || "";
    // with the database alone down on a Redis setup the live feed goes on: no polling then
    if (health.message && h.live === false) {
      startPolling(); // again after a reconnect, whose "connect" stopped it
    } else if (was && st.socket && st.socket.connected) {
      stopPolling();
      catchUp();
    }
    if (health.message === was) { return; }
    setProps(IDS.banner, {
      children: !health.message ? "" : h.live === false
        ? health.message + ": new points appear when it is back." : health.message + ".",
      hidden: !health.message,
    });
    if (st.mode === "live") { showState("live", "Live"); }
  }

  /* ---- connection, backoff and the polling fallback ---- */

  function startPolling() {
    if (st.polling) { return; }
    st.polling = true;
    setProps(IDS.cursor, { data: st.cursor });
    setProps(IDS.poll, { disabled: false });
  }

  function stopPolling() {
    if (!st.polling) { return; }
    st.polling = false;
    setProps(IDS.poll, { disabled: true });
  }

  function clearTimers() {
    if (st.retryTimer) { window.clearTimeout(st.retryTimer); st.retryTimer = null; }
    if (st.countdownTimer) { window.clearInterval(st.countdownTimer); st.countdownTimer = null; }
  }

  function scheduleReconnect() {
    if (st.retryTimer) { return; }
    if (st.attempts >= BACKOFF.retries) {
      clearTimers();
      showState("offline", "Offline: live updates stopped (polling)");
      return;
    }
    var base = Math.min(BACKOFF.max, BACKOFF.initial * Math.pow(BACKOFF.factor, st.attempts));
    var delay = base * (0.75 + Math.random() * 0.5);
    st.attempts += 1;
    var due = Date.now() + delay;
    var tick = function () {
      var secs = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      showState("reconnecting", "Reconnecting in " + secs + " s (polling)");
    };
    tick();
    st.countdownTimer = window.setInterval(tick, 1000);
    st.retryTimer = window.setTimeout(function () {
      clearTimers();
      showState("reconnecting", "Reconnecting… (polling)");
      st.socket.connect();
    }, delay);
  }

  // the room a page is in: its dashboard, with its variables' values (the server writes them into
  // the dashboard's series and expressions)
  function room() {
    return { dashboard: st.config.dashboard, vars: st.config.vars || {} };
  }

  function subscribe() {
    var wanted = room();
    if (st.subscribed && JSON.stringify(st.subscribed) !== JSON.stringify(wanted)) {
      st.socket.emit("unsubscribe", st.subscribed);
    }
    st.subscribed = wanted;
    st.socket.emit("subscribe", wanted, function (ack) {
      if (!ack || ack.error) {
        showState("offline", "Live updates refused: " + ((ack && ack.error) || "no answer"));
        return;
      }
      if (ack.health) { onHealth(ack.health); }
      if (ack.cursor !== st.cursor) {
        catchUp();
      }
    });
  }

  function connect() {
    if (typeof window.io !== "function") {
      showState("offline", "Live client missing");
      return;
    }
    var socket = window.io("/live", {
      transports: ["websocket", "polling"],
      reconnection: false,
      timeout: 10000,
    });
    st.socket = socket;
    // other scripts (alerts.js) attach their handlers before the socket connects
    (window.dashLiveHooks || []).forEach(function (hook) { hook(socket); });
    socket.on("connect", function () {
      st.attempts = 0;
      clearTimers();
      stopPolling();
      showState("live", "Live");
      if (st.config) { subscribe(); }
    });
    socket.on("points", onBatch);
    socket.on("status", onHealth);
    socket.on("disconnect", function (reason) {
      if (reason === "io client disconnect") { return; }
      startPolling();
      if (reason === "io server disconnect" && window.dashAuth) {
        // the server ends a socket when its session expires: renew the session, then reconnect
        window.dashAuth.refresh().then(function () { scheduleReconnect(); });
        return;
      }
      scheduleReconnect();
    });
    socket.on("connect_error", function (err) {
      startPolling();
      if (err && err.message === "unauthorized" && window.dashAuth) {
        window.dashAuth.refresh().then(function (ok) {
          if (ok) { scheduleReconnect(); } else { window.dashAuth.toLogin(); }
        });
        return;
      }
      scheduleReconnect();
    });
  }

  document.addEventListener("click", function (ev) {
    if (ev.target && ev.target.id === IDS.pause) {
      if (st.paused) { resume(); } else { pause(); }
      return;
    }
    if (ev.target && ev.target.id === IDS.retry && st.socket) {
      st.attempts = 0;
      clearTimers();
      showState("reconnecting", "Reconnecting…");
      st.socket.connect();
    }
  });

  /* ---- a zoom on a chart becomes the page's range, so a link shares the zoomed view ---- */

  function toMs(value) {
    if (typeof value === "number") { return value; }
    return new Date(String(value).replace(" ", "T") + "Z").getTime();
  }

  function wireZoom() {
    document.querySelectorAll(".widget-graph").forEach(function (outer) {
      zoomable(outer.querySelector(".js-plotly-plot"));
    });
  }

  function zoomable(gd) {
    if (!gd || !gd.on || gd.__dashZoom || !gd.closest || !gd.closest(".widget-graph")) { return; }
    gd.__dashZoom = true;
    gd.on("plotly_relayout", function (ev) {
        if (!ev || ev["xaxis.range[0]"] === undefined || ev["xaxis.range[1]"] === undefined) {
          return;
        }
        var start = Math.round(toMs(ev["xaxis.range[0]"]));
        var end = Math.round(toMs(ev["xaxis.range[1]"]));
        if (isNaN(start) || isNaN(end) || start >= end) { return; }
        var params = new URLSearchParams(window.location.search);
        var back = params.get("range") || params.get("back");  // for the breadcrumb's way back
        ["range", "from", "to", "back"].forEach(function (k) { params.delete(k); });
        if (back) { params.set("back", back); }
        params.set("from", start);
        params.set("to", end);
        setProps("page-url", { search: "?" + params.toString() });
    });
  }
  window.setInterval(function () { wireZoom(); wireLazy(); }, 300);

  window.dashLive = {
    configure: function (config) {
      var first = !st.config;
      st.config = config;
      st.cursor = config.cursor;
      st.pending = {};
      if (!st.socket) {
        connect();
      } else if (st.socket.connected && (first || !st.subscribed
          || JSON.stringify(st.subscribed) !== JSON.stringify(room()))) {
        subscribe();  // another dashboard, or other values of its variables: another room
      }
      drainQueue();
      window.setTimeout(wireLazy, 0); // a grid drawn anew may show slots near the viewport
    },
    receive: function (data, source) {
      if (!data) { return; }
      if (data.reset) { reset(); return; }
      if (data.health) { onHealth(data.health); }
      apply(data.series);
      advance(data.cursor);
    },
    state: function () { return st.mode; },
    health: function () { return health.message; },
    paused: function () { return st.paused; },
    pause: pause,
    resume: resume,
    cursor: function () { return st.cursor; },
    stats: stats,
    socket: function () { return st.socket; },
    // the number format and the threshold step of live values (tests compare them with Python's)
    format: formatValue,
    valueClass: valueClass,
  };
})();
