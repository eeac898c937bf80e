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
 * send none, its Referer) names the host the request was sent to. No header at all is
 * refused too: every current browser sends Origin on a POST.
 */
export function sameOrigin(req: http.IncomingMessage, secure: boolean): boolean {
  const host = req.headers.host;
  if (!host) return false;
  const expected = `${secure ? 'https' : 'http'}://${host}`.toLowerCase();
  const origin = req.headers.origin;
  if (origin !== undefined) return origin.toLowerCase() === expected;
  const referer = req.headers.referer;
  if (!referer) return false;
  try {
    return new URL(referer).origin.toLowerCase() === expected;
  } catch {
    return false;
  }
}
