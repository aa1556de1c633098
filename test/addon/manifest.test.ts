import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, test } from "node:test";
import { Ajv } from "ajv";
import addFormatsMod from "ajv-formats";
import {
  elementFor,
  shownByDefault,
  supervisorOptions,
  supervisorSchema,
} from "../../scripts/addon-config.js";
import { STATE_FILE } from "../../src/devices/stateFile.js";
import { optionProperties } from "../../src/options/schema.js";
import { CAPTURES_FILE } from "../../src/status/index.js";
import { ROOT, readText, readYaml, repoFiles } from "./files.js";
import {
  RE_PORT_KEY,
  RE_SCHEMA_ELEMENT,
  RE_SERVICE,
  RE_SLUG,
  supervisorAccepts,
} from "./supervisorRules.js";

const addFormats = addFormatsMod as unknown as typeof addFormatsMod.default;
const SCHEMAS = join(ROOT, "test/fixtures/linter-schemas");

function linterValidator(name: string) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const schema = JSON.parse(readText(`test/fixtures/linter-schemas/${name}`)) as {
    properties: Record<string, { default?: unknown }>;
  };
  return { validate: ajv.compile(schema), schema };
}

const config = readYaml("config.yaml");
const pkg = JSON.parse(readText("package.json")) as { version: string };

describe("config.yaml", () => {
  test("validates against the add-on linter's schema", () => {
    const { validate } = linterValidator("linter-addon-config.ajv.schema.json");
    assert.ok(validate(config), JSON.stringify(validate.errors, null, 2));
  });

  test("has no key that restates the linter's default", () => {
    const { schema } = linterValidator("linter-addon-config.ajv.schema.json");
    for (const [key, value] of Object.entries(config)) {
      const def = schema.properties[key]?.default;
      assert.notDeepEqual(value, def, `'${key}' should be removed, it uses a default value`);
    }
  });

  test("has the keys the Supervisor needs, with the right values", () => {
    assert.equal(config.version, pkg.version, "version must match package.json");
    assert.match(readText("config.yaml"), /^version: "\d+\.\d+\.\d+"$/m, "version is quoted");
    assert.match(String(config.slug), RE_SLUG);
    assert.equal(config.slug, "apsystems_ecu_proxy");
    assert.deepEqual(config.arch, ["aarch64", "amd64"]);
    assert.equal(config.init, false, "s6-overlay v3 must be PID 1");
    assert.equal(config.homeassistant, "2024.11.0");
    assert.equal(config.url, "https://github.com/apsystems-ecu-proxy/apsystems-ecu-proxy");
    assert.equal(config.image, undefined, "no image: the Supervisor builds the Dockerfile");
    assert.equal(config.watchdog, undefined, "the linter rejects watchdog; HEALTHCHECK is used");
    assert.equal(config.ingress, true, "the status page opens through ingress");
    assert.equal(config.ingress_port, undefined, "8099 is the Supervisor's default (linter rule)");
    assert.match(String(config.panel_icon), /^mdi:[a-z0-9-]+$/);
  });

  test("backup_exclude leaves out the captures and temporary files, never the state", () => {
    // The Supervisor matches each pattern against the path of every file under /data with
    // pathlib's match (from the right): a bare file name or `*` glob matches in /data itself.
    const patterns = config.backup_exclude as string[];
    const glob = (p: string) =>
      new RegExp(`(^|/)${p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
    const excluded = (file: string) => patterns.some((p) => glob(p).test(`/data/${file}`));
    for (const file of [CAPTURES_FILE, `${CAPTURES_FILE}.tmp`, "state.json.tmp-123"]) {
      assert.ok(excluded(file), `${file} should not be backed up`);
    }
    for (const file of [STATE_FILE, "options.json"]) {
      assert.ok(!excluded(file), `${file} must be backed up`);
    }
  });

  test("services match the Supervisor's pattern and ask for MQTT", () => {
    const services = config.services as string[];
    for (const s of services) assert.match(s, RE_SERVICE);
    assert.deepEqual(services, ["mqtt:need"]);
  });

  test("ports: Supervisor key format, values 1-65535 or null, container side unchanged", () => {
    const ports = config.ports as Record<string, number | null>;
    for (const [key, value] of Object.entries(ports)) {
      assert.match(key, RE_PORT_KEY);
      if (value !== null) {
        assert.ok(Number.isInteger(value) && value >= 1 && value <= 65535, key);
      }
    }
    assert.deepEqual(ports, {
      "8995/tcp": 8995,
      "8996/tcp": 8996,
      "8997/tcp": 8997,
      "9220/tcp": null,
    });
  });

  test("every schema element is one the Supervisor accepts", () => {
    for (const [key, element] of Object.entries(config.schema as Record<string, unknown>)) {
      const elements = Array.isArray(element) ? element : [element];
      assert.ok(!Array.isArray(element) || element.length === 1, `${key}: one-element list`);
      for (const e of elements) assert.match(String(e), RE_SCHEMA_ELEMENT, key);
      assert.ok(!/\s/.test(String(elements[0])) || String(elements[0]).startsWith("match("), key);
    }
  });

  test("options and schema are exactly what src/options/schema.ts derives", () => {
    assert.deepEqual(config.options, supervisorOptions());
    assert.deepEqual(config.schema, supervisorSchema());
    assert.deepEqual(Object.keys(config.schema as object), Object.keys(optionProperties));
  });

  test("options with a default are shown and not optional; the rest are optional (hidden)", () => {
    const schema = config.schema as Record<string, string | string[]>;
    const options = config.options as Record<string, unknown>;
    for (const [key, p] of Object.entries(optionProperties)) {
      const prop: Record<string, unknown> = p;
      const shown = "default" in prop && prop["x-expert"] !== true;
      const element = String(([] as string[]).concat(schema[key] ?? [])[0]);
      assert.equal(element.endsWith("?"), !shown, key);
      assert.equal(key in options, shown, key);
    }
  });

  test("expert options are hidden: optional in schema, absent from options, with a default", () => {
    const expert = Object.entries(optionProperties)
      .filter(([, p]) => (p as Record<string, unknown>)["x-expert"] === true)
      .map(([key]) => key);
    // The connection limits and the capture size at least; DOCS.md lists every expert option.
    for (const key of [
      "max_message_kib",
      "idle_timeout_seconds",
      "max_connections",
      "max_connections_per_address",
      "capture_max_kib",
    ]) {
      assert.ok(expert.includes(key), `${key} should be an expert option`);
    }
    const docs = readText("DOCS.md");
    const section = docs.slice(docs.indexOf("### Expert options"));
    for (const key of expert) {
      assert.ok(!(key in (config.options as object)), key);
      assert.match(String((config.schema as Record<string, unknown>)[key]), /\?$/, key);
      assert.ok(section.includes(`\`${key}\``), `DOCS.md "Expert options" names ${key}`);
    }
  });

  test("an expert option without a default is refused by the derivation", () => {
    assert.throws(
      () => shownByDefault("x", { type: "integer", "x-expert": true }),
      /needs a default/,
    );
  });
});

