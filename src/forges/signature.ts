import crypto from 'node:crypto';

/**
 * Webhook authenticity, checked over the raw body bytes before anything parses them (a
 * re-serialised body would not match, by design). Both compares are constant-time.
 */

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body with the secret>`. */
export function githubSignatureValid(secret: string, body: Buffer, header: string | undefined): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const given = header.slice('sha256='.length);
  if (!/^[0-9a-f]{64}$/i.test(given)) return false;
  const expected = crypto.createHmac('sha256', secret).update(body).digest();
  return crypto.timingSafeEqual(expected, Buffer.from(given, 'hex'));
}

/** GitLab: `X-Gitlab-Token` carries the secret itself. Compared as SHA-256 digests so lengths match. */
export function gitlabTokenValid(secret: string, header: string | undefined): boolean {
  if (typeof header !== 'string' || header === '') return false;
  const digest = (s: string): Buffer => crypto.createHash('sha256').update(s, 'utf8').digest();
  return crypto.timingSafeEqual(digest(secret), digest(header));
}

/** What a test (or a forge) sends: the GitHub header value for `body`. */
export function githubSignature(secret: string, body: Buffer | string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A new per-app webhook secret: 32 random bytes as hex. */
export function newWebhookSecret(): string {
  return crypto.randomBytes(32).toString('hex');
}
