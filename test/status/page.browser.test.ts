// biome-ignore-all lint/performance/useDomNodeTextContent: Locator.innerText() is playwright's "text as the user sees it", not the DOM property.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import { type RunningProxy, startProxy } from "../../src/main.js";
import { parseOptions } from "../../src/options/load.js";
import { encodeUpload, type InverterReading } from "../../src/protocol/build.js";
import { decodeFrame } from "../../src/protocol/decode.js";
import { epochToIso, localDate } from "../../src/zoneTime.js";
import { ARTIFACTS, chromiumMissing, ingressProxy, launchChromium } from "../helpers/browser.js";
import { ECU_ID } from "../helpers/fixtures.js";
import { captureFrame, ecuStamp } from "../helpers/haHarness.js";
import { captureLogs } from "../helpers/logs.js";
import { ecuExchange } from "../helpers/tcp.js";

const ZONE = "Europe/Amsterdam";
/** Sum of the capture's channel energies (1.409 + … Wh). */
const CAPTURE_WH = 15.213;
/** The page polls every 3 s; allow two polls and a slow machine. */
const UPDATE_MS = 8000;

/**
 * A sunny stretch of 10-minute rounds for the captured ECU and its two inverters, dated today in
 * ZONE and none after `nowMs` (a round dated ahead of the clock is refused): up to 7½ hours
 * back, not before local midnight, the sun rising and setting over them. (In the first ten
 * minutes after midnight in ZONE there is only one such round.)
 */
function todaysRounds(nowMs: number): string[] {
  const local = epochToIso(nowMs, ZONE);
  const today = local.slice(0, 10).replace(/-/g, "");
  const nowMinute = Number(local.slice(11, 13)) * 60 + Number(local.slice(14, 16));
  const first = Math.max(0, nowMinute - (7 * 60 + 30));
  const rounds: string[] = [];
  for (let minute = first; minute < nowMinute; minute += 10) {
    const sun = Math.max(0, Math.sin(((minute - first + 30) / (nowMinute - first + 60)) * Math.PI));
    const ch = (peakW: number) => {
      const powerW = Math.round(peakW * sun * (0.9 + 0.1 * Math.cos(minute / 17)));
      return {
        powerW,
        dcVoltageV: 33.4,
        dcCurrentA: Math.round((powerW / 33.4) * 10) / 10,
        energyWh: (powerW * 10) / 60,
      };
    };
    const inverters: InverterReading[] = [
      {
        uid: "408000111178",
        typeCode: "07",
        acVoltageV: 231,
        frequencyHz: 50,
        temperatureC: 20 + Math.round(sun * 18),
        channels: [ch(260), ch(250)],
      },
      {
        uid: "806000011223",
        typeCode: "08",
        acVoltageV: 231,
        frequencyHz: 50,
        temperatureC: 22 + Math.round(sun * 20),
        channels: [ch(330), ch(320), ch(300), ch(170)],
      },
    ];
    const hhmm = `${String(Math.floor(minute / 60)).padStart(2, "0")}${String(minute % 60).padStart(2, "0")}`;
    rounds.push(
      encodeUpload({
        ecuId: ECU_ID,
        timestamp: `${today}${hhmm}00`,
        lifetimeEnergyKWh: 2127.9,
        inverters,
      }),
    );
  }
  return rounds;
}

/** `YYYYMMDDhhmmss` → `YYYY-MM-DD hh:mm:ss`, as the page shows ECU times. */
const shownStamp = (t: string) =>
  `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)} ${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12)}`;

