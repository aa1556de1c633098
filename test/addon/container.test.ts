/**
 * Container smoke test: builds this repository's real Dockerfile on a stand-in for the Home
 * Assistant Debian base image (scripts/standin-base.sh: Debian packages, Debian's s6, shims for
 * s6-overlay's /init, with-contenv and halt) twice, as the Supervisor does:
 *
 * - with the build arguments an older Supervisor passes (BUILD_FROM from build.yaml, BUILD_ARCH,
 *   BUILD_VERSION, build.yaml `args`), and
 * - without any (Supervisor 2026.04+): the Dockerfile's default BUILD_FROM, the multi-arch
 *   `ghcr.io/home-assistant/base-debian:trixie`, must then resolve to the stand-in, which is
 *   tagged locally under that name (no registry is reachable here; podman uses the local image).
 *
 * Both images must carry the io.hass.* labels and the same layers (the second build comes from
 * the first's cache). The first runs like the Supervisor would run it (a /data with
 * options.json without MQTT settings, SUPERVISOR_TOKEN, `supervisor` resolving to a fake
 * Supervisor API on the host's port 80): a captured ECU upload gets the exact answer, the MQTT
 * state reaches a password-protected mosquitto on the host (with the credentials the fake
 * Supervisor handed out), the HEALTHCHECK passes, a stop is clean, and a bad option stops the
 * container (the finish script's crash path). The second starts, answers and publishes too. If
 * port 80 is taken, the broker and its credentials go into options.json instead, and the test
 * says so. Where the kernel has AppArmor, the first image runs once more confined by
 * apparmor.txt; where it has not, that test is skipped with the reason (and the profile is still
 * compiled with apparmor_parser, test/addon/apparmor.test.ts).
 *
 * Skipped, with the reason, only where podman cannot run (.ci/run installs podman, runc,
 * debootstrap and mosquitto). Host networking (infra.md §3), so the proxy listens on free
 * ports passed through ECU_PROXY_PORTS, which only run.sh reads.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { connectAsync, type MqttClient } from "mqtt";
import { canConnect } from "../helpers/tcp.js";
import { FakeSupervisor } from "./fakeSupervisor.js";
import { ROOT, readText, readYaml } from "./files.js";

const UPLOAD = join(ROOT, "test/fixtures/captures/ecu-r-2160/ecu-r_2160_upload_2inv_20240206.txt");
const EXPECTED_ANSWER = "10120240206112214";
const ECU_ID = "216000064136";
const TOKEN = `token-${randomBytes(8).toString("hex")}`;
const MQTT_USER = "addons";
const MQTT_PASSWORD = randomBytes(9).toString("base64url");

const run = promisify(execFile);
const config = readYaml("config.yaml") as { name: string; version: string; slug: string };
/** The Dockerfile's default BUILD_FROM: what Supervisor 2026.04+ builds from. */
const DEFAULT_BASE = /^ARG BUILD_FROM=(\S+)$/m.exec(readText("Dockerfile"))?.[1] ?? "";
/** This machine's architecture in Home Assistant's names (BUILD_ARCH) and BuildKit's. */
const HA_ARCH = process.arch === "arm64" ? "aarch64" : "amd64";
const TARGET_ARCH = process.arch === "arm64" ? "arm64" : "amd64";
/** Held while the stand-in carries the default base's name and an image is built on it. */
const DEFAULT_BASE_LOCK = "/tmp/ecu-proxy-default-base.lock";