/** Values that probe each option's bounds; both validators must agree on every one. */
function probes(prop: Record<string, unknown>): unknown[] {
  const out: unknown[] = [true, false, 1.5, "x", "a#b", "a b", "1.1.1.1"];
  out.push("ecu.apsystemsema.com", "Europe/Amsterdam", "216000012345", "21600001234x", "-a");
  for (const k of ["minimum", "maximum"] as const) {
    const n = prop[k];
    if (typeof n === "number") out.push(n - 1, n, n + 1);
  }
  for (const k of ["minLength", "maxLength"] as const) {
    const n = prop[k];
    if (typeof n === "number") out.push("a".repeat(n), "a".repeat(n + 1), "a".repeat(n - 1 || 1));
  }
  if (Array.isArray(prop.enum)) out.push(...prop.enum, `${String(prop.enum[0])}x`);
  if ("default" in prop) out.push(prop.default);
  out.push(0, 65535, 65536);
  // "" is left out: the Supervisor drops a cleared optional field, the program ignores "".
  return out.filter((v) => v !== "");
}

describe("the Supervisor and the program accept exactly the same option values", () => {
  const ajv = new Ajv({ strict: false });
  for (const [key, p] of Object.entries(optionProperties)) {
    const prop: Record<string, unknown> = p;
    test(key, () => {
      const element = elementFor(key, prop);
      if (Array.isArray(element)) {
        const itemCheck = ajv.compile(prop.items as object);
        for (const v of probes(prop.items as Record<string, unknown>)) {
          assert.equal(supervisorAccepts(element[0] ?? "", v), itemCheck(v), `${key}[] = ${v}`);
        }
        return;
      }
      const check = ajv.compile(prop);
      for (const v of probes(prop)) {
        assert.equal(supervisorAccepts(element, v), check(v), `${key} = ${JSON.stringify(v)}`);
      }
    });
  }
});

