import { MinPaasError, errorMessage, invalid, notFound } from '../errors.js';
import type { Logger } from '../log.js';
import type { HostRoute } from '../router/types.js';
import type { DomainRecord } from '../store/domain-store.js';
import type { Store } from '../store/store.js';
import type { CertificateIssuer } from './acme-issuer.js';
import { checkCertificate, combinedPem, coveredHosts } from './certificates.js';
import { normalizeHost } from './hostnames.js';
import type { TlsSettings } from './settings.js';

/** What the service needs of the router: host routes and certificates at runtime. */
export interface TlsRouter {
  setHosts(routes: HostRoute[]): Promise<void>;
  installCertificate(host: string, pem: string): Promise<void>;
  removeCertificate(host: string): Promise<void>;
  restoreCertificates(hosts: string[]): Promise<void>;
  /** Hosts the router holds a certificate for. */
  certificateHosts(): string[];
}

export interface DomainServiceDeps {
  store: Store;
  router: TlsRouter;
  settings: TlsSettings & { domain: string; controlHost: string };
  issuer: CertificateIssuer;
  log: Logger;
  /** First retry after a failure; doubled per failure up to a day (default 5 min). */
  retryBaseMs?: number;
  /** How often the scheduler looks for due certificates and new apps (default 5 s). */
  tickMs?: number;
}

const MAX_RETRY_MS = 24 * 3600 * 1000;

export interface DomainView {
  host: string;
  kind: DomainRecord['kind'];
  url: string;
  certificate: {
    status: DomainRecord['certStatus'];
    source: DomainRecord['certSource'];
    expiresAt: string | null;
    error: string | null;
    nextRetryAt: string | null;
  };
}

/**
 * Host names (APP.DOMAIN, custom domains, the control plane's host) and their
 * certificates: issuance on add, renewal before expiry with back-off, user certificates,
 * HTTP→HTTPS redirects once a certificate serves. The store holds the status, the router
 * the certificates (owner-only files under the data dir, loaded at runtime).
 */