describe("status page in headless chromium (Debian's, via playwright-core)", {
  skip: chromiumMissing,
}, () => {
  let dataDir: string;
  let running: RunningProxy;
  let ingress: { server: Server; url: string };
  let browser: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  /** The ECU time the captured round was sent with (the second test). */
  let capturedStamp = "";

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "status-page-"));
    running = await startProxy({
      options: parseOptions({ timezone: ZONE }),
      host: "127.0.0.1",
      ports: [0, 0, 0],
      dataDir,
      statusPort: 0,
      // Add-on mode, with the test's ingress stand-in (on loopback) as the only allowed peer.
      statusAccess: { host: "127.0.0.1", allowFrom: ["127.0.0.1"], ingress: true },
      logger: captureLogs("warning").logger,
    });
    const statusPort = running.status?.server.port ?? 0;
    ingress = await ingressProxy(statusPort);
    browser = await launchChromium();
    page = await browser.newPage();
    // CSP violations and script errors show up here; the page must have none.
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(m.text());
    });
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await browser?.close();
    ingress?.server.close();
    await running?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("with no traffic the first-run guide tells what to do", async () => {
    await page.goto(ingress.url);
    const guide = page.locator("#first-run");
    await guide.waitFor({ state: "visible", timeout: UPDATE_MS });
    const text = await guide.innerText();
    assert.match(text, /No ECU has connected yet/);
    assert.match(text, /ecu\.apsystemsema\.com/);
    assert.match(text, /ecu-proxy simulate --host/);
    const ports = running.server.boundPorts.join(", ");
    assert.ok(text.includes(ports), `guide names the listening ports ${ports}`);
    assert.equal(await page.locator("[data-ecu]").count(), 0);
    await page.screenshot({ path: join(ARTIFACTS, "status-page-first-run.png"), fullPage: true });
  });

  test("after a real upload over TCP the page shows the ECU, its inverters and the exchange, without reload", async () => {
    const port = running.server.boundPorts[1] ?? 0;
    // Stamped with the wall clock in ZONE: only a round close to now is shown as live.
    const timestamp = ecuStamp(Date.now(), ZONE);
    capturedStamp = timestamp;
    const frame = Buffer.concat([captureFrame({ timestamp }), Buffer.from("\n")]);
    const answer = await ecuExchange(port, frame, { expectBytes: 17 });
    const expectedAnswer = `101${timestamp}`;
    assert.equal(answer.toString("latin1"), expectedAnswer);

    const card = page.locator(`[data-ecu="${ECU_ID}"]`);
    await card.waitFor({ state: "visible", timeout: UPDATE_MS });
    assert.equal(await page.locator("#first-run").isHidden(), true);
    const cardText = await card.innerText();
    assert.match(cardText, /ECU-R/);
    assert.match(cardText, /190 W/);
    assert.match(cardText, /2,127\.9 kWh/);
    assert.ok(cardText.includes(`ECU time ${shownStamp(timestamp)}`), cardText);
    const inverters = card.locator(".inverter");
    assert.equal(await inverters.count(), 2);
    const yc600 = await card.locator('[data-uid="408000111178"]').innerText();
    assert.match(yc600, /YC600/);
    assert.match(yc600, /13 °C/);
    assert.match(yc600, /online/);
    assert.equal(await card.locator('[data-uid="408000111178"] .channel').count(), 2);
    const qs1 = await card.locator('[data-uid="806000011223"]').innerText();
    assert.match(qs1, /QS1/);
    assert.match(qs1, /43 W/);
    assert.equal(await card.locator('[data-uid="806000011223"] .channel').count(), 4);

    const recent = await page.locator("#recent tbody tr").first().innerText();
    assert.match(recent, new RegExp(`${port}`));
    assert.match(recent, /upload/);
    assert.match(recent, new RegExp(expectedAnswer));
    const portRow = await page.locator("#ports tbody tr").nth(1).innerText();
    assert.match(portRow, /127\.0\.0\.1/);
    assert.match(portRow, /upload/);
    await page.screenshot({ path: join(ARTIFACTS, "status-page-capture.png"), fullPage: true });
  });

  test("an ECU the proxy cannot decode asks for captures, and the download is masked", async () => {
    const ecuC = "215000012345";
    const rest = `AAAAAAA1${ecuC}0000002500408000999999000123END`;
    const aps16 = `APS16${String(10 + rest.length).padStart(5, "0")}${rest}`;
    await ecuExchange(running.server.boundPorts[0] ?? 0, Buffer.from(`${aps16}\n`), {
      quietMs: 100,
    });

    const card = page.locator(`[data-ecu="${ecuC}"]`);
    await card.waitFor({ state: "visible", timeout: UPDATE_MS });
    assert.match(await card.innerText(), /ECU-C/);
    assert.match(await card.locator(".notice").innerText(), /cannot decode yet \(APS16\)/);
    await page.locator("#captures tbody tr", { hasText: "APS16" }).waitFor({ timeout: UPDATE_MS });
    assert.match(await page.locator("#captures tbody tr").first().innerText(), /not answered/);

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.locator("#download").click(),
    ]);
    assert.match(download.suggestedFilename(), /^ecu-proxy-captures-\d{8}-\d{4}\.jsonl$/);
    const text = readFileSync((await download.path()) ?? "", "utf8");
    assert.match(text, /apsystems-ecu-proxy-captures/);
    for (const id of [ECU_ID, ecuC, "408000111178", "806000011223"]) {
      assert.ok(!text.includes(id), `${id} is in the download`);
    }
    await card.screenshot({ path: join(ARTIFACTS, "status-page-unsupported-ecu.png") });
  });

  test("today's rounds draw the power chart and sum today's energy", async () => {
    const rounds = todaysRounds(Date.now());
    const port = running.server.boundPorts[0] ?? 0;
    // The capture sent above, stamped today, is one of today's rounds too.
    const capturedToday = capturedStamp.startsWith(localDate(Date.now(), ZONE).replace(/-/g, ""));
    let expectedWh = capturedToday ? CAPTURE_WH : 0;
    const expectedRounds = rounds.length + (capturedToday ? 1 : 0);
    for (const round of rounds) {
      const m = decodeFrame(Buffer.from(round, "latin1"));
      assert.equal(m.type, "upload");
      if (m.type === "upload") {
        for (const inv of m.inverters) for (const ch of inv.channels) expectedWh += ch.energyWh;
      }
      await ecuExchange(port, Buffer.from(`${round}\n`, "latin1"), { expectBytes: 17 });
    }
    // The same rounds again (an ECU's nightly resend) must not count twice.
    const again = rounds[Math.min(3, rounds.length - 1)];
    await ecuExchange(port, Buffer.from(`${again}\n`, "latin1"), { expectBytes: 17 });

    const card = page.locator(`[data-ecu="${ECU_ID}"]`);
    await card
      .locator(".chart figcaption", { hasText: `${expectedRounds} rounds` })
      .waitFor({ timeout: UPDATE_MS });
    assert.equal(await card.locator(".chart path.area").count(), 1);
    const today = (await card.locator(".stat", { hasText: "Today" }).innerText()).replace(/,/g, "");
    assert.match(today, new RegExp(`${(expectedWh / 1000).toFixed(3)} kWh`));
    assert.deepEqual(pageErrors, [], "no script errors or CSP violations");
    await page.screenshot({ path: join(ARTIFACTS, "status-page.png"), fullPage: true });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: join(ARTIFACTS, "status-page-dark.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: "light" });
    // The chart is redrawn for the narrower page.
    const svg = card.locator(".chart svg");
    for (let i = 0; i < 50 && Number(await svg.getAttribute("width")) >= 400; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await page.screenshot({ path: join(ARTIFACTS, "status-page-phone.png"), fullPage: true });
  });
});
