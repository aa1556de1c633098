/** Nightly sync: "nothing stored" — the ECU then resends what it holds, each one confirmed (§5). */
export const SYNC_ANSWER = Buffer.from("100", "latin1");
