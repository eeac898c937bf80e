/** Scoped tokens (`mp_<id>_<secret>`) anywhere in a text, e.g. one typed into a path. */
const SCOPED_TOKEN = /mp_[0-9a-f]{16}_[A-Za-z0-9_-]{20,}/g;

/** `text` with every scoped token's secret replaced by `***` (the id stays: it is no secret and names the token). */
export function scrubTokens(text: string): string {
  return text.replace(SCOPED_TOKEN, (t) => `${t.slice(0, 20)}***`);
}
