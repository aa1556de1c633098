/**
 * apparmor.txt, the app's AppArmor profile: what it grants, read from the text, and that
 * apparmor_parser compiles it (without loading it: that needs no AppArmor in the kernel). The
 * container smoke test runs the app confined by it where the kernel has AppArmor.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ROOT, readText, readYaml } from "./files.js";

const config = readYaml("config.yaml") as { slug: string; apparmor?: unknown };
const profile = readText("apparmor.txt");
const hasParser = spawnSync("sh", ["-c", "command -v apparmor_parser"]).status === 0;
const parserSkip = hasParser ? false : "apparmor_parser is not installed (.ci/run installs it)";

/** The rule lines of the program's own profile `ecu_proxy`, comments left out. */
function programRules(): string[] {
  const start = profile.indexOf("profile ecu_proxy ");
  assert.ok(start > 0, "a child profile ecu_proxy for the program");
  const body = profile.slice(start, profile.indexOf("\n  }\n", start));
  return body
    .split("\n")
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

describe("apparmor.txt", () => {
  test("config.yaml leaves apparmor on (its default), so the Supervisor loads this profile", () => {
    assert.equal(config.apparmor, undefined);
  });

  test("one top-level profile, named after the slug, with the program in its own profile", () => {
    const topLevel = profile.match(/^profile \S+/gm) ?? [];
    assert.deepEqual(topLevel, [`profile ${config.slug}`]);
    assert.match(profile, /^ {2}\/usr\/bin\/node cx -> ecu_proxy,$/m);
    // run.sh, the HEALTHCHECK and `docker exec ... ecu-proxy` all end in node.
    for (const path of ["/run.sh", "/usr/local/bin/ecu-proxy", "/app/dist/ecu-proxy.js"]) {
      assert.ok(profile.includes(`\n  ${path} ix,`), path);
    }
  });

  test("the program may read /app, read and write /data, use TCP and DNS — and no more", () => {
    const rules = programRules();
    for (const rule of [
      "/app/** r,",
      "/data/** rw,",
      "network inet stream,",
      "network inet6 stream,",
      "network inet dgram,",
      "signal (receive) peer={apsystems_ecu_proxy,*_apsystems_ecu_proxy},",
    ]) {
      assert.ok(rules.includes(rule), rule);
    }
    for (const rule of rules) {
      assert.ok(!/^(capability|file|mount|ptrace|unix|dbus)\b/.test(rule), `too broad: ${rule}`);
      // File rules: only /data is writable, nothing is executed (node maps itself: m).
      const file = /^(?:owner )?[/@]\S*\s+([a-z]+),$/.exec(rule);
      if (file?.[1]) {
        assert.ok(!file[1].includes("x"), `executes: ${rule}`);
        assert.ok(!file[1].includes("w") || rule.startsWith("/data/"), `writes: ${rule}`);
      }
      assert.ok(!/^network (raw|packet)|^network,$/.test(rule), `network: ${rule}`);
    }
    assert.ok(!rules.some((r) => r.startsWith("/tmp")), "no /tmp");
  });

  test("apparmor_parser compiles it", { skip: parserSkip }, () => {
    // -Q: compile only, nothing is loaded; -K: no cache (there may be no kernel support).
    const compiled = spawnSync("apparmor_parser", ["-Q", "-K", join(ROOT, "apparmor.txt")], {
      encoding: "utf8",
    });
    assert.equal(compiled.status, 0, compiled.stderr);
    const names = spawnSync("apparmor_parser", ["-N", "-K", join(ROOT, "apparmor.txt")], {
      encoding: "utf8",
    });
    assert.deepEqual(names.stdout.trim().split("\n"), [config.slug, `${config.slug}//ecu_proxy`]);
  });
});
