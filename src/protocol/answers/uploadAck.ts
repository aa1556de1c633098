/**
 * `1` (stored) + count `01` + the upload's own timestamp: confirms the record just sent, so it
 * is marked done and never resent at night (§4.1, §4.2 — EMA confirms the previous record,
 * which leaves each day's last record unconfirmed).
 */
export function uploadAnswer(timestamp: string): Buffer {
  return Buffer.from(`101${timestamp.replace(/[^0-9]/g, "")}`, "latin1");
}
