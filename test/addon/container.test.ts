/**
 * Container smoke test: builds this repository's real Dockerfile on a stand-in for the Home
 * Assistant Debian base image (scripts/standin-base.sh: Debian packages, Debian's s6, shims for
 * s6-overlay's /init, with-contenv and halt), runs it like the Supervisor would (a /data with
 * options.json without MQTT settings, SUPERVISOR_TOKEN, `supervisor` resolving to a fake
 * Supervisor API on the host's port 80), sends a captured ECU upload, checks the exact answer
 * and the MQTT state on a password-protected mosquitto on the host (reached with the
 * credentials the fake Supervisor handed out), the HEALTHCHECK, a clean stop, and that a bad
 * option stops the container (the finish script's crash path). If port 80 is taken, the broker
 * and its credentials go into options.json instead, and the test says so.
 *
 * Skipped, with the reason, only where podman cannot run (.ci/run installs podman, runc,
 * debootstrap and mosquitto). Host networking (infra.md §3), so the proxy listens on free
 * ports passed through ECU_PROXY_PORTS, which only run.sh reads.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { connectAsync, type MqttClient } from "mqtt";
import { canConnect } from "../helpers/tcp.js";
import { FakeSupervisor } from "./fakeSupervisor.js";
import { ROOT } from "./files.js";

const UPLOAD = join(ROOT, "test/fixtures/captures/ecu-r-2160/ecu-r_2160_upload_2inv_20240206.txt");
const EXPECTED_ANSWER = "10120240206112214";
const ECU_ID = "216000064136";
const TOKEN = `token-${randomBytes(8).toString("hex")}`;
const MQTT_USER = "addons";
const MQTT_PASSWORD = randomBytes(9).toString("base64url");

const run = promisify(execFile);
const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

/** podman as infra.md §3 says it works here: runc, and explicit rlimits below the hard limit. */
function containersConf(): string {
  if (process.env.CONTAINERS_CONF) return process.env.CONTAINERS_CONF;
  const dir = join(ROOT, "test-artifacts");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "containers.conf");
  const runtime = has("runc") ? '[engine]\nruntime = "runc"\n' : "";
  writeFileSync(
    path,
    `[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n${runtime}`,
  );
  return path;
}

const env = { ...process.env, CONTAINERS_CONF: containersConf() };

/** Why the smoke test cannot run here, or undefined when it can. */
function skipReason(): string | false {
  if (process.platform !== "linux") return "podman containers need Linux";
  if (!has("podman")) return "podman is not installed here (.ci/run installs it)";
  if (process.getuid?.() !== 0) return "needs root (debootstrap, podman storage)";
  for (const tool of ["debootstrap", "mosquitto", "mosquitto_passwd"]) {
    if (!has(tool)) return `${tool} is not installed here (.ci/run installs it)`;
  }
  const info = spawnSync("podman", ["info"], { env, encoding: "utf8", timeout: 60_000 });
  if (info.status !== 0) {
    return `podman cannot run here: ${(info.stderr || info.stdout).trim().split("\n")[0]}`;
  }
  return false;
}

const skip = skipReason();
if (skip) console.log(`# container smoke test skipped: ${skip}`);

function podman(args: string[], timeout = 120_000) {
  return run("podman", args, { env, timeout, maxBuffer: 64 * 1024 * 1024 });
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once("error", reject);
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

async function waitFor(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** Sends bytes like an ECU and collects the answer until the proxy closes or 5 s pass. */
function exchange(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = createConnection({ port, host: "127.0.0.1" }, () => socket.write(bytes));
    const done = () => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString("latin1"));
    };
    socket.on("data", (c) => {
      chunks.push(c);
      if (Buffer.concat(chunks).length >= EXPECTED_ANSWER.length) setTimeout(done, 200);
    });
    socket.once("close", done);
    socket.once("error", reject);
    setTimeout(done, 5000);
  });
}

async function logsOf(name: string): Promise<string> {
  try {
    const { stdout, stderr } = await podman(["logs", name], 30_000);
    return `--- podman logs ${name} ---\n${stdout}${stderr}`;
  } catch (err) {
    return `(no logs: ${String(err)})`;
  }
}

