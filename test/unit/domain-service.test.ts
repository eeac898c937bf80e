import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { log } from '../../src/log.js';
import type { HostRoute } from '../../src/router/types.js';
import { Store } from '../../src/store/store.js';
import type { CertificateIssuer, IssuedCertificate } from '../../src/tls/acme-issuer.js';
import { DomainService, type TlsRouter } from '../../src/tls/domain-service.js';
import { loadTlsSettings } from '../../src/tls/settings.js';

const execFileAsync = promisify(execFile);

/** Records what the service asked of the router (in-memory fake: unit tests only). */
class FakeTlsRouter implements TlsRouter {
  hosts: HostRoute[] = [];
  certs = new Map<string, string>();
  async setHosts(routes: HostRoute[]): Promise<void> {
    this.hosts = routes;
  }
  async installCertificate(host: string, pem: string): Promise<void> {
    this.certs.set(host, pem);
  }
  async removeCertificate(host: string): Promise<void> {
    this.certs.delete(host);
  }
  async restoreCertificates(): Promise<void> {}
  certificateHosts(): string[] {
    return [...this.certs.keys()];
  }
}

/** Issues self-signed certificates with openssl, or fails while `failing` says so. */
class ScriptedIssuer implements CertificateIssuer {
  failing = new Set<string>();
  calls: string[] = [];
  constructor(private readonly dir: string) {}
  async issue(host: string): Promise<IssuedCertificate> {
    this.calls.push(host);
    if (this.failing.has(host)) throw new Error(`urn:ietf:params:acme:error:dns: no A record for ${host}`);
    const key = path.join(this.dir, `${host}.key`);
    const cert = path.join(this.dir, `${host}.pem`);
    await execFileAsync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '90', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`]);
    return { chain: await fs.readFile(cert, 'utf8'), key: await fs.readFile(key, 'utf8') };
  }
}

let dir: string;
let store: Store;
let router: FakeTlsRouter;
let issuer: ScriptedIssuer;
let service: DomainService;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-ds-'));
  store = new Store(path.join(dir, 'db.sqlite'));
  store.createApp({ name: 'web', runtime: 'node', repo: null, branch: null, port: 10001 });
  store.createApp({ name: 'api', runtime: 'node', repo: null, branch: null, port: 10002 });
  router = new FakeTlsRouter();
  issuer = new ScriptedIssuer(dir);
  const settings = loadTlsSettings({ MINPAAS_DOMAIN: 'apps.example.com', MINPAAS_HTTPS_PORT: '8443' });
  service = new DomainService({ store, router, settings: { ...settings, domain: 'apps.example.com', controlHost: 'minpaas.apps.example.com' }, issuer, log, retryBaseMs: 1000, tickMs: 3_600_000 });
  await service.prepare();
});

afterEach(async () => {
  service.close();
  // add() starts a round in the background: it must not outlive this test's store.
  await service.idle();
  store.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const status = (host: string) => store.domains.get(host);

describe('DomainService', () => {
  it('gives every app APP.DOMAIN and the control plane its host, and issues their certificates', async () => {
    await service.tick();
    expect(issuer.calls.sort()).toEqual(['api.apps.example.com', 'minpaas.apps.example.com', 'web.apps.example.com']);
    expect(status('web.apps.example.com')).toMatchObject({ certStatus: 'issued', certSource: 'acme', error: null });
    expect(router.certs.get('web.apps.example.com')).toMatch(/BEGIN CERTIFICATE[\s\S]+PRIVATE KEY/);
    expect(service.urlOf('web')).toBe('https://web.apps.example.com:8443');
    // Redirects only once a certificate serves, and every host routed.
    expect(router.hosts.find((h) => h.host === 'web.apps.example.com')).toEqual({ host: 'web.apps.example.com', app: 'web', redirect: true });
    expect(router.hosts.find((h) => h.host === 'minpaas.apps.example.com')?.app).toBeNull();
    // The control plane's host is listed with every app's.
    expect(service.listAll().find((d) => d.host === 'minpaas.apps.example.com')).toMatchObject({ app: null, kind: 'control', certificate: { status: 'issued' } });
    // Nothing is due again until renewal time.
    issuer.calls = [];
    await service.tick();
    expect(issuer.calls).toEqual([]);
  });

  it('keeps host names unique across apps, naming the owner', async () => {
    await service.add('web', 'WWW.Example.com');
    await expect(service.add('api', 'www.example.com')).rejects.toMatchObject({ status: 409, message: expect.stringContaining('app web') });
    await expect(service.add('api', 'web.apps.example.com')).rejects.toMatchObject({ status: 409 });
    await expect(service.add('api', 'nobody.apps.example.com')).rejects.toMatchObject({ status: 409, message: expect.stringContaining('reserved') });
    await expect(service.add('api', 'minpaas.apps.example.com')).rejects.toMatchObject({ status: 409, message: expect.stringContaining('control plane') });
    await expect(service.add('api', '*.example.com')).rejects.toMatchObject({ status: 400 });
    await expect(service.add('nope', 'x.example.com')).rejects.toMatchObject({ status: 404 });
  });

  it('records a failure with the ACME error and a doubling retry, then succeeds on a retry', async () => {
    issuer.failing.add('www.example.com');
    await service.add('web', 'www.example.com');
    await service.tick();
    const first = status('www.example.com')!;
    expect(first).toMatchObject({ certStatus: 'failed', failures: 1 });
    expect(first.error).toContain('no A record');
    const firstDelay = Date.parse(first.nextRetryAt!) - Date.now();
    expect(firstDelay).toBeGreaterThan(0);
    expect(firstDelay).toBeLessThanOrEqual(1000);
    // Not due before its retry time.
    issuer.calls = [];
    await service.tick();
    expect(issuer.calls).not.toContain('www.example.com');
    await new Promise((r) => setTimeout(r, 1050));
    await service.tick();
    const second = status('www.example.com')!;
    expect(second.failures).toBe(2);
    expect(Date.parse(second.nextRetryAt!) - Date.now()).toBeGreaterThan(1000);
    issuer.failing.clear();
    await new Promise((r) => setTimeout(r, 2050));
    await service.tick();
    expect(status('www.example.com')).toMatchObject({ certStatus: 'issued', error: null, failures: 0, nextRetryAt: null });
  }, 20_000);

  it('renews a certificate due within the renewal window; a failed renewal keeps the old one serving', async () => {
    await service.tick();
    store.domains.markIssued('web.apps.example.com', 'acme', new Date(Date.now() + 10 * 24 * 3600 * 1000).toISOString());
    issuer.failing.add('web.apps.example.com');
    await service.tick();
    expect(status('web.apps.example.com')).toMatchObject({ certStatus: 'issued', failures: 1 });
    expect(status('web.apps.example.com')!.error).toContain('no A record');
    issuer.failing.clear();
    store.domains.markIssued('web.apps.example.com', 'acme', new Date(Date.now() + 10 * 24 * 3600 * 1000).toISOString());
    await service.tick();
    expect(Date.parse(status('web.apps.example.com')!.expiresAt!)).toBeGreaterThan(Date.now() + 80 * 24 * 3600 * 1000);
  }, 20_000);

  it('turns the redirect off per app, and removes custom domains only', async () => {
    await service.add('web', 'www.example.com');
    await service.tick();
    await service.setHttpsRedirect('web', false);
    expect(router.hosts.filter((h) => h.app === 'web').every((h) => !h.redirect)).toBe(true);
    expect(router.hosts.find((h) => h.host === 'api.apps.example.com')?.redirect).toBe(true);
    await expect(service.remove('web', 'web.apps.example.com')).rejects.toMatchObject({ status: 400 });
    await expect(service.remove('api', 'www.example.com')).rejects.toMatchObject({ status: 404 });
    await service.remove('web', 'www.example.com');
    expect(router.hosts.some((h) => h.host === 'www.example.com')).toBe(false);
    expect(router.certs.has('www.example.com')).toBe(false);
  }, 20_000);

  it('drops the rows and certificates of deleted apps', async () => {
    await service.add('api', 'api.example.com');
    await service.tick();
    expect(router.certs.has('api.example.com')).toBe(true);
    store.deleteApp('api');
    await service.tick();
    expect(router.hosts.map((h) => h.host).sort()).toEqual(['minpaas.apps.example.com', 'web.apps.example.com']);
    expect([...router.certs.keys()].sort()).toEqual(['minpaas.apps.example.com', 'web.apps.example.com']);
  }, 20_000);
});
