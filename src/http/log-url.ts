/** Longest request URL that reaches the log; the rest is counted, not written. */
export const LOGGED_URL_MAX = 200;

/** Query parameters whose values are secrets when someone sends them by mistake. */
const SECRET_PARAM = /^(token|access_token|auth|authorization|api[-_]?key|key|password|passwd|secret|sig|signature|credentials?)$/i;

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A request URL as it may be logged: token-like query values and any of `secrets`
 * replaced by `***`, user-info removed, and cut to LOGGED_URL_MAX characters (a flood
 * of 8 KB URLs must not become a flood of log).
 */
export function loggableUrl(url: string | undefined, secrets: readonly string[] = []): string {
  let text = withoutSecrets(url ?? '', secrets);
  text = text.replace(/([?&;])([^=&;#]*)=([^&;#]*)/g, (whole, sep: string, name: string) =>
    SECRET_PARAM.test(decoded(name)) ? `${sep}${name}=***` : whole,
  );
  text = text.replace(/\/\/[^/?#@]*@/g, '//***@');
  if (text.length > LOGGED_URL_MAX) text = `${text.slice(0, LOGGED_URL_MAX)}…(${text.length} chars)`;
  return text;
}

/** `text` with every occurrence of each secret (plain or percent-encoded) replaced by `***`. */
export function withoutSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    out = out.split(secret).join('***');
    out = out.split(encodeURIComponent(secret)).join('***');
  }
  return out;
}
