#!/usr/bin/env node
// N live viewers of one dashboard, each a real Engine.IO 4 / Socket.IO 5 client over a websocket
// (what the page's socket.io client does with transports: ["websocket"]), in one Node process.
//
//   node viewers.js --url http://127.0.0.1:8050 --cookie 'access_token=...; _csrf_token=...'
//                   --dashboard bench-viewers --viewers 1000 [--batch 200] [--deflate 1]
//
// Each viewer opens /socket.io/?EIO=4&transport=websocket with the session cookie and an Origin
// header of the server's URL, answers the server's pings, connects the /live namespace and
// subscribes to the dashboard (an acked `subscribe`). Viewers connect in batches of --batch.
// stdout: JSON lines. {"event":"ready", ...} once every viewer has connected or failed; then it
// reads commands on stdin: "start" opens the measuring window (counters reset), "snapshot"
// prints the window so far, "stop" prints {"event":"result", ...} and exits.
// A `points` message's delay is its receipt time minus the value of its first point (the
// oldest, see onPoints), the bench posting each point with its send time (Unix ms) as the
// value: both clocks are this machine's.
"use strict";

const { performance, monitorEventLoopDelay } = require("node:perf_hooks");
const readline = require("node:readline");
const WebSocket = require("ws");

function parseArgs(argv) {
  const out = { batch: 200, timeoutMs: 30000, deflate: 1, namespace: "/live", checkEvery: 50 };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    out[key] = argv[i + 1];
  }
  for (const k of ["viewers", "batch", "timeoutMs", "deflate", "checkEvery"]) out[k] = Number(out[k]);
  if (!out.url || !out.cookie || !out.dashboard || !out.viewers) {
    process.stderr.write("usage: viewers.js --url URL --cookie C --dashboard ID --viewers N\n");
    process.exit(2);
  }
  out.origin = out.origin || out.url.replace(/\/+$/, "");
  return out;
}

const args = parseArgs(process.argv);
const NS = args.namespace;
const EVENT = `42${NS},`;
const ACK = `43${NS},`;
const CONNECTED = `40${NS},`;
const REFUSED = `44${NS},`;
const wsUrl = args.url.replace(/^http/, "ws").replace(/\/+$/, "") + "/socket.io/?EIO=4&transport=websocket";

const nowMs = () => performance.timeOrigin + performance.now();

// delays in 0.1 ms buckets up to 60 s; beyond that in `overflow`
const BUCKETS = 600000;
class Histogram {
  constructor() {
    this.counts = new Uint32Array(BUCKETS);
    this.overflow = [];
    this.n = 0;
    this.max = 0;
  }
  add(ms) {
    const v = ms < 0 ? 0 : ms;
    this.n += 1;
    if (v > this.max) this.max = v;
    const b = Math.floor(v * 10);
    if (b < BUCKETS) this.counts[b] += 1;
    else this.overflow.push(v);
  }
  quantile(q) {
    if (this.n === 0) return null;
    const rank = Math.ceil(q * this.n);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b];
      if (seen >= rank) return (b + 0.5) / 10;
    }
    const rest = this.overflow.slice().sort((a, b) => a - b);
    return rest[Math.min(rest.length - 1, rank - seen - 1)];
  }
}

function emptyWindow() {
  return {
    started: nowMs(),
    cpu: process.cpuUsage(),
    delay: new Histogram(),
    messages: 0,
    bytes: 0,
    gaps: 0,
    other: 0,
    disconnects: 0,
    checked: 0,
    checkedPoints: 0,
    mismatches: 0,
  };
}

let win = emptyWindow();
const totals = { messages: 0, bytes: 0, disconnects: 0, errors: {} };
const connectMs = new Histogram();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const viewers = [];

function countError(kind) {
  totals.errors[kind] = (totals.errors[kind] || 0) + 1;
}

// A `points` message is read without decoding it all: its head holds the cursor, prev and the
// first point of the first series, the oldest of that series (points are in arrival order),
// and every series of a bench message comes from the same batches. Decoding each message whole
// would make the generator the bottleneck: with 10,000 viewers the same message arrives 10,000
// times at once, and one process reads them one after another. One message in --check-every is
// decoded whole (JSON.parse) to check the shortcut: its points are counted, and a first point
// that is not the oldest counts as a mismatch.
const POINTS_HEAD = Buffer.from(`42${NS},["points",`);
const CURSOR = '"cursor":"';
const PREV = '"prev":"';
const SERIES = '"series":{';
let received_seq = 0;

function field(head, name) {
  const at = head.indexOf(name);
  if (at < 0) return undefined;
  const from = at + name.length;
  return head.slice(from, head.indexOf('"', from));
}

function onPoints(viewer, data, received) {
  const head = data.toString("latin1", 0, 512);
  const cursor = field(head, CURSOR);
  const prev = field(head, PREV);
  const s = head.indexOf(SERIES);
  const first = s < 0 ? -1 : head.indexOf("[[", s);
  if (viewer.cursor !== null && prev !== viewer.cursor) win.gaps += 1;
  viewer.cursor = cursor;
  win.messages += 1;
  if (first >= 0) {
    const comma = head.indexOf(",", first);
    const value = Number(head.slice(comma + 1, head.indexOf("]", comma)));
    win.delay.add(received - value);
  }
  received_seq += 1;
  if (received_seq % args.checkEvery === 0) {
    const [, payload] = JSON.parse(data.toString("utf8", EVENT.length));
    let oldest = Infinity;
    let firstValue = null;
    for (const key in payload.series) {
      const pts = payload.series[key];
      win.checkedPoints += pts.length;
      for (let i = 0; i < pts.length; i++) {
        if (firstValue === null) firstValue = pts[i][1];
        if (pts[i][1] < oldest) oldest = pts[i][1];
      }
    }
    win.checked += 1;
    if (payload.cursor !== cursor || (firstValue !== null && firstValue !== oldest)) win.mismatches += 1;
  }
}

