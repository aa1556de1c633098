// Today's power chart for the status page (loaded before app.js, which calls chart()). Plain
// browser JavaScript, no build; it uses app.js's el() at call time.

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
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
