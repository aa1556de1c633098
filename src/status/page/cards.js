// The ECU and inverter cards of the status page (loaded before app.js, which renders them).
// Plain browser JavaScript, no build; it uses app.js's el(), fmt() and ago() at call time and
// chart.js's chart(). Text from the proxy goes in with textContent only, never as HTML.

function stat(label, value, sub) {
  return el(
    "div",
    "stat",
    el("span", "label", label),
    el("span", "value", value),
    sub ? el("span", "sub", sub) : null,
  );
}

/** Inverter control: the confirmed state, and the newest change's status in brackets. */
function controlLine(c) {
  const status = (s) => (s ? ` (${s.replace("_", " ")})` : "");
  const on = c.on === null ? "unknown" : c.on === "ON" ? "on" : "off";
  const limit = c.powerLimitW === null ? "unknown" : `${c.powerLimitW} W`;
  const line = el(
    "div",
    "control",
    `control: ${on}${status(c.onStatus)}, power limit ${limit}${status(c.powerLimitStatus)}`,
  );
  if (c.detail) line.append(el("div", "problem", c.detail));
  return line;
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
  if (inv.layoutInferred) {
    card.append(
      el(
        "div",
        "inferred",
        `layout inferred: type code ${inv.typeCode} is unknown; read as type ${inv.layoutInferred}, which its id and record length fit`,
      ),
    );
  }
  if (inv.missing) card.append(el("div", "problem", "missing from the ECU's last rounds"));
  if (inv.weak) card.append(el("div", "problem", "low output compared with its siblings"));
  if (inv.control) card.append(controlLine(inv.control));
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

/** A learned clock offset in words: "3 h 5 min behind", "2 h ahead", "on time". */
function clockText(offsetS) {
  if (offsetS === null || offsetS === undefined) return null;
  const minutes = Math.round(Math.abs(offsetS) / 60);
  if (minutes === 0) return "on time";
  const days = Math.floor(minutes / 1440);
  const parts = [];
  if (days >= 365) parts.push(`${Math.floor(days / 365.25)} years`);
  else if (days > 0) parts.push(`${days} d`);
  if (days < 365) {
    const h = Math.floor((minutes % 1440) / 60);
    if (h > 0) parts.push(`${h} h`);
    if (minutes % 60 > 0 && days === 0) parts.push(`${minutes % 60} min`);
  }
  return `${parts.join(" ")} ${offsetS > 0 ? "ahead" : "behind"}`;
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
  const inferred = ecu.inverters.some((i) => i.layoutInferred);
  if (ecu.unknownKinds.length > 0 || ecu.inverters.some((i) => i.problem) || inferred) {
    const kinds = ecu.unknownKinds.join(", ");
    card.append(
      el(
        "p",
        "notice",
        kinds
          ? `This ECU sends messages the proxy cannot decode yet (${kinds}). `
          : ecu.inverters.some((i) => i.problem)
            ? "Some inverter records could not be decoded. "
            : "Some inverters send a type code nobody has published; their values are read with the layout their id and record length fit (layout inferred). ",
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
        [
          ecu.lastRoundTimestamp ? `ECU time ${ecu.lastRoundTimestamp.replace("T", " ")}` : null,
          ecu.clockOffsetS === null ? null : `clock ${clockText(ecu.clockOffsetS)}`,
        ]
          .filter(Boolean)
          .join(" · ") || null,
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
      `${ecu.aheadRounds} rounds refused: dated ahead of the clock (the ECU keeps and resends them)`,
    );
  }
  if (ecu.clockWrong) {
    doubts.push(
      `ECU clock wrong: ${clockText(ecu.clockOffsetS)} (corrected; the documentation says how to set it)`,
    );
  }
  if (doubts.length > 0) card.append(el("p", "muted", doubts.join(" · ")));
  card.append(chart(ecu.series));
  const scale = Math.max(1, ...ecu.inverters.flatMap((i) => i.channels.map((c) => c.powerW ?? 0)));
  card.append(el("div", "inverters", ...ecu.inverters.map((inv) => inverterCard(inv, scale))));
  return card;
}
