import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import path from 'node:path';
import { assertAppName as assertValidAppName } from '../domain/names.js';
import type { Address } from '../domain/types.js';
import { hostFrontendLines, type HostRoutingOptions } from './host-frontends.js';

export type Slot = 'blue' | 'green';
export type Target = Address;

/**
 * One app's route in HAProxy's terms: which of its two groups (blue, green) serves, and
 * the web replicas its servers point at.
 */
export interface RouteSpec {
  app: string;
  /** The stable public port the frontend binds. */
  port: number;
  /** The group that serves now. */
  slot: Slot;
  /** Where the serving group's servers point, round-robin; empty while the app has no running web process (503). */
  targets: Target[];
}

/** Servers per group: the most web replicas an app can run (see domain/processes.ts). */
export const GROUP_SIZE = 10;

/** The i-th (0-based) server of a group: blue1…blue10, green1…green10. */
export function serverName(slot: Slot, index: number): string {
  return `${slot}${index + 1}`;
}

/**
 * Pure rendering of the HAProxy config from the store's routes. Nothing here touches the
 * disk or a process, so the text can be unit-tested and checked with `haproxy -c`.
 */

/** Where the router keeps its files, all under `<dataDir>/router`. */
export interface RouterPaths {
  dir: string;
  config: string;
  adminSocket: string;
  masterSocket: string;
  pidFile: string;
  logFile: string;
}

export function routerPaths(dataDir: string): RouterPaths {
  const dir = path.join(dataDir, 'router');
  return {
    dir,
    config: path.join(dir, 'haproxy.cfg'),
    adminSocket: path.join(dir, 'admin.sock'),
    masterSocket: path.join(dir, 'master.sock'),
    pidFile: path.join(dir, 'haproxy.pid'),
    logFile: path.join(dir, 'haproxy.log'),
  };
}

export interface HaproxyTimeouts {
  connect: string;
  client: string;
  server: string;
  httpRequest: string;
  httpKeepAlive: string;
  queue: string;
  tunnel: string;
}

/**
 * Keep-alive idle time is short on purpose: after a reload an old worker lives until its
 * idle client connections either send a request (then close, thanks to
 * idle-close-on-response) or time out, and apply() waits for old workers to leave.
 */
export const DEFAULT_TIMEOUTS: HaproxyTimeouts = {
  connect: '5s',
  client: '120s',
  server: '120s',
  httpRequest: '30s',
  httpKeepAlive: '10s',
  queue: '30s',
  tunnel: '1h',
};

export interface HaproxyConfigOptions {
  dataDir: string;
  /** Address every app frontend binds (IPv4 or IPv6 literal; 0.0.0.0 to expose). */
  appBind: string;
  timeouts?: Partial<HaproxyTimeouts>;
  /** Shared HTTP/HTTPS frontends by host name (MINPAAS_DOMAIN set); absent = per-app ports only. */
  hostRouting?: HostRoutingOptions;
}

/** The environment variable the running HAProxy reports through `show env`. */
export const LAYOUT_ENV = 'MINPAAS_ROUTER_LAYOUT';

/** Where an idle slot points: a port nothing listens on, so a mistake answers 503, not someone else's app. */
export const PLACEHOLDER: Target = { host: '127.0.0.1', port: 1 };

const TIMEOUT = /^\d+(us|ms|s|m|h|d)?$/;

export function otherSlot(slot: Slot): Slot {
  return slot === 'blue' ? 'green' : 'blue';
}

/** App names are validated at the API boundary; checked again because they become config tokens. */
export function assertAppName(app: string): void {
  assertValidAppName(app);
}

export function assertPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`invalid ${what} port: ${String(port)}`);
  }
}

/** Targets must be IP literals: `set server … addr` refuses host names, and so the file does too. */
export function assertTarget(target: Target): void {
  if (isIP(target.host) === 0) throw new Error(`router target host must be an IP address, got ${JSON.stringify(target.host)}`);
  assertPort(target.port, 'target');
}

export const frontendName = (app: string): string => `fe_${app}`;
export const backendName = (app: string): string => `be_${app}`;

/** host:port as HAProxy writes it in config lines and in the `addr` column of `show stat`. */
export function formatAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function checkRoutes(routes: RouteSpec[]): void {
  const apps = new Set<string>();
  const ports = new Set<number>();
  for (const route of routes) {
    assertAppName(route.app);
    assertPort(route.port, `${route.app} frontend`);
    if (route.slot !== 'blue' && route.slot !== 'green') throw new Error(`invalid slot for ${route.app}: ${String(route.slot)}`);
    if (route.targets.length > GROUP_SIZE) throw new Error(`${route.app} has ${route.targets.length} web targets; the router serves at most ${GROUP_SIZE}`);
    for (const target of route.targets) assertTarget(target);
    if (apps.has(route.app)) throw new Error(`duplicate route for app ${route.app}`);
    if (ports.has(route.port)) throw new Error(`port ${route.port} is used by two apps`);
    apps.add(route.app);
    ports.add(route.port);
  }
}

