/**
 * Draws the add-on store images: icon.png (128×128) and logo.png (250×100), a sun over a solar
 * panel. Pure Node (zlib + a hand-written PNG encoder), so anyone can regenerate them:
 * `npx tsx scripts/make-images.ts`.
 */
import { writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";

type RGBA = [number, number, number, number];
/** A shape returns its colour at (x, y), or undefined where it does not cover the point. */
type Shape = (x: number, y: number) => RGBA | undefined;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function png(width: number, height: number, pixels: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0; // filter: none
    raw.set(pixels.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Renders shapes (last one on top) with 4×4 supersampling for smooth edges. */
function render(width: number, height: number, shapes: Shape[]): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  const n = 4;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const px = x + (sx + 0.5) / n;
          const py = y + (sy + 0.5) / n;
          let c: RGBA = [0, 0, 0, 0];
          for (const shape of shapes) c = shape(px, py) ?? c;
          // premultiplied accumulation
          acc[0] = (acc[0] ?? 0) + c[0] * c[3];
          acc[1] = (acc[1] ?? 0) + c[1] * c[3];
          acc[2] = (acc[2] ?? 0) + c[2] * c[3];
          acc[3] = (acc[3] ?? 0) + c[3];
        }
      }
      const a = acc[3] ?? 0;
      const i = (y * width + x) * 4;
      if (a > 0) {
        out[i] = Math.round((acc[0] ?? 0) / a);
        out[i + 1] = Math.round((acc[1] ?? 0) / a);
        out[i + 2] = Math.round((acc[2] ?? 0) / a);
      }
      out[i + 3] = Math.round(a / (n * n));
    }
  }
  return out;
}

const SKY_TOP: RGBA = [33, 150, 243, 255];
const SKY_BOTTOM: RGBA = [144, 202, 249, 255];
const SUN: RGBA = [255, 193, 7, 255];
const PANEL: RGBA = [13, 43, 94, 255];
const CELL_LINE: RGBA = [120, 170, 230, 255];
const FRAME: RGBA = [236, 239, 241, 255];

const mix = (a: RGBA, b: RGBA, t: number): RGBA =>
  a.map((v, i) => Math.round(v + ((b[i] ?? 0) - v) * t)) as RGBA;

function roundedRect(x0: number, y0: number, w: number, h: number, r: number, fill: Shape): Shape {
  return (x, y) => {
    const dx = Math.max(x0 + r - x, 0, x - (x0 + w - r));
    const dy = Math.max(y0 + r - y, 0, y - (y0 + h - r));
    return dx * dx + dy * dy <= r * r && x >= x0 && x <= x0 + w && y >= y0 && y <= y0 + h
      ? fill(x, y)
      : undefined;
  };
}

function sun(cx: number, cy: number, r: number): Shape {
  return (x, y) => {
    const dx = x - cx;
    const dy = y - cy;
    const d = Math.hypot(dx, dy);
    if (d <= r) return SUN;
    // twelve rays, tapering wedges between 1.3r and 1.9r
    const angle = Math.atan2(dy, dx);
    const wedge = Math.abs(((angle / (Math.PI / 6)) % 1) + 1) % 1;
    const onRay = Math.abs(wedge - 0.5) < 0.16 * (1 - (d - 1.3 * r) / (0.6 * r));
    return d >= 1.3 * r && d <= 1.9 * r && onRay ? SUN : undefined;
  };
}

/** A tilted panel: a trapezoid (wider at the bottom) with a 4×3 cell grid and a light frame. */
function panel(x0: number, y0: number, w: number, h: number): Shape {
  const inset = w * 0.12;
  return (x, y) => {
    const t = (y - y0) / h;
    if (t < 0 || t > 1) return undefined;
    const left = x0 + inset * (1 - t);
    const right = x0 + w - inset * (1 - t);
    if (x < left || x > right) return undefined;
    const u = (x - left) / (right - left);
    const frame = 0.035;
    if (u < frame || u > 1 - frame || t < frame * 1.6 || t > 1 - frame * 1.6) return FRAME;
    const cu = (u * 4) % 1;
    const ct = (t * 3) % 1;
    const line = 0.05;
    if (cu < line || cu > 1 - line || ct < line * 1.2 || ct > 1 - line * 1.2) return CELL_LINE;
    return mix(PANEL, [30, 80, 160, 255], 1 - t);
  };
}

function icon(): Buffer {
  const size = 128;
  const background = roundedRect(0, 0, size, size, 22, (_x, y) =>
    mix(SKY_TOP, SKY_BOTTOM, y / size),
  );
  const pixels = render(size, size, [
    background,
    sun(84, 38, 17),
    panel(10, 66, 108, 50),
    (x, y) => (y > 116 && y < 124 && x > 60 && x < 68 ? FRAME : undefined), // stand
  ]);
  return png(size, size, pixels);
}

/** 5×7 bitmap letters for the logo text. */
const FONT: Record<string, string[]> = {
  E: ["11111", "10000", "10000", "11110", "10000", "10000", "11111"],
  C: ["01111", "10000", "10000", "10000", "10000", "10000", "01111"],
  U: ["10001", "10001", "10001", "10001", "10001", "10001", "01110"],
  P: ["11110", "10001", "10001", "11110", "10000", "10000", "10000"],
  R: ["11110", "10001", "10001", "11110", "10100", "10010", "10001"],
  O: ["01110", "10001", "10001", "10001", "10001", "10001", "01110"],
  X: ["10001", "10001", "01010", "00100", "01010", "10001", "10001"],
  Y: ["10001", "10001", "01010", "00100", "00100", "00100", "00100"],
  A: ["01110", "10001", "10001", "11111", "10001", "10001", "10001"],
  S: ["01111", "10000", "10000", "01110", "00001", "00001", "11110"],
  " ": ["00000", "00000", "00000", "00000", "00000", "00000", "00000"],
};

function text(s: string, x0: number, y0: number, scale: number, color: RGBA): Shape {
  return (x, y) => {
    const col = Math.floor((x - x0) / scale);
    const row = Math.floor((y - y0) / scale);
    if (row < 0 || row > 6 || col < 0) return undefined;
    const letter = FONT[s[Math.floor(col / 6)] ?? ""];
    return letter?.[row]?.[col % 6] === "1" ? color : undefined;
  };
}

function logo(): Buffer {
  const w = 250;
  const h = 100;
  const badge = roundedRect(4, 4, 92, 92, 16, (_x, y) => mix(SKY_TOP, SKY_BOTTOM, y / h));
  const dark: RGBA = [38, 50, 56, 255];
  const pixels = render(w, h, [
    badge,
    sun(62, 30, 12),
    panel(12, 52, 76, 36),
    text("APS", 106, 18, 5, [25, 118, 210, 255]),
    text("ECU PROXY", 106, 62, 2.4, dark),
  ]);
  return png(w, h, pixels);
}

writeFileSync("icon.png", icon());
writeFileSync("logo.png", logo());
console.log("wrote icon.png (128x128) and logo.png (250x100)");
