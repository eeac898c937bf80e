import path from 'node:path';
import type { Config } from '../config.js';
import { portInUse } from '../domain/ports.js';
import type { Address } from '../domain/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { sleep } from '../sleep.js';
import {
  LAYOUT_ENV,
  assertAppName,
  assertTarget,
  formatAddress,
  layoutFingerprint,
  otherSlot,
  renderHaproxyConfig,
  type HaproxyConfigOptions,
  type HaproxyTimeouts,
  type RouteSpec,
  type Slot,
} from './haproxy-config.js';
import { HaproxyProcess } from './haproxy-process.js';
import { groupRows, groupServes, groupServesExactly, groupSessions, reapplyPlan, switchCommand } from './slots.js';
import { parseShowStat, type StatRow } from './sockets.js';
import type { HostRoute, HostRouter, Route, Router, ServeReport } from './types.js';
import { parseTraffic, type AppTraffic } from './traffic.js';
import type { HostRoutingOptions } from './host-frontends.js';
import { HostTable } from './host-table.js';

export interface HaproxyRouterOptions {
  dataDir: string;
  appBind: string;
  drainTimeoutMs: number;
  log: Logger;
  haproxyBin?: string;
  /** How often the watchdog checks the master (default 1 s). */
  watchdogIntervalMs?: number;
  /** How often a switch polls `show stat` while the old slot drains (default 50 ms). */
  drainPollMs?: number;
  timeouts?: Partial<HaproxyTimeouts>;
  /** Shared HTTP/HTTPS frontends by host name (MINPAAS_DOMAIN set). */
  hostRouting?: HostRoutingOptions;
}

function sameTargets(a: Address[], b: Address[]): boolean {
  return a.length === b.length && a.every((t, i) => t.host === b[i]!.host && t.port === b[i]!.port);
}

const copyTargets = (targets: Address[]): Address[] => targets.map((t) => ({ host: t.host, port: t.port }));

/**
 * The Router on HAProxy. Its `served` map is what it made live (runtime and file alike):
 * every render, reload and watchdog restart is generated from it, so none of them can
 * undo a switch. Process-level operations (start, reload, restart, config writes) and the
 * switch commands run one at a time through `exclusive`, so the watchdog never mistakes
 * our own reload for a crash and a switch never lands on a worker being replaced.
 */
export class HaproxyRouter implements Router, HostRouter {
  readonly process: HaproxyProcess;
  private readonly configOptions: HaproxyConfigOptions;
  private readonly drainTimeoutMs: number;
  private readonly watchdogIntervalMs: number;
  private readonly drainPollMs: number;
  private readonly log: Logger;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private watching = false;
  /** Per app: its route and which slot serves it. */
  private readonly served = new Map<string, RouteSpec>();
  /** Host names and certificates (null when host routing is off). */
  private readonly table: HostTable | null;