describe("build.yaml and Dockerfile", () => {
  const build = readYaml("build.yaml");

  test("build.yaml validates against the add-on linter's schema without default keys", () => {
    const { validate, schema } = linterValidator("linter-addon-build.ajv.schema.json");
    assert.ok(validate(build), JSON.stringify(validate.errors, null, 2));
    for (const [key, value] of Object.entries(build)) {
      assert.notDeepEqual(value, schema.properties[key]?.default, key);
    }
  });

  test("build.yaml names the Dockerfile's default base, the multi-arch Debian image, per arch", () => {
    // Kept only for Supervisors before 2026.04, which pass an Alpine base without it.
    const from = build.build_from as Record<string, string>;
    assert.deepEqual(Object.keys(from).sort(), [...(config.arch as string[])].sort());
    const dockerfile = readText("Dockerfile");
    const m = /^ARG BUILD_FROM=ghcr\.io\/home-assistant\/base-debian:(\w+)$/m.exec(dockerfile);
    assert.ok(m, "ARG BUILD_FROM defaults to ghcr.io/home-assistant/base-debian:<suite>");
    const defaultBase = m[0].slice("ARG BUILD_FROM=".length);
    for (const [arch, image] of Object.entries(from)) assert.equal(image, defaultBase, arch);
    assert.match(readText("scripts/standin-base.sh"), new RegExp(`^SUITE=${m[1]}$`, "m"));
    assert.match(
      readText("build.yaml"),
      /^# .*older than 2026\.04/m,
      "build.yaml says why it is kept",
    );
  });

  test("Dockerfile: ARG BUILD_FROM before FROM, HEALTHCHECK, labels, runs run.sh via s6", () => {
    const dockerfile = readText("Dockerfile");
    const argAt = dockerfile.search(/^ARG BUILD_FROM=/m);
    const fromAt = dockerfile.search(/^FROM /m);
    assert.ok(argAt >= 0 && argAt < fromAt);
    assert.match(dockerfile, /^FROM \$\{BUILD_FROM\} AS build$/m);
    assert.match(dockerfile, /^HEALTHCHECK /m);
    assert.match(dockerfile, /org\.opencontainers\.image\.source="[^"]+"/);
    assert.match(dockerfile, /io\.hass\.type="app"/);
    assert.match(dockerfile, /io\.hass\.arch="\$\{BUILD_ARCH:-\$\{TARGETARCH\}\}"/);
    assert.match(dockerfile, /io\.hass\.version="\$\{BUILD_VERSION\}"/);
    assert.match(dockerfile, /^COPY rootfs \/$/m);
    assert.ok(!/^(ENTRYPOINT|CMD)\b/m.test(dockerfile), "the base image's /init stays PID 1");
  });

  test("Dockerfile: build arguments come after every RUN (both builds share the cache)", () => {
    const dockerfile = readText("Dockerfile");
    const lastRun = dockerfile.lastIndexOf("\nRUN ");
    for (const arg of ["BUILD_ARCH", "BUILD_VERSION", "TARGETARCH"]) {
      const at = dockerfile.search(new RegExp(`^ARG ${arg}\\b`, "m"));
      assert.ok(at > lastRun, `ARG ${arg} after the last RUN`);
    }
  });

  test("Dockerfile: the default version is the app's version (the Supervisor passes its own)", () => {
    const m = /^ARG BUILD_VERSION=(\S+)$/m.exec(readText("Dockerfile"));
    assert.equal(m?.[1], config.version, "bump ARG BUILD_VERSION with config.yaml's version");
  });

  test(".dockerignore keeps the build context small", () => {
    const ignored = readText(".dockerignore").split("\n");
    for (const p of [
      ".git",
      "node_modules",
      "dist",
      "test",
      "bench",
      "coverage",
      "test-artifacts",
      "data",
    ]) {
      assert.ok(ignored.includes(p), p);
    }
  });
});

