#!/usr/bin/env node
// tsc compiles only .ts files; the status page's plain HTML/CSS/JS must sit next to the
// compiled http.js, so the build copies them (no bundler: the page needs no build).
import { cpSync } from "node:fs";

cpSync("src/status/page", "dist/status/page", { recursive: true });
