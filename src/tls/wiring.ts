import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { AcmeIssuer, ChallengeResponses } from './acme-issuer.js';
import { DomainService, type TlsRouter } from './domain-service.js';

/** Domains and TLS, wired from the settings; null when MINPAAS_DOMAIN is not set. */
export interface Tls {
  domains: DomainService;
  challenges: ChallengeResponses;
}

export function createTls(config: Config, store: Store, router: TlsRouter, log: Logger): Tls | null {
  const settings = config.tls;
  if (settings.domain === null || settings.controlHost === null) return null;
  const challenges = new ChallengeResponses();
  const issuer = new AcmeIssuer({ directoryUrl: settings.acmeDirectory, email: settings.acmeEmail, dir: path.join(config.dataDir, 'tls'), challenges, log });
  const domains = new DomainService({
    store,
    router,
    settings: { ...settings, domain: settings.domain, controlHost: settings.controlHost },
    issuer,
    log,
    retryBaseMs: settings.retryBaseMs,
  });
  return { domains, challenges };
}

/** The control plane on a unix socket too: the router's host frontends forward to it (its TCP port may be ephemeral). */
export async function listenOnSocket(server: http.Server, socketPath: string): Promise<void> {
  await fs.mkdir(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  await fs.rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
}
