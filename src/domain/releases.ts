/** A release as people write it, `3` or `v3`; null for anything else. */
export function parseReleaseNumber(raw: string): number | null {
  const m = /^v?(\d{1,9})$/i.exec(raw.trim());
  const n = m ? Number(m[1]) : NaN;
  return Number.isInteger(n) && n >= 1 ? n : null;
}
