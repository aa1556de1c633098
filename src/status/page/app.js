// The status page's script: polls api/status and renders it. Plain browser JavaScript, no build.
// Every URL is relative, because under Home Assistant ingress the page lives below a path
// prefix. Text from the proxy (ids, unknown message kinds) goes in with textContent only, never
// as HTML: frames come from the network and could carry markup.

const POLL_MS = 3000;
const RECENT_SHOWN = 10;
const SVG = "http://www.w3.org/2000/svg";

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

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
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

/** Today's power as an area chart; x = the ECU's own clock, so no time zone is involved. */
function chart(series) {
  const fig = el("figure", "chart");
  if (series.length === 0) {
    fig.append(el("figcaption", "", "Today's power: no rounds today yet."));
    return fig;
  }
  const minutes = series.map((p) => Number(p.t.slice(0, 2)) * 60 + Number(p.t.slice(3, 5)));
  const x0 = Math.floor(Math.min(...minutes) / 60) * 60;
  const x1 = Math.max(x0 + 60, Math.ceil((Math.max(...minutes) + 1) / 60) * 60);
  const top = niceMax(Math.max(...series.map((p) => p.w), 1));
  // Drawn at the container's real pixel width, so text is never stretched or clipped.
  const W = Math.max(280, document.getElementById("ecus").clientWidth - 34);
  const H = 170;
  const L = 52;
  const B = 20;
  const R = 22;
  const px = (m) => L + ((m - x0) / (x1 - x0)) * (W - L - R);
  const py = (w) => 8 + (1 - w / top) * (H - B - 8);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img" });
  root.setAttribute("aria-label", "Today's power");
  for (let i = 0; i <= 4; i++) {
    const w = (top * i) / 4;
    root.append(svg("line", { class: "grid", x1: L, x2: W - R, y1: py(w), y2: py(w) }));
    const label = svg("text", { x: L - 6, y: py(w) + 4, "text-anchor": "end" });
    label.textContent = `${Math.round(w)} W`;
    root.append(label);
  }
  const step = x1 - x0 > 8 * 60 ? 180 : x1 - x0 > 3 * 60 ? 120 : 60;
  for (let m = x0; m <= x1; m += step) {
    const label = svg("text", { x: px(m), y: H - 4, "text-anchor": "middle" });
    label.textContent = `${String(Math.floor(m / 60) % 24).padStart(2, "0")}:00`;
    root.append(label);
  }
  const pts = series.map((p, i) => `${px(minutes[i]).toFixed(1)},${py(p.w).toFixed(1)}`);
  if (series.length === 1) {
    root.append(svg("circle", { class: "dot", cx: px(minutes[0]), cy: py(series[0].w), r: 4 }));
  } else {
    const base = py(0).toFixed(1);
    const first = px(minutes[0]).toFixed(1);
    const last = px(minutes[minutes.length - 1]).toFixed(1);
    root.append(
      svg("path", { class: "area", d: `M${first},${base} L${pts.join(" L")} L${last},${base} Z` }),
    );
    root.append(svg("polyline", { class: "line", points: pts.join(" ") }));
  }
  fig.append(root, el("figcaption", "", `Today's power (${series.length} rounds)`));
  return fig;
}

function niceMax(v) {
  const mag = 10 ** Math.floor(Math.log10(v));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * mag >= v) return f * mag;
  return 10 * mag;
}

function stat(label, value, sub) {
  return el(
    "div",
    "stat",
    el("span", "label", label),
    el("span", "value", value),
    sub ? el("span", "sub", sub) : null,
  );
}