/** The build arguments an older Supervisor passes (supervisor apps/build.py, build.yaml). */
function supervisorBuildArgs(): string[] {
  const build = readYaml("build.yaml") as {
    build_from: Record<string, string>;
    args?: Record<string, string>;
  };
  const args: Record<string, string> = {
    BUILD_FROM: build.build_from[HA_ARCH] ?? "",
    BUILD_VERSION: config.version,
    BUILD_ARCH: HA_ARCH,
    ...build.args,
  };
  return Object.entries(args).map(([k, v]) => `--build-arg=${k}=${v}`);
}
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
  for (const tool of ["debootstrap", "mosquitto", "mosquitto_passwd", "flock"]) {
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

/**
 * Builds the Dockerfile with `buildArgs` while the stand-in `base` carries the default base's
 * name, under a lock: other checkouts running this test may tag another stand-in meanwhile.
 */
async function buildOnStandIn(base: string, buildArgs: string[], tag: string): Promise<number> {
  const started = Date.now();
  await run(
    "flock",
    [
      DEFAULT_BASE_LOCK,
      "sh",
      "-c",
      'podman tag "$1" "$2" && shift 2 && exec podman "$@"',
      "sh",
      base,
      DEFAULT_BASE,
      "build",
      "--format=docker", // keeps HEALTHCHECK (the OCI format drops it)
      "--network=host",
      ...buildArgs,
      "-t",
      tag,
      ROOT,
    ],
    { env, timeout: 20 * 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return Date.now() - started;
}

async function inspectImage(image: string): Promise<{
  labels: Record<string, string>;
  layers: string[];
}> {
  const { stdout } = await podman([
    "image",
    "inspect",
    image,
    "--format",
    "{{json .Labels}}\t{{json .RootFS.Layers}}",
  ]);
  const [labels = "{}", layers = "[]"] = stdout.trim().split("\t");
  return { labels: JSON.parse(labels) ?? {}, layers: JSON.parse(layers) ?? [] };
}

/** Why the container cannot run confined by apparmor.txt here, or false when it can. */
function apparmorSkipReason(): string | false {
  const enabled = "/sys/module/apparmor/parameters/enabled";
  if (!existsSync(enabled)) {
    return `this kernel has no AppArmor (${enabled} is missing), so podman cannot confine a container with apparmor.txt`;
  }
  if (readFileSync(enabled, "utf8").trim() !== "Y") return "AppArmor is disabled in this kernel";
  if (!has("apparmor_parser")) return "apparmor_parser is not installed (.ci/run installs it)";
  return false;
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

describe("app container (real Dockerfile on a Debian stand-in base)", { skip }, () => {
  const suffix = randomBytes(4).toString("hex");
  // One image tag per worktree, so parallel runs in other checkouts do not swap images.
  const tag = `localhost/ecu-proxy-addon:smoke-${createHash("sha256").update(ROOT).digest("hex").slice(0, 8)}`;
  /** Built with the Supervisor's (build.yaml) arguments, and without any. */
  const image = `${tag}-buildyaml`;
  const plainImage = `${tag}-noargs`;
  const good = `ecu-proxy-smoke-${suffix}`;
  const bad = `ecu-proxy-smoke-bad-${suffix}`;
  const plain = `ecu-proxy-smoke-noargs-${suffix}`;
  const confined = `ecu-proxy-smoke-apparmor-${suffix}`;
  const baseTopic = `smoke_${suffix}`;
  const work = mkdtempSync(join(tmpdir(), "ecu-proxy-smoke-"));
  let standIn = "";
  let ports: number[] = [];
  let brokerPort = 0;
  let broker: ChildProcess | undefined;
  let client: MqttClient | undefined;
  let supervisor: FakeSupervisor | undefined;
  let viaSupervisor = false;
  let loadedProfile: string | undefined;
  const messages = new Map<string, string>();

  /** A /data like the Supervisor's: options.json without MQTT settings (unless port 80 was taken). */
  function dataDir(name: string, topic: string): string {
    const data = join(work, name);
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
        mqtt_base_topic: topic,
        discovery_prefix: `${topic}_discovery`,
        ...mqttOptions,
      }),
    );
    return data;
  }

  /** Runs `img` as the Supervisor would, on free ports, and waits for its first ECU port. */
  async function start(
    name: string,
    img: string,
    topic: string,
    extra: string[] = [],
  ): Promise<number[]> {
    const containerPorts = await freePorts(3);
    await podman([
      "run",
      "-d",
      "--name",
      name,
      "--network=host",
      ...extra,
      "-e",
      `ECU_PROXY_PORTS=${containerPorts.join(",")}`,
      "-e",
      "TZ=Europe/Amsterdam",
      "-e",
      `SUPERVISOR_TOKEN=${TOKEN}`,
      "--add-host=supervisor:127.0.0.1",
      "-v",
      `${dataDir(`data-${name}`, topic)}:/data`,
      img,
    ]);
    const first = containerPorts[0] ?? 0;
    await waitFor("the proxy's first port", () => canConnect(first), 30_000).catch(
      async (err: Error) => {
        throw new Error(`${err.message}\n${await logsOf(name)}`);
      },
    );
    return containerPorts;
  }

  /** The state topic of the captured ECU under `topic`, once it has arrived. */
  async function ecuState(name: string, topic: string): Promise<string> {
    const find = () =>
      [...messages.keys()].find((t) => t.startsWith(`${topic}/`) && t.includes(ECU_ID));
    await waitFor("an MQTT state of the ECU", async () => find() !== undefined, 20_000).catch(
      async (err: Error) => {
        throw new Error(`${err.message}; got ${[...messages.keys()]}\n${await logsOf(name)}`);
      },
    );
    return find() ?? "";
  }

  /** Starts `img`, sends the captured upload, checks EMA's answer and the MQTT state, stops. */
  async function answersAndPublishes(
    name: string,
    img: string,
    topic: string,
    extra: string[] = [],
  ) {
    await client?.subscribeAsync(`${topic}/#`);
    const containerPorts = await start(name, img, topic, extra);
    const answer = await exchange(containerPorts[0] ?? 0, readFileSync(UPLOAD));
    assert.equal(answer, EXPECTED_ANSWER, await logsOf(name));
    assert.ok(messages.get(await ecuState(name, topic)), "empty ECU state");
    return containerPorts;
  }

  before(async () => {
    assert.ok(DEFAULT_BASE, "the Dockerfile has a default BUILD_FROM");
    const { stdout: base } = await run(join(ROOT, "scripts/standin-base.sh"), [], {
      env,
      timeout: 15 * 60_000,
    });
    standIn = base.trim();
    const withArgs = await buildOnStandIn(standIn, supervisorBuildArgs(), image);
    console.log(`# ${image}: build.yaml's arguments, on ${standIn} in ${withArgs} ms`);
    const withoutArgs = await buildOnStandIn(standIn, [], plainImage);
    console.log(`# ${plainImage}: no build arguments (${DEFAULT_BASE}) in ${withoutArgs} ms`);

    [brokerPort = 0] = await freePorts(1);
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

    // The app's way: no broker in the options, the Supervisor tells it (GET
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
    ports = await start(good, image, baseTopic);
  });

  after(async () => {
    await client?.endAsync().catch(() => undefined);
    broker?.kill("SIGTERM");
    supervisor?.close();
    for (const name of [good, bad, plain, confined]) {
      await podman(["rm", "-f", "--time", "2", name]).catch(() => undefined);
    }
    if (loadedProfile) {
      await run("apparmor_parser", ["-R", loadedProfile]).catch(() => undefined);
    }
    rmSync(work, { recursive: true, force: true });
  });

  test("both builds carry the app labels: type app, this architecture, the version", async () => {
    const expected = {
      "io.hass.type": "app",
      "io.hass.version": config.version,
      "io.hass.name": config.name,
    };
    const withArgs = await inspectImage(image);
    assert.deepEqual(
      { ...expected, "io.hass.arch": HA_ARCH },
      pick(withArgs.labels, [...Object.keys(expected), "io.hass.arch"]),
    );
    const noArgs = await inspectImage(plainImage);
    // Without BUILD_ARCH the label is BuildKit's/podman's TARGETARCH (amd64 on amd64).
    assert.deepEqual(
      { ...expected, "io.hass.arch": TARGET_ARCH },
      pick(noArgs.labels, [...Object.keys(expected), "io.hass.arch"]),
    );
    assert.match(String(withArgs.labels["org.opencontainers.image.source"]), /^https:\/\//);
  });

  test("with and without build arguments: the same layers, on the stand-in base", async () => {
    const withArgs = await inspectImage(image);
    const noArgs = await inspectImage(plainImage);
    const base = await inspectImage(standIn);
    assert.deepEqual(noArgs.layers, withArgs.layers, "the second build reuses the first's layers");
    assert.deepEqual(withArgs.layers.slice(0, base.layers.length), base.layers);
  });

  test("answers the captured ECU-R upload with exactly EMA's answer", async () => {
    const answer = await exchange(ports[0] ?? 0, readFileSync(UPLOAD));
    assert.equal(answer, EXPECTED_ANSWER, await logsOf(good));
  });

  test("publishes the ECU's state and discovery to the broker on the host", async () => {
    const topic = await ecuState(good, baseTopic);
    if (viaSupervisor) {
      assert.ok(supervisor?.seenAuth.includes(`Bearer ${TOKEN}`), "the Supervisor was not asked");
      assert.match(await logsOf(good), /using the MQTT broker from the Supervisor/);
    }
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

  test("the image built without build arguments starts, answers and publishes", async () => {
    await answersAndPublishes(plain, plainImage, `${baseTopic}_noargs`);
    await podman(["stop", "--time", "10", plain]);
    assert.deepEqual(await state(plain), { status: "exited", exitCode: 0 }, await logsOf(plain));
  });

  test("runs confined by apparmor.txt: answers, publishes, passes the HEALTHCHECK, stops", {
    skip: apparmorSkipReason(),
  }, async () => {
    // Loaded under a name like the Supervisor gives it (<repository hash>_<slug>).
    const name = `local_${config.slug}`;
    const profile = readText("apparmor.txt").replace(
      new RegExp(`^profile ${config.slug} `, "m"),
      `profile ${name} `,
    );
    const file = join(work, "apparmor.txt");
    writeFileSync(file, profile);
    await run("apparmor_parser", ["-r", "-W", file]);
    loadedProfile = file;
    await answersAndPublishes(confined, image, `${baseTopic}_apparmor`, [
      `--security-opt=apparmor=${name}`,
    ]);
    await podman(["healthcheck", "run", confined]);
    const { stdout } = await podman(["inspect", confined, "--format", "{{.AppArmorProfile}}"]);
    assert.equal(stdout.trim(), name);
    await podman(["stop", "--time", "10", confined]);
    const s = await state(confined);
    assert.deepEqual(s, { status: "exited", exitCode: 0 }, await logsOf(confined));
    assert.doesNotMatch(await logsOf(confined), /EACCES|EPERM|permission denied/i);
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
    assert.match(logs, /stopping the app/);
  });
});

function pick(labels: Record<string, string>, keys: string[]): Record<string, string | undefined> {
  return Object.fromEntries(keys.map((k) => [k, labels[k]]));
}
