/** Reading parsed JSON of unknown shape (the state file, the files of earlier versions). */
export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);