  constructor(opts: HaproxyRouterOptions) {
    this.process = new HaproxyProcess({ dataDir: opts.dataDir, log: opts.log, ...(opts.haproxyBin ? { haproxyBin: opts.haproxyBin } : {}) });
    this.configOptions = {
      dataDir: opts.dataDir,
      appBind: opts.appBind,
      ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
      ...(opts.hostRouting ? { hostRouting: opts.hostRouting } : {}),
    };
    this.table = opts.hostRouting ? new HostTable(opts.dataDir) : null;
    this.drainTimeoutMs = opts.drainTimeoutMs;
    this.watchdogIntervalMs = opts.watchdogIntervalMs ?? 1000;
    this.drainPollMs = opts.drainPollMs ?? 50;
    this.log = opts.log;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private specs(): RouteSpec[] {
    return [...this.served.values()].sort((a, b) => a.app.localeCompare(b.app));
  }

  private render(): string {
    return renderHaproxyConfig(this.specs(), this.configOptions);
  }

  routes(): Route[] {
    return this.specs().map((r) => ({ app: r.app, port: r.port, targets: copyTargets(r.targets) }));
  }

  /** Replace what serves with `routes`, keeping each app's current slot. */
  private adopt(routes: Route[]): void {
    const next = new Map<string, RouteSpec>();
    for (const route of routes) {
      next.set(route.app, { app: route.app, port: route.port, slot: this.served.get(route.app)?.slot ?? 'blue', targets: copyTargets(route.targets) });
    }
    this.served.clear();
    for (const [app, spec] of next) this.served.set(app, spec);
  }

  async ensureRunning(routes: Route[]): Promise<void> {
    await this.exclusive(async () => {
      const previous = new Map(this.served);
      this.adopt(routes);
      try {
        if (!(await this.process.isRunning())) {
          await this.writeConfig(this.render());
          await this.process.start();
          return;
        }
        // A HAProxy that outlived the control plane, or a change of apps: reload only if
        // its frontends/backends differ, else move only the targets that differ.
        const loaded = await this.loadedLayout();
        if (loaded !== layoutFingerprint(this.specs(), this.configOptions)) {
          this.log.info({ loaded }, 'running haproxy has another layout; reloading');
          await this.writeAndReload(this.render());
          return;
        }
        await this.reapplyTargets();
        await this.writeConfig(this.render());
      } catch (err) {
        this.served.clear();
        for (const [app, spec] of previous) this.served.set(app, spec);
        throw err;
      }
    });
  }

  /** The config, with the files it names (maps, crt-list, default certificate) in place first. */
  private async writeConfig(text: string): Promise<void> {
    await this.table?.prepareFiles();
    await this.process.writeConfig(text);
  }

  private hostTable(): HostTable {
    if (this.table === null) throw new Error('host routing is off (MINPAAS_DOMAIN is not set)');
    return this.table;
  }

  /** The admin channel when HAProxy runs; null when it does not (the files are enough then). */
  private async channel(): Promise<{ admin: (c: string) => Promise<string>; adminSocket: string } | null> {
    if (!(await this.process.isRunning())) return null;
    return { admin: (c) => this.process.admin(c), adminSocket: this.process.paths.adminSocket };
  }

  async setHosts(routes: HostRoute[]): Promise<void> {
    const table = this.hostTable();
    await this.exclusive(async () => {
      const { hosts, redirects, commands } = table.plan(routes);
      table.adopt(hosts, redirects);
      await table.prepareFiles();
      const channel = await this.channel();
      if (channel === null || commands.length === 0) return;
      // A few commands per line: one admin exchange each, and each map change is atomic.
      for (let i = 0; i < commands.length; i += 20) {
        const answer = await channel.admin(commands.slice(i, i + 20).join(' ; '));
        if (/unknown|not found|error/i.test(answer)) throw new Error(`HAProxy refused a host map change: ${answer.trim().slice(0, 300)}`);
      }
      this.log.info({ changes: commands.length }, 'host routes changed at runtime');
    });
  }

  async installCertificate(host: string, pem: string): Promise<void> {
    const table = this.hostTable();
    await this.exclusive(async () => table.installCert(await this.channel(), host, pem));
  }

  async removeCertificate(host: string): Promise<void> {
    const table = this.hostTable();
    await this.exclusive(async () => table.removeCert(await this.channel(), host));
  }

  /** Certificates the last run left on disk, for hosts still wanted (start-up, before ensureRunning). */
  async restoreCertificates(hosts: string[]): Promise<void> {
    await this.table?.loadCertFiles(hosts);
  }

  certificateHosts(): string[] {
    return this.table?.certHosts() ?? [];
  }

  async remove(app: string): Promise<void> {
    await this.ensureRunning(this.routes().filter((r) => r.app !== app));
  }

  async persist(): Promise<void> {
    await this.exclusive(() => this.writeConfig(this.render()));
  }

  /** Swap the file in and reload; if HAProxy refuses, put the previous file back. */
  private async writeAndReload(text: string): Promise<void> {
    await this.assertNewPortsFree();
    const previous = await this.process.readConfig();
    await this.writeConfig(text);
    try {
      await this.process.reload();
    } catch (err) {
      // A refused reload (say, a port taken by another program) leaves the old workers
      // serving the old config: the file must say the same, or a restart would fail too.
      if (previous !== null) await this.writeConfig(previous).catch(() => undefined);
      throw err;
    }
  }

  /**
   * A reload that cannot bind a new port fails, and while it tries (~2 s) the running
   * worker pauses its listeners: new connections to every app are refused. So check
   * the ports the running HAProxy does not hold yet before reloading.
   */
  private async assertNewPortsFree(): Promise<void> {
    const held = new Set((await this.stat()).filter((row) => row.type === 3).map((row) => row.addr));
    const bind = this.configOptions.appBind;
    for (const route of this.served.values()) {
      if (held.has(formatAddress(bind, route.port))) continue;
      // Before a reload: a reload refused for a taken port pauses every listener for ~2 s.
      if (await portInUse(bind, route.port)) {
        throw new Error(`port ${route.port} of app ${route.app} is in use by another program; the router was not reloaded`);
      }
    }
  }

  async serve(route: Route): Promise<ServeReport> {
    assertAppName(route.app);
    const targets = copyTargets(route.targets);
    for (const target of targets) assertTarget(target);
    const current = this.served.get(route.app);
    if (current && current.port === route.port && sameTargets(current.targets, targets)) return { added: false, drained: true, drainMs: 0 };
    if (!current || current.port !== route.port || current.targets.length === 0 || targets.length === 0) {
      // A new port (a reload), or nothing to drain: make the route so.
      await this.ensureRunning([...this.routes().filter((r) => r.app !== route.app), route]);
      return { added: !current, drained: true, drainMs: 0 };
    }
    const next = otherSlot(current.slot);
    const started = performance.now();
    // Any change of targets (a deploy, a scale, a replica that moved) moves the whole group.
    await this.exclusive(() => this.switchSlot(route.app, current.slot, targets));
    const switchMs = performance.now() - started;
    const drain = await this.drain(route.app, current.slot, next);
    this.log.info({ app: route.app, slot: next, switchMs: Math.round(switchMs), ...drain }, 'router switched');
    return { added: false, ...drain };
  }

  /** Blue/green at runtime (see switchCommand), checked afterwards. Called inside `exclusive`. */
  private async switchSlot(app: string, current: Slot, targets: Address[]): Promise<void> {
    const next = otherSlot(current);
    const [cur, nxt] = this.slotRows(await this.stat(), app, current, next);
    if (!groupServes(cur) && groupServes(nxt)) throw new Error(`router state of ${app} is not what it served: group ${next} serves, not ${current}`);
    const answer = await this.process.admin(switchCommand(app, current, targets, cur));
    const [curAfter, nxtAfter] = this.slotRows(await this.stat(), app, current, next);
    if (groupServes(curAfter) || !groupServesExactly(nxtAfter, targets)) {
      throw new Error(`switching ${app} to ${next} failed; HAProxy answered: ${answer.trim() || '(nothing)'}`);
    }
    const spec = this.served.get(app);
    if (spec) this.served.set(app, { ...spec, slot: next, targets: copyTargets(targets) });
  }

  /** Wait until the old group has no current or queued session, bounded by the drain timeout. */
  private async drain(app: string, old: Slot, next: Slot): Promise<{ drained: boolean; drainMs: number }> {
    const started = performance.now();
    for (;;) {
      // Under the lock: a reload meanwhile finishes (its old workers, which may still hold
      // sessions to the old group, gone) before this poll can count the group as drained.
      const [oldGroup, nextGroup] = this.slotRows(await this.exclusive(() => this.stat()), app, old, next);
      // A restart or reload in between would have brought back the file's groups.
      if (!groupServes(nextGroup)) throw new Error(`the router lost the switch of ${app} to ${next} (HAProxy restarted or reloaded meanwhile)`);
      const elapsed = performance.now() - started;
      const sessions = groupSessions(oldGroup);
      if (sessions === 0) return { drained: true, drainMs: Math.round(elapsed) };
      if (elapsed >= this.drainTimeoutMs) {
        this.log.warn({ app, slot: old, sessions }, 'drain timeout reached with sessions left');
        return { drained: false, drainMs: Math.round(elapsed) };
      }
      await sleep(this.drainPollMs);
    }
  }

  startWatchdog(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.watch(), this.watchdogIntervalMs);
    this.timer.unref();
    // When the master is our own child we hear of its death at once; otherwise the poll finds it.
    this.process.onExit = () => {
      setTimeout(() => void this.watch(), 20).unref();
    };
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.process.onExit = undefined;
  }