function connectViewer() {
  return new Promise((resolve) => {
    const started = nowMs();
    const viewer = { ws: null, ready: false, cursor: null };
    let settled = false;
    const finish = (ok, kind) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ok) {
        viewer.ready = true;
        connectMs.add(nowMs() - started);
        viewers.push(viewer);
      } else {
        countError(kind);
        try {
          ws.terminate();
        } catch (_) {
          /* already gone */
        }
      }
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false, "timeout"), args.timeoutMs);
    const ws = new WebSocket(wsUrl, {
      headers: { Cookie: args.cookie, Origin: args.origin },
      perMessageDeflate: Boolean(args.deflate), // a browser always offers it
      handshakeTimeout: args.timeoutMs,
      skipUTF8Validation: true,
    });
    viewer.ws = ws;
    ws.on("message", (data) => {
      const received = nowMs();
      totals.messages += 1;
      totals.bytes += data.length;
      win.bytes += data.length;
      if (viewer.ready && data.length > POINTS_HEAD.length && data.compare(POINTS_HEAD, 0, POINTS_HEAD.length, 0, POINTS_HEAD.length) === 0) {
        onPoints(viewer, data, received);
        return;
      }
      const text = data.toString();
      if (text === "2") {
        ws.send("3"); // Engine.IO ping -> pong
        return;
      }
      if (text.startsWith(EVENT)) {
        win.other += 1; // another event (status, alert)
        return;
      }
      if (text[0] === "0") {
        ws.send(`40${NS},`); // Engine.IO open -> connect the namespace
      } else if (text.startsWith(CONNECTED)) {
        ws.send(`42${NS},1${JSON.stringify(["subscribe", { dashboard: args.dashboard }])}`);
      } else if (text.startsWith(ACK)) {
        const ack = JSON.parse(text.slice(ACK.length + 1))[0];
        if (ack && ack.cursor !== undefined && !ack.error) {
          viewer.cursor = ack.cursor;
          finish(true);
        } else finish(false, "subscribe_refused");
      } else if (text.startsWith(REFUSED)) {
        finish(false, "namespace_refused");
      } else if (text === "1") {
        ws.close();
      }
    });
    ws.on("unexpected-response", (_req, res) => finish(false, `http_${res.statusCode}`));
    ws.on("error", (err) => finish(false, err.code || "error"));
    ws.on("close", () => {
      if (viewer.ready) {
        viewer.ready = false;
        totals.disconnects += 1;
        win.disconnects += 1;
      } else finish(false, "closed");
    });
  });
}

function summary(w) {
  const wall = (nowMs() - w.started) / 1000;
  const cpu = process.cpuUsage(w.cpu);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const live = viewers.filter((v) => v.ready).length;
  const per = Math.max(live, 1);
  return {
    seconds: wall,
    viewers_live: live,
    messages: w.messages,
    checked_messages: w.checked,
    checked_points_per_message: w.checked ? w.checkedPoints / w.checked : null,
    check_mismatches: w.mismatches,
    bytes: w.bytes,
    gaps: w.gaps,
    other_events: w.other,
    disconnects: w.disconnects,
    delay_samples: w.delay.n,
    delay_p50_ms: w.delay.quantile(0.5),
    delay_p99_ms: w.delay.quantile(0.99),
    delay_max_ms: w.delay.n ? w.delay.max : null,
    messages_per_s_per_viewer: w.messages / wall / per,
    bytes_per_s_per_viewer: w.bytes / wall / per,
    generator_cpu_s: cpuS,
    generator_cpu_share: cpuS / wall, // of one core; Node runs JS on one thread
    generator_loop_delay_p99_ms: loopDelay.percentile(99) / 1e6,
    generator_rss_mb: process.memoryUsage().rss / 1e6,
  };
}

function print(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

async function main() {
  const t0 = nowMs();
  const cpu0 = process.cpuUsage();
  let connected = 0;
  for (let done = 0; done < args.viewers; done += args.batch) {
    const n = Math.min(args.batch, args.viewers - done);
    const results = await Promise.all(Array.from({ length: n }, connectViewer));
    connected += results.filter(Boolean).length;
  }
  const cpu = process.cpuUsage(cpu0);
  print({
    event: "ready",
    asked: args.viewers,
    connected,
    connect_seconds: (nowMs() - t0) / 1000,
    connect_p50_ms: connectMs.quantile(0.5),
    connect_p99_ms: connectMs.quantile(0.99),
    connect_max_ms: connectMs.n ? connectMs.max : null,
    connect_cpu_s: (cpu.user + cpu.system) / 1e6,
    errors: totals.errors,
  });
  const rl = readline.createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    const cmd = line.trim();
    if (cmd === "start") {
      win = emptyWindow();
      loopDelay.reset();
    } else if (cmd === "snapshot") {
      print({ event: "snapshot", ...summary(win) });
    } else if (cmd === "stop") {
      print({ event: "result", ...summary(win), errors: totals.errors });
      for (const v of viewers) v.ws.terminate();
      process.exit(0);
    }
  });
  rl.on("close", () => process.exit(0));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack) + "\n");
  process.exit(1);
});