function inverterCard(inv, scaleW) {
  const card = el("div", `inverter${inv.online ? "" : " offline"}`);
  card.dataset.uid = inv.uid;
  card.append(
    el(
      "div",
      "inv-head",
      el("strong", "", inv.model === "unknown" ? `type ${inv.typeCode}` : inv.model),
      el("span", "id", inv.uid),
      el("span", `pill ${inv.online ? "good" : ""}`, inv.online ? "online" : "offline"),
      el("span", "temp", inv.temperatureC === null ? "" : `${inv.temperatureC} °C`),
    ),
  );
  if (inv.problem) card.append(el("div", "problem", inv.problem));
  if (inv.missing) card.append(el("div", "problem", "missing from the ECU's last rounds"));
  if (inv.weak) card.append(el("div", "problem", "low output compared with its siblings"));
  inv.channels.forEach((ch, i) => {
    const bar = el("div", "bar");
    bar.style.width = `${Math.min(100, ((ch.powerW ?? 0) / scaleW) * 100)}%`;
    const row = el(
      "div",
      "channel",
      el("span", "muted", String(i + 1)),
      el("div", "track", bar),
      el("span", "watts", fmt(ch.powerW, 0, "W")),
      el("span", "energy muted", fmt(ch.energyTodayWh / 1000, 3, "kWh")),
      ch.weak ? el("span", "pill warn", "low") : null,
    );
    row.title = `input ${i + 1}: ${fmt(ch.dcVoltageV, 1, "V")}, ${fmt(ch.dcCurrentA, 1, "A")}`;
    card.append(row);
  });
  return card;
}

function ecuCard(ecu, now) {
  const card = el("section", "card ecu");
  card.dataset.ecu = ecu.id;
  // ecu.online is the proxy's own offline rule (offline_after_minutes), as Home Assistant sees it.
  const fresh = ecu.online;
  card.append(
    el(
      "div",
      "ecu-head",
      el("h2", "", `${ecu.model} `, el("span", "id", ecu.id)),
      el(
        "span",
        `pill ${fresh ? "good" : ecu.lastUploadAt ? "warn" : ""}`,
        fresh ? "uploading" : ecu.lastUploadAt ? "no recent upload" : "no upload yet",
      ),
    ),
  );
  if (ecu.unknownKinds.length > 0 || ecu.inverters.some((i) => i.problem)) {
    const kinds = ecu.unknownKinds.join(", ");
    card.append(
      el(
        "p",
        "notice",
        kinds
          ? `This ECU sends messages the proxy cannot decode yet (${kinds}). `
          : "Some inverter records could not be decoded. ",
        "Support for them grows from captures: please download the masked captures below and attach them to an issue.",
      ),
    );
  }
  const online = ecu.inverters.filter((i) => i.online).length;
  // An ECU known only from other messages (polls, undecodable uploads) has no readings yet.
  const uploaded = ecu.lastUploadAt !== null || ecu.series.length > 0;
  card.append(
    el(
      "div",
      "stats",
      stat("Power", fmt(ecu.powerW, 0, "W")),
      stat(
        "Today",
        uploaded && ecu.energyTodayWh !== null ? fmt(ecu.energyTodayWh / 1000, 3, "kWh") : "—",
      ),
      stat("Lifetime", fmt(ecu.lifetimeEnergyKWh, 1, "kWh")),
      stat("Inverters online", uploaded ? `${online} / ${ecu.inverters.length}` : "—"),
      stat(
        "Last upload",
        ago(ecu.lastUploadAt, now),
        ecu.lastRoundTimestamp ? `ECU time ${ecu.lastRoundTimestamp.replace("T", " ")}` : null,
      ),
      stat("Last contact", ago(ecu.lastContactAt, now)),
    ),
  );
  const doubts = [];
  if (ecu.backlogRounds > 0) {
    doubts.push(`${ecu.backlogRounds} old rounds received (backlog: counted, not shown as live)`);
  }
  if (ecu.aheadRounds > 0) {
    doubts.push(
      `${ecu.aheadRounds} rounds refused: dated ahead of the clock (check the timezone option)`,
    );
  }
  if (doubts.length > 0) card.append(el("p", "muted", doubts.join(" · ")));
  card.append(chart(ecu.series));
  const scale = Math.max(1, ...ecu.inverters.flatMap((i) => i.channels.map((c) => c.powerW ?? 0)));
  card.append(el("div", "inverters", ...ecu.inverters.map((inv) => inverterCard(inv, scale))));
  return card;
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

function renderHomeAssistant(s, now) {
  const ha = s.homeAssistant;
  const state = !ha.configured
    ? ["", "no broker configured: readings are only logged"]
    : ha.connected
      ? ["good", `connected ${ago(ha.since, now)}`]
      : ["warn", ha.since ? `disconnected ${ago(ha.since, now)}, retrying` : "connecting…"];
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

function render(s) {
  const now = s.generatedAt;
  renderMode(s);
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
