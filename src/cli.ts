#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createLogger } from "./log.js";
import { DEFAULT_PORTS, OTA_PORT, startProxy } from "./main.js";
import { loadOptions, OptionsError } from "./options/load.js";
import { INGRESS_PORT, inAddon } from "./status/access.js";
import { resolveMqttSettings } from "./supervisor/mqttService.js";
import { decodeStream } from "./tools/decodeFile.js";
import { simulate } from "./tools/simulate.js";

/** Each command's own usage: `ecu-proxy <command> --help` (or `-h`) prints it and exits 0. */
const COMMAND_USAGE = {
  serve: `usage: ecu-proxy serve [--options FILE] [--ports 8995,8996,8997] [--host ADDR]
                       [--data-dir DIR] [--status-port N] [--status-host ADDR]
  Run the proxy: answer ECUs like EMA, publish to MQTT when a broker is configured.
  --options FILE      options.json in the app's format (no file: every default)
  --ports LIST        ports to listen on (default 8995,8996,8997; 9220 too with ota_listener)
  --host ADDR         address to listen on (default 0.0.0.0)
  --data-dir DIR      state and captures (default ./data)
  --status-port N     serve the status page on port N
  --status-host ADDR  address for the status page (default loopback; in the app, ingress)
  LOG_FORMAT=json in the environment logs JSON instead of readable lines.`,
  decode: `usage: ecu-proxy decode [FILE ...]
  Decode captured ECU messages (files, or stdin when none is given; one message per line, or a
  capture file downloaded from the status page) to one JSON object per message.
  Exit status 1 if a message does not decode.`,
  simulate: `usage: ecu-proxy simulate --host HOST [--port PORT] [--file FILE] [--timezone ZONE]
       ecu-proxy simulate --host HOST --control [--control-port PORT] [--rounds N]
                          [--interval-seconds S]
  Act like an ECU for one upload and check that the answer is the one EMA would give.
  With --control: N rounds of an upload and a control poll session on the control port
  (default 8997), carrying out the commands the proxy sends (option inverter_control) and
  showing them in the next upload.
  --host HOST      address of the proxy (where your DNS rewrite points)
  --port PORT      port to send to (default 8995)
  --file FILE      send this captured upload instead of a made-up one stamped now
  --timezone ZONE  stamp the made-up upload with this zone's wall clock (the proxy's timezone)
  --ecu-id ID      ECU id of the made-up upload (default 216000000000)`,
  help: `usage: ecu-proxy help [COMMAND]
  Print the usage of every command, or of COMMAND.`,
} as const;
type Command = keyof typeof COMMAND_USAGE;

const USAGE = `usage:
  ecu-proxy serve [--options FILE] [--ports 8995,8996,8997] [--host ADDR] [--data-dir DIR]
                  [--status-port N] [--status-host ADDR]
                                     status page on N (loopback unless --status-host)
  ecu-proxy decode [FILE ...]        decode captured messages (or stdin) to JSON lines
  ecu-proxy simulate --host HOST [--port PORT] [--file FILE] [--timezone ZONE]
                                     send an upload like an ECU and check the answer
  ecu-proxy <command> --help         the command's options`;

function isCommand(name: string | undefined): name is Command {
  return name !== undefined && Object.hasOwn(COMMAND_USAGE, name);
}

/** `--help`/`-h` anywhere before a `--` asks for the command's usage. */
function asksForHelp(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

function parsePorts(text: string): number[] {
  const ports = text.split(",").map((p) => Number(p.trim()));
  if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 0 || p > 65535)) {
    throw new OptionsError([`--ports '${text}' must be a comma-separated list of port numbers`]);
  }
  return ports;
}

function parseStatusPort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new OptionsError([`--status-port '${text}' must be a port number`]);
  }
  return port;
}

