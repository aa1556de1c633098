#!/usr/bin/env node
// The program users run: src/cli.ts and everything it imports (mqtt, pino, dayjs, ajv's
// runtime) as one ES module, dist/ecu-proxy.js, plus the status page's files. One file instead
// of ~300 modules: Node's module loaders keep per-module records, and the bundled proxy starts
// with ~14 MiB less resident memory (CONTRIBUTING.md, Performance). Identifiers are not minified, so stack
// traces in the log stay readable. `npm run build` runs this after tsc; tests import it too.
import { cpSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const BUNDLE = `${ROOT}dist/ecu-proxy.js`;

export async function bundle() {
  cpSync(`${ROOT}src/status/page`, `${ROOT}dist/status/page`, { recursive: true });
  await build({
    entryPoints: [`${ROOT}src/cli.ts`],
    outfile: BUNDLE,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node18",
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: "warning",
    // The bundled CommonJS packages (mqtt, pino) call require() for Node's own modules.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await bundle();
