import { describe, expect, it } from 'vitest';
import { nameCovers, normalizeHost } from '../../src/tls/hostnames.js';
import { defaultControlBind, loadTlsSettings, LETS_ENCRYPT_DIRECTORY } from '../../src/tls/settings.js';

describe('normalizeHost', () => {
  it('lower-cases and drops a trailing dot', () => {
    expect(normalizeHost(' WWW.Example.COM. ', false)).toBe('www.example.com');
    expect(normalizeHost('a-b.c1.example.io', false)).toBe('a-b.c1.example.io');
  });

  it.each(['', 'localhost', '127.0.0.1', '::1', '-a.example.com', 'a-.example.com', 'under_score.example.com', 'a..example.com', `${'a'.repeat(64)}.com`, 'example.123', 'sp ace.example.com'])(
    'rejects %j',
    (host) => {
      expect(() => normalizeHost(host, false)).toThrow();
    },
  );

  it('takes wildcards only where the certificate source allows them', () => {
    expect(() => normalizeHost('*.example.com', false)).toThrow(/wildcard/);
    expect(normalizeHost('*.Example.com', true)).toBe('*.example.com');
    expect(() => normalizeHost('a.*.example.com', true)).toThrow();
  });

  it('checks the whole length (253)', () => {
    const long = `${Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.')}.com`;
    expect(() => normalizeHost(long, false)).toThrow(/253/);
  });
});

describe('nameCovers', () => {
  it('matches exact names and one-label wildcards', () => {
    expect(nameCovers('www.example.com', 'www.example.com')).toBe(true);
    expect(nameCovers('*.example.com', 'www.example.com')).toBe(true);
    expect(nameCovers('*.example.com', 'a.b.example.com')).toBe(false);
    expect(nameCovers('*.example.com', 'example.com')).toBe(false);
  });
});

describe('loadTlsSettings', () => {
  it('is off without a domain, with the documented defaults', () => {
    const s = loadTlsSettings({});
    expect(s).toMatchObject({ domain: null, httpPort: 80, httpsPort: 443, acmeDirectory: LETS_ENCRYPT_DIRECTORY, acmeEmail: null, controlHost: null });
    expect(s.renewBeforeMs).toBe(30 * 24 * 3600 * 1000);
  });

  it('names the control plane minpaas.DOMAIN unless told otherwise', () => {
    expect(loadTlsSettings({ MINPAAS_DOMAIN: 'Apps.Example.com' }).controlHost).toBe('minpaas.apps.example.com');
    expect(loadTlsSettings({ MINPAAS_DOMAIN: 'apps.example.com', MINPAAS_CONTROL_HOST: 'paas.example.com' }).controlHost).toBe('paas.example.com');
  });

  it('binds the control plane to loopback by default when a domain is set', () => {
    expect(defaultControlBind({})).toBe('0.0.0.0');
    expect(defaultControlBind({ MINPAAS_DOMAIN: 'apps.example.com' })).toBe('127.0.0.1');
    expect(defaultControlBind({ MINPAAS_DOMAIN: 'apps.example.com', MINPAAS_HOST: '0.0.0.0' })).toBe('0.0.0.0');
  });

  it.each([
    { MINPAAS_DOMAIN: 'not a domain' },
    { MINPAAS_HTTP_PORT: '0' },
    { MINPAAS_HTTP_PORT: '8080', MINPAAS_HTTPS_PORT: '8080' },
    { MINPAAS_ACME_DIRECTORY: 'http://insecure.example/dir' },
    { MINPAAS_ACME_EMAIL: 'nobody' },
    { MINPAAS_RENEW_BEFORE_DAYS: '0' },
    { MINPAAS_RENEW_BEFORE_DAYS: '90' },
  ])('rejects %j', (env) => {
    expect(() => loadTlsSettings(env)).toThrow();
  });
});
