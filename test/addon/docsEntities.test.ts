/**
 * DOCS.md's entity table (section "Entities") lists exactly the entities the app announces:
 * every row of the entity tables, with its key and name, and nothing else.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ECU_CONTROL_ENTITIES, INVERTER_CONTROL_ENTITIES } from "../../src/ha/controlEntities.js";
import { ECU_ENTITIES } from "../../src/ha/ecuEntities.js";
import { CHANNEL_ENTITIES, INVERTER_ENTITIES } from "../../src/ha/inverterEntities.js";
import { readText } from "./files.js";

/** The table's rows as [device, key, name, unit, notes] cells. */
function docsCells(): string[][] {
  const docs = readText("DOCS.md");
  const start = docs.indexOf("### Entities");
  assert.ok(start >= 0, 'DOCS.md has an "### Entities" section');
  const section = docs.slice(start, docs.indexOf("\n### ", start + 1));
  return section
    .split("\n")
    .filter((line) => /^\| (ECU|inverter) +\|/.test(line))
    .map((line) =>
      line
        .split("|")
        .slice(1, 6)
        .map((cell) => cell.trim()),
    );
}

test("DOCS.md's entity table matches the entity tables, row for row", () => {
  const expected = [
    ...ECU_ENTITIES.map((r) => `ECU \`${r.key}\` ${r.name}`),
    ...INVERTER_ENTITIES.map((r) => `inverter \`${r.key}\` ${r.name}`),
    ...CHANNEL_ENTITIES.map((r) => `inverter \`ch<N>_${r.key}\` Channel <N> ${r.name}`),
    // Option inverter_control (issue 19), after the sensors.
    ...ECU_CONTROL_ENTITIES.map((r) => `ECU \`${r.key}\` ${r.name}`),
    ...INVERTER_CONTROL_ENTITIES.map((r) => `inverter \`${r.key}\` ${r.name}`),
  ];
  assert.deepEqual(
    docsCells().map(([device, key, name]) => `${device} ${key} ${name}`),
    expected,
  );
});

test("DOCS.md marks every energy sensor for the Energy dashboard and every diagnostic one", () => {
  const cells = docsCells();
  const rows = [
    ...ECU_ENTITIES.map((row) => ({ row, key: row.key })),
    ...INVERTER_ENTITIES.map((row) => ({ row, key: row.key })),
    ...CHANNEL_ENTITIES.map((row) => ({ row, key: `ch<N>_${row.key}` })),
  ];
  for (const { row, key } of rows) {
    const line = (cells.find((c) => c[1] === `\`${key}\``) ?? []).join(" ");
    const energy = row.component === "sensor" && row.device_class === "energy";
    assert.equal(line.includes("Energy dashboard"), energy, `${key}: Energy dashboard note`);
    assert.equal(
      line.includes("diagnostic"),
      row.entity_category === "diagnostic",
      `${key}: diagnostic`,
    );
  }
});

test("DOCS.md marks every control entity as needing option inverter_control", () => {
  const cells = docsCells();
  for (const row of [...ECU_CONTROL_ENTITIES, ...INVERTER_CONTROL_ENTITIES]) {
    const line = (cells.find((c) => c[1] === `\`${row.key}\``) ?? []).join(" ");
    assert.match(line, /inverter_control only/, row.key);
    assert.match(line, new RegExp(row.component), `${row.key}: says it is a ${row.component}`);
  }
});