  async stopProcess(): Promise<void> {
    this.close();
    await this.exclusive(() => this.process.stop());
  }

  /** One watchdog round: restart HAProxy from a freshly written config if it is down. */
  private async watch(): Promise<void> {
    if (this.timer === undefined || this.watching) return;
    this.watching = true;
    try {
      await this.exclusive(async () => {
        if (this.timer === undefined || (await this.process.isRunning())) return;
        const started = performance.now();
        this.log.warn('haproxy is not running; the watchdog restarts it');
        await this.writeConfig(this.render());
        await this.process.start();
        this.log.warn({ ms: Math.round(performance.now() - started) }, 'haproxy restarted by the watchdog');
      });
    } catch (err) {
      this.log.error({ err: errorMessage(err), log: await this.process.logTail() }, 'watchdog could not restart haproxy');
    } finally {
      this.watching = false;
    }
  }

  /** Per-app request counts, 5xx and latency from `show stat` (for /metrics). */
  async trafficStats(): Promise<AppTraffic[]> {
    return parseTraffic(await this.process.admin('show stat'));
  }

  private async stat(): Promise<StatRow[]> {
    return parseShowStat(await this.process.admin('show stat'));
  }

  private slotRows(rows: StatRow[], app: string, a: Slot, b: Slot): [StatRow[], StatRow[]] {
    return [groupRows(rows, app, a), groupRows(rows, app, b)];
  }