export class DomainService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private readonly retryBaseMs: number;
  private readonly tickMs: number;

  constructor(private readonly deps: DomainServiceDeps) {
    this.retryBaseMs = deps.retryBaseMs ?? 5 * 60_000;
    this.tickMs = deps.tickMs ?? 5000;
  }

  private get domain(): string {
    return this.deps.settings.domain;
  }

  defaultHost(app: string): string {
    return `${app}.${this.domain}`;
  }

  /** `https://APP.DOMAIN` once its certificate serves, `http://…` before. */
  urlOf(app: string): string {
    const host = this.defaultHost(app);
    return this.urlOfHost(host, this.deps.store.domains.get(host)?.certStatus === 'issued');
  }

  private urlOfHost(host: string, tls: boolean): string {
    const { httpPort, httpsPort } = this.deps.settings;
    if (tls) return `https://${host}${httpsPort === 443 ? '' : `:${httpsPort}`}`;
    return `http://${host}${httpPort === 80 ? '' : `:${httpPort}`}`;
  }

  controlUrl(): string {
    const host = this.deps.settings.controlHost;
    return this.urlOfHost(host, this.deps.store.domains.get(host)?.certStatus === 'issued');
  }

  /** Start-up, before the router starts: rows for every app's default host, certificates from disk. */
  async prepare(): Promise<void> {
    this.syncRows();
    const issued = this.deps.store.domains.list().filter((d) => d.certStatus === 'issued').map((d) => d.host);
    await this.deps.router.restoreCertificates(issued);
  }

  /** After the router runs: its host map, then the scheduler. */
  async start(): Promise<void> {
    await this.syncRouter();
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
    void this.tick();
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Resolves when no scheduler round runs (tests; shutdown before the store closes). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Default rows for apps made since, none for apps gone (their rows go with them). */
  private syncRows(): void {
    const domains = this.deps.store.domains;
    const wanted = new Set<string>();
    for (const app of this.deps.store.listApps()) {
      const host = this.defaultHost(app.name);
      wanted.add(host);
      domains.insert(host, app.name, 'default');
    }
    domains.deleteKindExcept('default', wanted);
    domains.deleteKindExcept('control', new Set([this.deps.settings.controlHost]));
    domains.insert(this.deps.settings.controlHost, null, 'control');
  }

  hostRoutes(): HostRoute[] {
    const domains = this.deps.store.domains;
    return domains.list().map((d) => ({
      host: d.host,
      app: d.app,
      redirect: d.certStatus === 'issued' && (d.app === null || domains.httpsRedirect(d.app)),
    }));
  }

  private async syncRouter(): Promise<void> {
    const routes = this.hostRoutes();
    await this.deps.router.setHosts(routes);
    // Certificates of hosts that are gone (a deleted app's) leave memory and disk too.
    const wanted = new Set(routes.map((r) => r.host));
    for (const host of this.deps.router.certificateHosts()) {
      if (!wanted.has(host)) await this.deps.router.removeCertificate(host);
    }
  }

  /** One scheduler round: new apps, then every due certificate, one at a time. */
  async tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        this.syncRows();
        await this.syncRouter();
        for (const row of this.due(new Date())) await this.issue(row.host);
      } catch (err) {
        this.deps.log.error({ err: errorMessage(err) }, 'the certificate scheduler failed a round');
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private due(now: Date): DomainRecord[] {
    const t = now.getTime();
    const retryDue = (d: DomainRecord): boolean => d.nextRetryAt === null || Date.parse(d.nextRetryAt) <= t;
    return this.deps.store.domains.list().filter((d) => {
      if (d.certSource === 'user') return false;
      if (d.certStatus === 'none' || d.certStatus === 'pending') return retryDue(d);
      if (d.certStatus === 'failed') return retryDue(d);
      return d.expiresAt !== null && Date.parse(d.expiresAt) - this.deps.settings.renewBeforeMs <= t && retryDue(d);
    });
  }

  /** Issue (or renew) one host's certificate; a failure is recorded with its retry time. */
  private async issue(host: string): Promise<void> {
    const domains = this.deps.store.domains;
    const before = domains.get(host);
    if (before === undefined) return;
    const renewal = before.certStatus === 'issued';
    domains.markPending(host);
    const log = this.deps.log.child({ host });
    try {
      const issued = await this.deps.issuer.issue(host);
      const cert = checkCertificate(issued.chain, issued.key);
      // The host may have been removed while the ACME server validated.
      if (domains.get(host) === undefined) return;
      await this.deps.router.installCertificate(host, combinedPem(cert));
      domains.markIssued(host, 'acme', cert.expiresAt.toISOString());
      log.info({ expiresAt: cert.expiresAt.toISOString(), renewal }, renewal ? 'certificate renewed' : 'certificate issued');
      await this.syncRouter();
    } catch (err) {
      const failures = domains.get(host)?.failures ?? 0;
      const next = new Date(Date.now() + Math.min(MAX_RETRY_MS, this.retryBaseMs * 2 ** failures));
      const message = errorMessage(err).slice(0, 1000);
      domains.markFailed(host, message, next.toISOString());
      log.error({ err: message, nextRetryAt: next.toISOString(), renewal }, renewal ? 'certificate renewal failed' : 'certificate issuance failed');
    }
  }

  private requireApp(app: string): void {
    if (this.deps.store.getApp(app) === undefined) throw notFound(`no such app: ${app}`);
  }

  list(app: string): DomainView[] {
    this.requireApp(app);
    this.syncRows();
    return this.deps.store.domains.ofApp(app).map((d) => this.view(d));
  }

  /** Every host, the control plane's included (its certificate is no app's). */
  listAll(): (DomainView & { app: string | null })[] {
    this.syncRows();
    return this.deps.store.domains.list().map((d) => ({ app: d.app, ...this.view(d) }));
  }

  view(d: DomainRecord): DomainView {
    return {
      host: d.host,
      kind: d.kind,
      url: this.urlOfHost(d.host, d.certStatus === 'issued'),
      // 'none' only means the scheduler has not picked it up yet (within a tick).
      certificate: { status: d.certStatus === 'none' ? 'pending' : d.certStatus, source: d.certSource, expiresAt: d.expiresAt, error: d.error, nextRetryAt: d.nextRetryAt },
    };
  }

  async add(app: string, raw: unknown): Promise<DomainView> {
    this.requireApp(app);
    if (typeof raw !== 'string') throw invalid('send {"host": "www.example.com"}');
    const host = normalizeHost(raw, false);
    const suffix = `.${this.domain}`;
    const owner = this.deps.store.domains.get(host);
    if (owner !== undefined) {
      const who = owner.app === null ? 'the MinPaas control plane' : `app ${owner.app}`;
      throw new MinPaasError('CONFLICT', `${host} is already used by ${who}${owner.app !== null && owner.app !== app ? '; remove it there first' : ''}`);
    }
    if (host.endsWith(suffix) && !host.slice(0, -suffix.length).includes('.')) {
      throw new MinPaasError('CONFLICT', `${host} is reserved for an app named ${host.slice(0, -suffix.length)} (every app answers at APP${suffix})`);
    }
    if (!this.deps.store.domains.insert(host, app, 'custom')) throw new MinPaasError('CONFLICT', `${host} was just added by another request`);
    await this.syncRouter();
    void this.tick();
    return this.view(this.deps.store.domains.get(host)!);
  }

  async remove(app: string, raw: unknown): Promise<string> {
    this.requireApp(app);
    if (typeof raw !== 'string') throw invalid('name the host to remove');
    const host = normalizeHost(raw, false);
    const row = this.deps.store.domains.get(host);
    if (row === undefined || row.app !== app) throw notFound(`${host} is not a domain of ${app}`);
    if (row.kind !== 'custom') throw invalid(`${host} is the app's own name under MINPAAS_DOMAIN and cannot be removed`);
    this.deps.store.domains.delete(host);
    await this.syncRouter();
    await this.deps.router.removeCertificate(host);
    return host;
  }

  /** certs:add: the chain and key, checked, serve every host of the app they cover. */
  async addUserCertificate(app: string, chainPem: unknown, keyPem: unknown): Promise<{ hosts: string[]; expiresAt: string }> {
    this.requireApp(app);
    if (typeof chainPem !== 'string' || typeof keyPem !== 'string') throw invalid('send {"cert": "<PEM chain>", "key": "<PEM key>"}');
    const cert = checkCertificate(chainPem, keyPem);
    const hosts = this.deps.store.domains.ofApp(app).map((d) => d.host);
    const covered = coveredHosts(cert.leaf, hosts);
    if (covered.length === 0) {
      throw invalid(`the certificate names (${cert.leaf.subjectAltName ?? cert.leaf.subject}) cover none of ${app}'s hosts: ${hosts.join(', ')}`);
    }
    for (const host of covered) {
      await this.deps.router.installCertificate(host, combinedPem(cert));
      this.deps.store.domains.markIssued(host, 'user', cert.expiresAt.toISOString());
    }
    await this.syncRouter();
    this.deps.log.info({ app, hosts: covered, expiresAt: cert.expiresAt.toISOString() }, 'user certificate installed');
    return { hosts: covered, expiresAt: cert.expiresAt.toISOString() };
  }

  async setHttpsRedirect(app: string, on: boolean): Promise<void> {
    this.requireApp(app);
    this.deps.store.domains.setHttpsRedirect(app, on);
    await this.syncRouter();
  }

  httpsRedirect(app: string): boolean {
    return this.deps.store.domains.httpsRedirect(app);
  }
}
