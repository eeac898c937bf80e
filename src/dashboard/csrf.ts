import crypto from 'node:crypto';
import type http from 'node:http';

/** Constant-time: a wrong token tells nothing about the right one. */
export function csrfTokenMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

/**
 * A change must come from a page of this server: its Origin (or, from browsers that
 * send none, its Referer) names the host and port the request was sent to. The scheme is
 * not compared, so a TLS-terminating proxy in front (https Origin, plain HTTP here) works.
 * No header at all is refused too: every current browser sends Origin on a POST.
 */
export function sameOrigin(req: http.IncomingMessage): boolean {
  const host = req.headers.host?.toLowerCase();
  if (!host) return false;
  const claimed = req.headers.origin ?? req.headers.referer;
  if (!claimed || claimed === 'null') return false;
  try {
    const url = new URL(claimed);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host.toLowerCase() === host;
  } catch {
    return false;
  }
}