function checkOptions(opts: HaproxyConfigOptions): HaproxyTimeouts {
  if (isIP(opts.appBind) === 0) throw new Error(`app bind address must be an IP address, got ${JSON.stringify(opts.appBind)}`);
  if (/[\s"'#\\]/.test(opts.dataDir)) throw new Error(`data dir path cannot be used in the HAProxy config: ${opts.dataDir}`);
  const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  for (const [name, value] of Object.entries(timeouts)) {
    if (!TIMEOUT.test(value)) throw new Error(`invalid HAProxy timeout ${name}: ${value}`);
  }
  return timeouts;
}

/**
 * `check`: a TCP connect every second takes a crashed replica out of the rotation after two
 * failures and back at the first success; a request that meets it first is sent to
 * another replica (redispatch).
 */
const SERVER_OPTIONS = 'check inter 1s fall 2 rise 1';

function serverLine(name: string, target: Target | null): string {
  // `disabled` starts the server in maintenance; the admin socket makes it ready later.
  const where = target ?? PLACEHOLDER;
  return `    server ${name} ${formatAddress(where.host, where.port)} ${SERVER_OPTIONS}${target === null ? ' disabled' : ''}`;
}

/** The backend: two groups of GROUP_SIZE servers; the serving group's first servers point at the web replicas. */
export function backendSection(route: RouteSpec): string[] {
  const lines = [`backend ${backendName(route.app)}`, '    balance roundrobin', '    option redispatch', '    retries 3'];
  for (const slot of ['blue', 'green'] as const) {
    for (let i = 0; i < GROUP_SIZE; i++) lines.push(serverLine(serverName(slot, i), slot === route.slot ? (route.targets[i] ?? null) : null));
  }
  return [...lines, ''];
}

function appSections(route: RouteSpec, bind: string): string[] {
  return [
    `frontend ${frontendName(route.app)}`,
    `    bind ${formatAddress(bind, route.port)}`,
    `    default_backend ${backendName(route.app)}`,
    '',
    ...backendSection(route),
  ];
}

function renderText(routes: RouteSpec[], opts: HaproxyConfigOptions, layout: string | null): string {
  checkRoutes(routes);
  const t = checkOptions(opts);
  const paths = routerPaths(opts.dataDir);
  const sorted = [...routes].sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : 0));
  const lines = [
    '# Generated by MinPaas from its store. Do not edit: it is rewritten on every change.',
    'global',
    `    stats socket ${paths.adminSocket} mode 600 level admin expose-fd listeners`,
    // Old workers left by a reload are killed after this, so a reload always finishes.
    '    hard-stop-after 30s',
    ...(layout === null ? [] : [`    setenv ${LAYOUT_ENV} ${layout}`]),
    '',
    'defaults',
    '    mode http',
    // Without it, a reload resets idle keep-alive clients (measured: 12-80 per batch).
    '    option idle-close-on-response',
    // Listener rows in `show stat` tell which ports the running HAProxy holds.
    '    option socket-stats',
    '    option forwardfor',
    `    timeout connect ${t.connect}`,
    `    timeout client ${t.client}`,
    `    timeout server ${t.server}`,
    `    timeout http-request ${t.httpRequest}`,
    `    timeout http-keep-alive ${t.httpKeepAlive}`,
    `    timeout queue ${t.queue}`,
    `    timeout tunnel ${t.tunnel}`,
    '',
  ];
  if (opts.hostRouting) lines.push(...hostFrontendLines(opts.dataDir, opts.appBind, opts.hostRouting));
  for (const route of sorted) lines.push(...appSections(route, opts.appBind));
  return lines.join('\n');
}

/**
 * A fingerprint of everything a reload would change (binds, frontends, backends, global
 * and defaults) but not of what the admin socket changes at runtime (slots and targets).
 * The running HAProxy reports the one it loaded through `show env`, so ensureRunning can
 * tell whether a reload is needed without trusting the file on disk.
 */
export function layoutFingerprint(routes: RouteSpec[], opts: HaproxyConfigOptions): string {
  const shape = routes.map((r) => ({ ...r, slot: 'blue' as const, targets: [] }));
  return createHash('sha256').update(renderText(shape, opts, null)).digest('hex').slice(0, 16);
}

/** The whole config file for these routes; valid with zero routes too. */
export function renderHaproxyConfig(routes: RouteSpec[], opts: HaproxyConfigOptions): string {
  return renderText(routes, opts, layoutFingerprint(routes, opts));
}
