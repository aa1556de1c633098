// The status page's script: polls api/status and renders it. Plain browser JavaScript, no build.
// Every URL is relative, because under Home Assistant ingress the page lives below a path
// prefix. Text from the proxy (ids, unknown message kinds) goes in with textContent only, never
// as HTML: frames come from the network and could carry markup.

const POLL_MS = 3000;
const RECENT_SHOWN = 10;

let lastCaptureKey = "";
let lastSnapshot = null;

/** Element with a class and children (strings become text nodes). */
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function fmt(value, digits, unit) {
  if (value === null || value === undefined) return "—";
  return `${value.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`;
}

function clock(ms) {
  return ms ? new Date(ms).toLocaleTimeString() : "—";
}

function ago(ms, now) {
  if (!ms) return "never";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min ago`;
  const h = Math.round(m / 60);
  return h < 36 ? `${h} h ago` : new Date(ms).toLocaleString();
}

function messageLabel(c) {
  return c.kind ? `${c.type} (${c.kind})` : c.type;
}

function answerLabel(c) {
  if (c.answer === null) return "none";
  return c.answeredBy === "ema" ? `EMA: ${c.answer}` : c.answer;
}

function renderMode(s) {
  const mode = document.getElementById("mode");
  if (s.mode === "cloudless") {
    mode.textContent = "Cloudless: answered locally";
    mode.className = "pill good";
    return;
  }
  const r = s.ema.reachable;
  mode.textContent =
    r === null
      ? "Forwarding to EMA"
      : r
        ? "Forwarding · EMA reachable"
        : "Forwarding · EMA unreachable";
  mode.className = `pill ${r === false ? "warn" : "good"}`;
  mode.title = s.ema.lastError
    ? `last EMA error: ${s.ema.lastError}`
    : `${s.ema.answersFromEma} answers from EMA, ${s.ema.answersFromProxy} from the proxy`;
}

/** A name or address an ECU on the LAN can reach: private IPv4 or a .local / single-label name. */
function lanHost(host) {
  if (/^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(host)) return true;
  return /^[a-z0-9-]+(\.local)?$/i.test(host) && host !== "localhost";
}

/** The address the ECU must reach: the proxy's own LAN address, else the one this page uses. */
function ecuTarget(s) {
  if (s.hostAddresses.length > 0) return s.hostAddresses.join(" or ");
  if (lanHost(location.hostname)) return location.hostname;
  return "your Home Assistant host's LAN address (Settings → System → Network)";
}

function renderFirstRun(s) {
  const box = document.getElementById("first-run");
  box.hidden = s.ecus.length > 0 || s.recent.length > 0;
  if (box.hidden) return;
  for (const node of box.querySelectorAll(".first-run-host")) {
    node.textContent = ecuTarget(s);
  }
  for (const node of box.querySelectorAll(".first-run-ports")) {
    node.textContent = s.ports.map((p) => p.port).join(", ");
  }
}

function fillTable(id, rows) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren(
    ...rows.map((cells) => {
      const tr = el("tr", "");
      for (const cell of cells) tr.append(typeof cell === "string" ? el("td", "", cell) : cell);
      return tr;
    }),
  );
}

/** Why the broker is not connected, as the link last saw it. */
function brokerDown(ha, now) {
  if (!ha.since && !ha.problem) return "connecting…";
  const when = ha.since ? `disconnected ${ago(ha.since, now)}` : "not connected";
  return `${when}${ha.problem ? `: ${ha.problem}` : ""}, retrying`;
}

function renderHomeAssistant(s, now) {
  const ha = s.homeAssistant;
  const state = !ha.configured
    ? ["", "no broker configured: readings are only logged"]
    : ha.connected
      ? ["good", `connected ${ago(ha.since, now)}`]
      : ["warn", brokerDown(ha, now)];
  const pill = document.getElementById("ha-state");
  pill.className = `pill ${state[0]}`;
  pill.textContent = state[1];
  document
    .getElementById("ha-stats")
    .replaceChildren(
      stat("Last publish", ago(ha.lastPublishAt, now)),
      stat("Devices announced", String(ha.devicesAnnounced)),
      stat("Listening since", ago(s.listeningSince, now), clock(s.listeningSince)),
    );
}

function renderStorage(s, now) {
  const problem = s.storage.problem;
  document.getElementById("storage").hidden = problem === null;
  if (problem === null) return;
  document.getElementById("storage-what").textContent =
    `${problem.what === "journal" ? "The journal of rounds" : "The state snapshot"} ${problem.path} cannot be written: ${problem.code}.`;
  document.getElementById("storage-fix").textContent = problem.fix;
  document
    .getElementById("storage-stats")
    .replaceChildren(
      stat("Failing since", ago(problem.since, now), clock(problem.since)),
      stat("Rounds left unconfirmed", String(s.storage.unconfirmedRounds)),
    );
}

function render(s) {
  const now = s.generatedAt;
  renderMode(s);
  renderStorage(s, now);
  renderHomeAssistant(s, now);
  renderFirstRun(s);
  document.getElementById("ecus").replaceChildren(...s.ecus.map((e) => ecuCard(e, now)));
  fillTable(
    "ports",
    s.ports.map((p) =>
      p.last
        ? [
            String(p.port),
            p.purpose,
            `${clock(p.last.at)} (${ago(p.last.at, now)})`,
            p.last.remote,
            messageLabel(p.last),
            el("td", "answer", answerLabel(p.last)),
          ]
        : [String(p.port), p.purpose, "none yet", "", "", ""],
    ),
  );
  fillTable(
    "recent",
    s.recent
      .slice(0, RECENT_SHOWN)
      .map((c) => [
        clock(c.at),
        String(c.port),
        c.remote,
        c.ecuId ?? "",
        messageLabel(c),
        el("td", "answer", answerLabel(c)),
      ]),
  );
  document.getElementById("recent-empty").hidden = s.recent.length > 0;
  const kib = (b) => `${(b / 1024).toFixed(b < 10240 ? 1 : 0)} KiB`;
  document.getElementById("capture-size").textContent =
    `${s.captures.count} kept, ${kib(s.captures.bytes)} of ${kib(s.captures.maxBytes)}`;
  document.getElementById("version").textContent = `apsystems-ecu-proxy ${s.version}`;
  document.getElementById("updated").textContent = `updated ${new Date(now).toLocaleTimeString()}`;
}

const REASON = {
  sample: "latest of its kind",
  undecodable: "could not decode",
  unanswered: "not answered",
};

async function refreshCaptures(s) {
  const key = `${s.captures.count}/${s.captures.bytes}`;
  if (key === lastCaptureKey) return;
  const list = await (await fetch("api/captures", { cache: "no-store" })).json();
  lastCaptureKey = key;
  fillTable(
    "captures",
    list
      .slice(-50)
      .reverse()
      .map((c) => [
        clock(c.at),
        c.ecuId ?? "",
        c.kind,
        REASON[c.reason] ?? c.reason,
        String(c.bytes),
      ]),
  );
}

async function poll() {
  const problem = document.getElementById("problem");
  try {
    const res = await fetch("api/status", { cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    lastSnapshot = await res.json();
    render(lastSnapshot);
    await refreshCaptures(lastSnapshot);
    problem.hidden = true;
    document.body.dataset.state = lastSnapshot.ecus.length > 0 ? "ecus" : "waiting";
  } catch (err) {
    problem.textContent = `Cannot reach the proxy (${err.message}); retrying. ${lastSnapshot ? "Showing the last state." : ""}`;
    problem.hidden = false;
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

// The chart is drawn at the page's pixel width: redraw when that changes (phone rotation).
let resizeTimer;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => lastSnapshot && render(lastSnapshot), 100);
});

poll();