  /** The layout fingerprint the running worker loaded (see layoutFingerprint). */
  private async loadedLayout(): Promise<string | null> {
    const answer = (await this.process.admin(`show env ${LAYOUT_ENV}`)).trim();
    return answer.startsWith(`${LAYOUT_ENV}=`) ? answer.slice(LAYOUT_ENV.length + 1) : null;
  }

  /**
   * Make the runtime slots match what should serve, touching only what differs. A serving
   * slot that points elsewhere is not moved in place (not drain-safe): the idle slot takes
   * the target and the old one goes to maintenance, as in a switch.
   */
  private async reapplyTargets(): Promise<void> {
    const rows = await this.stat();
    for (const route of this.served.values()) {
      const [blue, green] = this.slotRows(rows, route.app, 'blue', 'green');
      const { slot, commands } = reapplyPlan(route, blue, green);
      this.served.set(route.app, { ...route, slot });
      if (commands.length === 0) continue;
      this.log.info({ app: route.app, slot, targets: route.targets }, 're-applying the route at runtime');
      const answer = await this.process.admin(commands.join(' ; '));
      const [blueAfter, greenAfter] = this.slotRows(await this.stat(), route.app, 'blue', 'green');
      const servingAfter = slot === 'blue' ? blueAfter : greenAfter;
      const idleAfter = slot === 'blue' ? greenAfter : blueAfter;
      if (!groupServesExactly(servingAfter, route.targets) || groupServes(idleAfter)) {
        throw new Error(`could not re-apply the route of ${route.app}; HAProxy answered: ${answer.trim() || '(nothing)'}`);
      }
    }
  }
}

/** The control plane's unix socket that the router's host frontends forward to. */
export function controlSocketPath(dataDir: string): string {
  return path.join(dataDir, 'run', 'control.sock');
}

export function createRouter(config: Config, log: Logger): HaproxyRouter {
  const { domain, httpPort, httpsPort } = config.tls;
  const hostRouting = domain === null ? undefined : { httpPort, httpsPort, controlSocket: controlSocketPath(config.dataDir) };
  return new HaproxyRouter({ dataDir: config.dataDir, appBind: config.appBind, drainTimeoutMs: config.drainTimeoutMs, log, ...(hostRouting ? { hostRouting } : {}) });
}