/**
 * Signals that stop the proxy cleanly, each as often as it comes: SIGTERM (s6, docker stop),
 * SIGINT (Ctrl-C), SIGHUP (`s6-svc -h`, `docker kill -s HUP`, a closed terminal), SIGUSR2.
 */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR2"];

async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      options: { type: "string" },
      ports: { type: "string" },
      host: { type: "string", default: "0.0.0.0" },
      "data-dir": { type: "string", default: "data" },
      "status-port": { type: "string" },
      "status-host": { type: "string" },
    },
    strict: true,
  });
  const options = loadOptions(values.options);
  const logger = createLogger({
    level: options.log_level,
    format: process.env.LOG_FORMAT === "json" ? "json" : "pretty",
  });
  const ports = values.ports
    ? parsePorts(values.ports)
    : [...DEFAULT_PORTS, ...(options.ota_listener ? [OTA_PORT] : [])];
  const statusPort = values["status-port"]
    ? parseStatusPort(values["status-port"])
    : (options.status_port ?? (inAddon() ? INGRESS_PORT : undefined));
  if (inAddon() && statusPort !== INGRESS_PORT) {
    logger.warn(
      { statusPort, ingressPort: INGRESS_PORT },
      "status page is not on the ingress port: the app's Open Web UI will not reach it",
    );
  }
  // mqtt_host from the options, else the Supervisor's MQTT service (add-on), else no MQTT.
  const mqtt = await resolveMqttSettings(options, process.env, { logger });
  const running = await startProxy({
    options,
    ...(mqtt ? { mqtt } : {}),
    host: values.host,
    ports,
    dataDir: values["data-dir"],
    ...(process.env.ECU_PROXY_UNSAFE_NO_FSYNC === "1" ? { sync: false } : {}),
    ...(statusPort !== undefined ? { statusPort } : {}),
    ...(values["status-host"] ? { statusAccess: { host: values["status-host"] } } : {}),
    logger,
  });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        // An impatient supervisor's second signal must not cut the clean stop short.
        logger.info({ signal }, "already shutting down");
        return;
      }
      stopping = true;
      logger.info({ signal }, "shutting down");
      // The Supervisor and s6 wait only briefly; never hang past 2 s.
      const force = setTimeout(() => resolve(0), 1800);
      force.unref();
      running.stop().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, "error while stopping");
          resolve(1);
        },
      );
    };
    // Node's default for each of these is to die at once: no state flushed, no `offline`.
    for (const signal of STOP_SIGNALS) process.on(signal, () => stop(signal));
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (isCommand(command) && asksForHelp(rest)) {
    process.stdout.write(`${COMMAND_USAGE[command]}\n`);
    return 0;
  }
  switch (command) {
    case "serve":
      return serve(rest);
    case "decode":
      return decodeStream(rest, process.stdout, process.stderr, () => readFileSync(0));
    case "simulate":
      return simulate(rest, process.stdout, process.stderr);
    case "help": {
      const topic = rest[0];
      if (topic !== undefined && !isCommand(topic)) {
        process.stderr.write(`unknown command '${topic}'\n${USAGE}\n`);
        return 2;
      }
      process.stdout.write(`${topic === undefined ? USAGE : COMMAND_USAGE[topic]}\n`);
      return 0;
    }
    case undefined:
    case "--help":
    case "-h":
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command '${command}'\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Give stdout a moment to flush, then leave even if a handle lingers. Held (not unref'd):
    // a process left to exit by itself closes its signal handlers on the way out, and a
    // supervisor's second SIGTERM in that moment killed it by the signal after a clean stop.
    // process.exit keeps them to the end.
    setTimeout(() => process.exit(code), 50);
  },
  (err: unknown) => {
    if (err instanceof OptionsError) {
      process.stderr.write(`ecu-proxy: ${err.message}\n`);
    } else {
      process.stderr.write(`ecu-proxy: ${(err as Error).message ?? String(err)}\n`);
    }
    process.exit(err instanceof OptionsError ? 2 : 1);
  },
);
