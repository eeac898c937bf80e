import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { backendName } from './haproxy-config.js';
import { CONTROL_BACKEND, hostRoutingPaths, type HostRoutingPaths } from './host-frontends.js';
import { adminPayloadCommand } from './sockets.js';
import type { HostRoute } from './types.js';

const execFileAsync = promisify(execFile);

/** What HAProxy's runtime API is asked through (the router's current worker). */
export interface AdminChannel {
  admin(command: string): Promise<string>;
  adminSocket: string;
}

/** Host names become map keys and file names: checked again, they were validated at the API. */
const HOST = /^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

export function assertHost(host: string): void {
  if (!HOST.test(host) || host.length > 253) throw new Error(`invalid host name for the router: ${JSON.stringify(host)}`);
}

/** The map value of a host: the app's backend, or the control plane's. */
export function backendOf(route: HostRoute): string {
  return route.app === null ? CONTROL_BACKEND : backendName(route.app);
}

export function certFileName(dir: string, host: string): string {
  return path.join(dir, `${host.replace(/^\*\./, '_wildcard.')}.pem`);
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(temp, text, { mode: 0o600 });
  await fs.rename(temp, file);
}

function renderMap(entries: Iterable<[string, string]>): string {
  return [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k} ${v}\n`).join('');
}

/** The runtime commands that make map `file` hold `next` instead of `current`. */
export function mapCommands(file: string, current: Map<string, string>, next: Map<string, string>): string[] {
  const commands: string[] = [];
  for (const [key, value] of next) {
    const old = current.get(key);
    if (old === undefined) commands.push(`add map ${file} ${key} ${value}`);
    else if (old !== value) commands.push(`set map ${file} ${key} ${value}`);
  }
  for (const key of current.keys()) if (!next.has(key)) commands.push(`del map ${file} ${key}`);
  return commands;
}

/**
 * Host routing state of the router: the hosts map, the redirect map and the certificates,
 * each kept on disk (read by HAProxy at start and reload) and in HAProxy's memory
 * (changed through the runtime API, never by a reload).
 */
export class HostTable {
  readonly paths: HostRoutingPaths;
  private hosts = new Map<string, string>();
  private redirects = new Map<string, string>();
  /** Host → certificate file, as listed in the crt-list. */
  private readonly certs = new Map<string, string>();

  constructor(dataDir: string) {
    this.paths = hostRoutingPaths(dataDir);
  }

  /** The files HAProxy needs before it can start (maps, crt-list, a default certificate). */
  async prepareFiles(): Promise<void> {
    await fs.mkdir(this.paths.certDir, { recursive: true, mode: 0o700 });
    await writeAtomic(this.paths.hostsMap, renderMap(this.hosts));
    await writeAtomic(this.paths.redirectMap, renderMap(this.redirects));
    await writeAtomic(this.paths.crtList, this.crtListText());
    if (!(await exists(this.paths.defaultCert))) await makeDefaultCert(this.paths.defaultCert);
  }

  private crtListText(): string {
    return [...this.certs.values()].sort().map((file) => `${file}\n`).join('');
  }

  /** Replace the host table; returns the runtime commands to apply it (none when equal). */
  plan(routes: HostRoute[]): { hosts: Map<string, string>; redirects: Map<string, string>; commands: string[] } {
    const hosts = new Map<string, string>();
    const redirects = new Map<string, string>();
    for (const route of routes) {
      assertHost(route.host);
      hosts.set(route.host, backendOf(route));
      if (route.redirect) redirects.set(route.host, '1');
    }
    const commands = [...mapCommands(this.paths.hostsMap, this.hosts, hosts), ...mapCommands(this.paths.redirectMap, this.redirects, redirects)];
    return { hosts, redirects, commands };
  }

  adopt(hosts: Map<string, string>, redirects: Map<string, string>): void {
    this.hosts = hosts;
    this.redirects = redirects;
  }

  /**
   * Put a certificate (combined PEM: chain then key) in memory and on disk: a renewal of a
   * loaded file is `set` + `commit` (HAProxy swaps it atomically; open connections keep
   * theirs), a new one is also added to the crt-list.
   */
  async installCert(channel: AdminChannel | null, host: string, pem: string): Promise<void> {
    assertHost(host);
    const file = certFileName(this.paths.certDir, host);
    await writeAtomic(file, pem);
    this.certs.set(host, file);
    await writeAtomic(this.paths.crtList, this.crtListText());
    if (channel === null) return;
    const loaded = (await channel.admin('show ssl cert')).split('\n').some((line) => line.trim() === file);
    if (!loaded) await expectOk(channel.admin(`new ssl cert ${file}`), 'new ssl cert');
    await expectOk(adminPayloadCommand(channel.adminSocket, `set ssl cert ${file}`, pem), 'set ssl cert');
    await expectOk(channel.admin(`commit ssl cert ${file}`), 'commit ssl cert');
    // A renewal of a listed certificate is done here; a new one joins the HTTPS bind's crt-list.
    const listed = (await channel.admin(`show ssl crt-list ${this.paths.crtList}`)).split('\n').some((line) => line.trim().startsWith(file));
    if (!listed) await expectOk(channel.admin(`add ssl crt-list ${this.paths.crtList} ${file}`), 'add ssl crt-list');
  }

  async removeCert(channel: AdminChannel | null, host: string): Promise<void> {
    const file = this.certs.get(host);
    if (file === undefined) return;
    this.certs.delete(host);
    await writeAtomic(this.paths.crtList, this.crtListText());
    if (channel !== null) {
      await channel.admin(`del ssl crt-list ${this.paths.crtList} ${file}`);
      await channel.admin(`del ssl cert ${file}`);
    }
    await fs.rm(file, { force: true });
  }

  /** Certificates known from the files (start-up: what the last run installed). */
  async loadCertFiles(hosts: Iterable<string>): Promise<void> {
    for (const host of hosts) {
      const file = certFileName(this.paths.certDir, host);
      if (await exists(file)) this.certs.set(host, file);
    }
  }

  certHosts(): string[] {
    return [...this.certs.keys()];
  }
}

async function expectOk(answer: Promise<string>, what: string): Promise<void> {
  const text = (await answer).trim();
  // HAProxy answers errors of these commands with a line that starts so; success varies.
  if (/^(error|unknown|can't|cannot|failed)/i.test(text) || /\berror\b/i.test(text.split('\n')[0] ?? '')) {
    throw new Error(`HAProxy refused "${what}": ${text.slice(0, 300)}`);
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/** A self-signed placeholder (HAProxy refuses an ssl bind without any certificate). */
async function makeDefaultCert(file: string): Promise<void> {
  const dir = await fs.mkdtemp(path.join(path.dirname(file), 'default-cert-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    await execFileAsync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '3650', '-subj', '/CN=minpaas-default', '-addext', 'subjectAltName=DNS:minpaas.invalid']);
    await writeAtomic(file, (await fs.readFile(cert, 'utf8')) + (await fs.readFile(key, 'utf8')));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