describe("repository layout", () => {
  test("repository.yaml has a name and a URL", () => {
    const repo = readYaml("repository.yaml");
    assert.equal(typeof repo.name, "string");
    assert.doesNotThrow(() => new URL(String(repo.url)));
  });

  test("no config.*, build.* or repository.* outside the root (the Supervisor scans for them)", () => {
    // The Supervisor globs **/config.*, **/build.*, **/repository.* and keeps the hits whose
    // suffix is .json, .yaml or .yml (addon_conventions.md §1.1), so src/protocol/build.ts is
    // harmless but test/fixtures/config.schema.json would be read as a second add-on.
    const scanned = (f: string) =>
      f.includes("/") && /^(config|build|repository)\.(.*\.)?(json|ya?ml)$/.test(basename(f));
    assert.ok(scanned("test/fixtures/config.schema.json") && scanned("a/build.yml"));
    assert.ok(!scanned("config.yaml") && !scanned("src/protocol/build.ts"));
    assert.deepEqual(repoFiles().filter(scanned), []);
  });

  test("add-on store files exist at the root", () => {
    for (const f of ["README.md", "DOCS.md", "CHANGELOG.md", "icon.png", "logo.png", "run.sh"]) {
      assert.ok(existsSync(join(ROOT, f)), f);
    }
    assert.match(readText("CHANGELOG.md"), new RegExp(`^## \\[?${pkg.version}\\]?`, "m"));
  });

  test("README: title, one line, then the two commands for a new machine; developer text elsewhere", () => {
    const readme = readText("README.md");
    const [title, , line, , fence, run, suite] = readme.split("\n");
    assert.match(title ?? "", /^# /);
    assert.match(line ?? "", /^[A-Z].*\.$/, "a one-line description");
    assert.equal(fence, "```sh");
    assert.match(run ?? "", /^npm ci && npm start\s+# /, "runs the proxy without HA or broker");
    assert.match(suite ?? "", /^sudo bash \.ci\/run\s+# .*npm test/, "runs the whole suite");
    const contributing = readText("CONTRIBUTING.md");
    for (const section of ["## Reliability", "## Performance", "## Development"]) {
      assert.ok(!readme.includes(section), `README has no ${section}`);
      assert.ok(contributing.includes(`\n${section}\n`), `CONTRIBUTING.md has ${section}`);
    }
    // The store page and the documentation use the UI's current words and menu path.
    for (const f of ["README.md", "DOCS.md"]) {
      assert.match(readText(f), /Settings → Apps → Install app → ⋮/, f);
      assert.match(readText(f), /app \(add-on\)/, f);
    }
  });

  test("the copied linter schemas keep their licence", () => {
    assert.ok(existsSync(join(SCHEMAS, "LICENSE-action-addon-linter.md")));
  });
});

/** The languages the app ships; every file in translations/ is checked, these must exist. */
const LANGUAGES = ["en", "nl", "de", "fr"];

describe("translations", () => {
  const files = readdirSync(join(ROOT, "translations")).sort();
  // What the Supervisor reads (SCHEMA_APP_TRANSLATIONS): every schema key and every port,
  // taken from config.yaml (itself derived from src/options/schema.ts), so a new option or port
  // without a name and description in every language fails here.
  const optionKeys = Object.keys(config.schema as object).sort();
  const portKeys = Object.keys(config.ports as object).sort();

  test("one file per shipped language, YAML, nothing else", () => {
    assert.deepEqual(files, LANGUAGES.map((l) => `${l}.yaml`).sort());
  });

  for (const file of files) {
    describe(file, () => {
      const tr = readYaml(`translations/${file}`) as {
        configuration?: Record<string, { name?: unknown; description?: unknown }>;
        network?: Record<string, unknown>;
      };
      const nonEmpty = (v: unknown) => typeof v === "string" && v.trim().length > 0;

      test("has only the configuration and network sections", () => {
        assert.deepEqual(Object.keys(tr).sort(), ["configuration", "network"]);
      });

      test("names and describes every option, and nothing else", () => {
        assert.deepEqual(Object.keys(tr.configuration ?? {}).sort(), optionKeys);
        for (const key of optionKeys) {
          const entry = tr.configuration?.[key];
          assert.deepEqual(Object.keys(entry ?? {}).sort(), ["description", "name"], key);
          assert.ok(nonEmpty(entry?.name), `${file}: ${key} has no name`);
          assert.ok(nonEmpty(entry?.description), `${file}: ${key} has no description`);
        }
      });

      test("describes every port, and nothing else", () => {
        assert.deepEqual(Object.keys(tr.network ?? {}).sort(), portKeys);
        for (const port of portKeys) {
          assert.ok(nonEmpty(tr.network?.[port]), `${file}: ${port} has no description`);
        }
      });

      test("marks the expert options as such, and no other", () => {
        if (file === "en.yaml") {
          for (const [key, p] of Object.entries(optionProperties)) {
            const expert = (p as Record<string, unknown>)["x-expert"] === true;
            const text = String(tr.configuration?.[key]?.description);
            assert.equal(text.startsWith("Expert option."), expert, key);
          }
        }
        // Every language opens the same options' descriptions with the same words.
        const marks = Object.entries(tr.configuration ?? {}).map(([key, e]) => {
          const first = String(e.description).split(".")[0] ?? "";
          return [key, first] as const;
        });
        const expertKeys = Object.entries(optionProperties)
          .filter(([, p]) => (p as Record<string, unknown>)["x-expert"] === true)
          .map(([key]) => key);
        const marker = marks.find(([key]) => key === expertKeys[0])?.[1];
        for (const [key, first] of marks) {
          assert.equal(first === marker, expertKeys.includes(key), `${file}: ${key}`);
        }
      });
    });
  }

  test("config.yaml ports_description matches the English port texts", () => {
    const en = readYaml("translations/en.yaml") as { network: Record<string, string> };
    assert.deepEqual(config.ports_description, en.network);
  });
});