async function state(name: string): Promise<{ status: string; exitCode: number }> {
  const { stdout } = await podman([
    "inspect",
    name,
    "--format",
    "{{.State.Status}} {{.State.ExitCode}}",
  ]);
  const [status = "", code = ""] = stdout.trim().split(" ");
  return { status, exitCode: Number(code) };
}

describe("add-on container (real Dockerfile on a Debian stand-in base)", { skip }, () => {
  const suffix = randomBytes(4).toString("hex");
  // One image tag per worktree, so parallel runs in other checkouts do not swap images.
  const image = `localhost/ecu-proxy-addon:smoke-${createHash("sha256").update(ROOT).digest("hex").slice(0, 8)}`;
  const good = `ecu-proxy-smoke-${suffix}`;
  const bad = `ecu-proxy-smoke-bad-${suffix}`;
  const baseTopic = `smoke_${suffix}`;
  const work = mkdtempSync(join(tmpdir(), "ecu-proxy-smoke-"));
  let ports: number[] = [];
  let brokerPort = 0;
  let broker: ChildProcess | undefined;
  let client: MqttClient | undefined;
  let supervisor: FakeSupervisor | undefined;
  let viaSupervisor = false;
  const messages = new Map<string, string>();

  before(async () => {
    const { stdout: base } = await run(join(ROOT, "scripts/standin-base.sh"), [], {
      env,
      timeout: 15 * 60_000,
    });
    const started = Date.now();
    await podman(
      [
        "build",
        "--format=docker", // keeps HEALTHCHECK (the OCI format drops it)
        "--network=host",
        `--build-arg=BUILD_FROM=${base.trim()}`,
        "--build-arg=BUILD_ARCH=amd64",
        "-t",
        image,
        ROOT,
      ],
      20 * 60_000,
    );
    console.log(`# image ${image} built on ${base.trim()} in ${Date.now() - started} ms`);

    [brokerPort = 0, ...ports] = await freePorts(4);
    await run("mosquitto_passwd", ["-c", "-b", join(work, "passwd"), MQTT_USER, MQTT_PASSWORD]);
    writeFileSync(
      join(work, "mosquitto.conf"),
      [
        "user root", // reads the root-owned password file (infra.md §2, gotcha 1)
        "persistence false",
        `listener ${brokerPort} 127.0.0.1`,
        "allow_anonymous false",
        `password_file ${join(work, "passwd")}`,
        "",
      ].join("\n"),
    );
    const log = openSync(join(work, "mosquitto.log"), "a");
    broker = spawn("mosquitto", ["-c", join(work, "mosquitto.conf")], {
      cwd: work,
      stdio: ["ignore", log, log],
    });
    await waitFor("mosquitto", () => canConnect(brokerPort), 10_000);
    client = await connectAsync(`mqtt://127.0.0.1:${brokerPort}`, {
      reconnectPeriod: 0,
      username: MQTT_USER,
      password: MQTT_PASSWORD,
    });
    client.on("message", (topic, payload) => messages.set(topic, payload.toString()));
    await client.subscribeAsync([`${baseTopic}/#`, `${baseTopic}_discovery/#`]);

    // The add-on's way: no broker in the options, the Supervisor tells it (GET
    // http://supervisor/services/mqtt with SUPERVISOR_TOKEN).
    supervisor = new FakeSupervisor(TOKEN, {
      host: "127.0.0.1",
      port: brokerPort,
      ssl: false,
      username: MQTT_USER,
      password: MQTT_PASSWORD,
    });
    viaSupervisor = await supervisor.listen(80).then(
      () => {
        console.log("# MQTT broker handed out by the fake Supervisor on 127.0.0.1:80");
        return true;
      },
      (err: Error) => {
        console.log(`# port 80 unavailable (${err.message}): broker given in options.json`);
        return false;
      },
    );

    const data = join(work, "data");
    mkdirSync(data);
    const mqttOptions = viaSupervisor
      ? {}
      : {
          mqtt_host: "127.0.0.1",
          mqtt_port: brokerPort,
          mqtt_username: MQTT_USER,
          mqtt_password: MQTT_PASSWORD,
        };
    writeFileSync(
      join(data, "options.json"),
      JSON.stringify({
        log_level: "debug",
        mqtt_base_topic: baseTopic,
        discovery_prefix: `${baseTopic}_discovery`,
        ...mqttOptions,
      }),
    );
    await podman([
      "run",
      "-d",
      "--name",
      good,
      "--network=host",
      "-e",
      `ECU_PROXY_PORTS=${ports.join(",")}`,
      "-e",
      "TZ=Europe/Amsterdam",
      "-e",
      `SUPERVISOR_TOKEN=${TOKEN}`,
      "--add-host=supervisor:127.0.0.1",
      "-v",
      `${data}:/data`,
      image,
    ]);
    const first = ports[0] ?? 0;
    await waitFor("the proxy's first port", () => canConnect(first), 30_000).catch(
      async (err: Error) => {
        throw new Error(`${err.message}\n${await logsOf(good)}`);
      },
    );
  });

  after(async () => {
    await client?.endAsync().catch(() => undefined);
    broker?.kill("SIGTERM");
    supervisor?.close();
    for (const name of [good, bad]) {
      await podman(["rm", "-f", "--time", "2", name]).catch(() => undefined);
    }
    rmSync(work, { recursive: true, force: true });
  });

  test("answers the captured ECU-R upload with exactly EMA's answer", async () => {
    const answer = await exchange(ports[0] ?? 0, readFileSync(UPLOAD));
    assert.equal(answer, EXPECTED_ANSWER, await logsOf(good));
  });

  test("publishes the ECU's state and discovery to the broker on the host", async () => {
    const stateTopic = () =>
      [...messages.keys()].find((t) => t.startsWith(`${baseTopic}/`) && t.includes(ECU_ID));
    await waitFor("an MQTT state of the ECU", async () => stateTopic() !== undefined, 20_000).catch(
      async (err: Error) => {
        throw new Error(`${err.message}; got ${[...messages.keys()]}\n${await logsOf(good)}`);
      },
    );
    if (viaSupervisor) {
      assert.ok(supervisor?.seenAuth.includes(`Bearer ${TOKEN}`), "the Supervisor was not asked");
      assert.match(await logsOf(good), /using the MQTT broker from the Supervisor/);
    }
    const topic = stateTopic() ?? "";
    assert.ok(messages.get(topic), `empty state on ${topic}`);
    const discovery = [...messages.keys()].filter((t) => t.startsWith(`${baseTopic}_discovery/`));
    assert.ok(
      discovery.some((t) => t.includes(ECU_ID)),
      `no discovery for ${ECU_ID}: ${discovery}`,
    );
  });

  test("the log has neither the token nor the MQTT password", async () => {
    const logs = await logsOf(good);
    assert.ok(!logs.includes(TOKEN) && !logs.includes(MQTT_PASSWORD));
  });

  test("the Dockerfile's HEALTHCHECK passes", async () => {
    await podman(["healthcheck", "run", good]);
  });

  test("stops cleanly on SIGTERM (exit code 0) and says offline", async () => {
    const started = Date.now();
    await podman(["stop", "--time", "10", good]);
    assert.ok(Date.now() - started < 8000, "stop took too long");
    const s = await state(good);
    assert.deepEqual(s, { status: "exited", exitCode: 0 }, await logsOf(good));
    await waitFor(
      "offline on the status topic",
      async () => messages.get(`${baseTopic}/status`) === "offline",
      5000,
    );
  });

  test("a bad option stops the container with a non-zero exit code, naming the option", async () => {
    const data = join(work, "bad-data");
    mkdirSync(data);
    writeFileSync(join(data, "options.json"), JSON.stringify({ log_level: "loud" }));
    const badPorts = await freePorts(3);
    await podman([
      "run",
      "-d",
      "--name",
      bad,
      "--network=host",
      "-e",
      `ECU_PROXY_PORTS=${badPorts.join(",")}`,
      "-v",
      `${data}:/data`,
      image,
    ]);
    await waitFor(
      "the container to stop",
      async () => (await state(bad)).status === "exited",
      30_000,
    );
    const logs = await logsOf(bad);
    assert.ok((await state(bad)).exitCode > 0, logs);
    assert.match(logs, /option 'log_level' must be one of/);
    assert.match(logs, /stopping the add-on/);
  });
});
