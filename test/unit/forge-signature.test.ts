import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { githubSignature, githubSignatureValid, gitlabTokenValid, newWebhookSecret } from '../../src/forges/signature.js';

describe('GitHub X-Hub-Signature-256', () => {
  const secret = "It's a Secret to Everybody";
  const body = Buffer.from('Hello, World!');

  it("matches GitHub's documented example", () => {
    // From GitHub's "Validating webhook deliveries".
    const documented = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(githubSignature(secret, body)).toBe(documented);
    expect(githubSignatureValid(secret, body, documented)).toBe(true);
  });

  it('refuses a missing, malformed, wrong-secret or other-body signature', () => {
    const good = githubSignature(secret, body);
    expect(githubSignatureValid(secret, body, undefined)).toBe(false);
    expect(githubSignatureValid(secret, body, '')).toBe(false);
    expect(githubSignatureValid(secret, body, good.replace('sha256=', 'sha1='))).toBe(false);
    expect(githubSignatureValid(secret, body, good.slice(0, -2))).toBe(false);
    expect(githubSignatureValid(secret, body, `${good}00`)).toBe(false);
    expect(githubSignatureValid(secret, body, 'sha256=zz' + good.slice(9))).toBe(false);
    expect(githubSignatureValid('other', body, good)).toBe(false);
    expect(githubSignatureValid(secret, Buffer.from('Hello, World! '), good)).toBe(false);
  });

  it('covers the bytes, not the JSON: a re-serialised body does not match', () => {
    const sent = Buffer.from('{\n  "ref": "refs/heads/main"\n}');
    const signature = githubSignature(secret, sent);
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(sent.toString())));
    expect(githubSignatureValid(secret, sent, signature)).toBe(true);
    expect(githubSignatureValid(secret, reserialised, signature)).toBe(false);
  });

  it('accepts the hex digest in upper case too', () => {
    const good = githubSignature(secret, body);
    expect(githubSignatureValid(secret, body, `sha256=${good.slice(7).toUpperCase()}`)).toBe(true);
  });
});

describe('GitLab X-Gitlab-Token', () => {
  it('is the secret itself, compared whatever its length', () => {
    const secret = newWebhookSecret();
    expect(gitlabTokenValid(secret, secret)).toBe(true);
    expect(gitlabTokenValid(secret, undefined)).toBe(false);
    expect(gitlabTokenValid(secret, '')).toBe(false);
    expect(gitlabTokenValid(secret, secret.slice(1))).toBe(false);
    expect(gitlabTokenValid(secret, `${secret}x`)).toBe(false);
  });

  it('new secrets are 32 random bytes', () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(newWebhookSecret());
    expect(crypto.timingSafeEqual(Buffer.from(a), Buffer.from(a))).toBe(true);
  });
});
