import type { Config } from '../config.js';
import { errorMessage } from '../errors.js';
import { log } from '../log.js';
import {
  LAYOUT_ENV,
  assertAppName,
  assertTarget,
  backendName,
  formatAddress,
  layoutFingerprint,
  otherSlot,
  renderHaproxyConfig,
  type HaproxyConfigOptions,
  type HaproxyTimeouts,
} from './haproxy-config.js';
import { HaproxyProcess } from './haproxy-process.js';
import { parseTraffic, type AppTraffic } from './traffic.js';
import { canBind, findStatRow, isMaint, parseShowStat, type StatRow } from './sockets.js';
import type { Router, RouteSpec, Slot, SwitchResult, Target } from './types.js';

const logger = log.child({ module: 'router' });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface HaproxyRouterOptions {
  dataDir: string;
  appBind: string;
  drainTimeoutMs: number;
  haproxyBin?: string;
  /** How often the watchdog checks the master (default 1 s). */
  watchdogIntervalMs?: number;
  /** How often a switch polls `show stat` while the old slot drains (default 50 ms). */
  drainPollMs?: number;
  timeouts?: Partial<HaproxyTimeouts>;
}

/**
 * The Router on HAProxy. Process-level operations (start, reload, restart, config writes)
 * and the switch commands run one at a time through `exclusive`, so the watchdog never
 * mistakes our own reload for a crash and a switch never lands on a worker being replaced.
 */
export class HaproxyRouter implements Router {
  readonly process: HaproxyProcess;
  private readonly configOptions: HaproxyConfigOptions;
  private readonly drainTimeoutMs: number;
  private readonly watchdogIntervalMs: number;
  private readonly drainPollMs: number;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private routesFn: (() => RouteSpec[]) | undefined;
  private watching = false;
  /**
   * Switches done at runtime that the routes given to us do not show yet (the caller
   * updates its store and calls writeConfig right after switchTo). Every render applies
   * them, so a reload or restart in that window keeps the switch instead of undoing it.
   */
  private readonly pending = new Map<string, { slot: Slot; target: Target }>();

  constructor(opts: HaproxyRouterOptions) {
    this.process = new HaproxyProcess({ dataDir: opts.dataDir, ...(opts.haproxyBin ? { haproxyBin: opts.haproxyBin } : {}) });
    this.configOptions = { dataDir: opts.dataDir, appBind: opts.appBind, ...(opts.timeouts ? { timeouts: opts.timeouts } : {}) };
    this.drainTimeoutMs = opts.drainTimeoutMs;
    this.watchdogIntervalMs = opts.watchdogIntervalMs ?? 1000;
    this.drainPollMs = opts.drainPollMs ?? 50;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private render(routes: RouteSpec[]): string {
    return renderHaproxyConfig(routes, this.configOptions);
  }

  /** `routes` with the pending runtime switches applied; forgets those the routes now show. */
  private effective(routes: RouteSpec[]): RouteSpec[] {
    const apps = new Set(routes.map((route) => route.app));
    for (const app of this.pending.keys()) if (!apps.has(app)) this.pending.delete(app);
    return routes.map((route) => {
      const switched = this.pending.get(route.app);
      if (switched === undefined) return route;
      const t = route.target;
      if (route.slot === switched.slot && t !== null && t.host === switched.target.host && t.port === switched.target.port) {
        this.pending.delete(route.app);
        return route;
      }
      return { ...route, slot: switched.slot, target: switched.target };
    });
  }

  async ensureRunning(stored: RouteSpec[]): Promise<void> {
    await this.exclusive(async () => {
      const routes = this.effective(stored);
      const text = this.render(routes);
      if (!(await this.process.isRunning())) {
        await this.process.writeConfig(text);
        await this.process.start();
        return;
      }
      // A HAProxy that outlived the control plane: reload only if its frontends/backends
      // differ from the store, else just put every slot where the store says.
      const loaded = await this.loadedLayout();
      if (loaded !== layoutFingerprint(routes, this.configOptions)) {
        logger.info({ loaded }, 'running haproxy has another layout; reloading');
        await this.writeAndReload(text, routes);
        return;
      }
      await this.process.writeConfig(text);
      await this.reapplyTargets(routes);
    });
  }

  async apply(stored: RouteSpec[]): Promise<void> {
    await this.exclusive(async () => {
      const routes = this.effective(stored);
      const text = this.render(routes);
      if (await this.process.isRunning()) {
        await this.writeAndReload(text, routes);
      } else {
        await this.process.writeConfig(text);
        await this.process.start();
      }
    });
  }

  /** Swap the file in and reload; if HAProxy refuses, put the previous file back. */
  private async writeAndReload(text: string, routes: RouteSpec[]): Promise<void> {
    await this.assertNewPortsFree(routes);
    const previous = await this.process.readConfig();
    await this.process.writeConfig(text);
    try {
      await this.process.reload();
    } catch (err) {
      // A refused reload (say, a port taken by another program) leaves the old workers
      // serving the old config: the file must say the same, or a restart would fail too.
      if (previous !== null) await this.process.writeConfig(previous).catch(() => undefined);
      throw err;
    }
  }

  /**
   * A reload that cannot bind a new port fails, and while it tries (~2 s) the running
   * worker pauses its listeners: new connections to every app are refused. So check
   * the ports the running HAProxy does not hold yet before reloading.
   */
  private async assertNewPortsFree(routes: RouteSpec[]): Promise<void> {
    const held = new Set((await this.stat()).filter((row) => row.type === 3).map((row) => row.addr));
    for (const route of routes) {
      const bind = this.configOptions.appBind;
      if (held.has(formatAddress(bind, route.port))) continue;
      if (!(await canBind(bind, route.port))) {
        throw new Error(`port ${route.port} of app ${route.app} is in use by another program; the router was not reloaded`);
      }
    }
  }

  async writeConfig(stored: RouteSpec[]): Promise<void> {
    await this.exclusive(() => this.process.writeConfig(this.render(this.effective(stored))));
  }

  async switchTo(app: string, current: Slot, target: Target): Promise<SwitchResult> {
    assertAppName(app);
    assertTarget(target);
    if (current !== 'blue' && current !== 'green') throw new Error(`invalid slot: ${String(current)}`);
    const backend = backendName(app);
    const next = otherSlot(current);
    const started = performance.now();
    await this.exclusive(async () => {
      const [cur, nxt] = this.slotRows(await this.stat(), app, current, next);
      if (isMaint(cur) && !isMaint(nxt)) {
        throw new Error(`router state of ${app} disagrees with the store: slot ${next} serves, not ${current}`);
      }
      // One line, so HAProxy applies the three changes back to back (measured: 0 errors).
      const answer = await this.process.admin(
        `set server ${backend}/${next} addr ${target.host} port ${target.port} ; ` +
          `set server ${backend}/${next} state ready ; set server ${backend}/${current} state maint`,
      );
      const [curAfter, nxtAfter] = this.slotRows(await this.stat(), app, current, next);
      if (isMaint(nxtAfter) || !isMaint(curAfter) || nxtAfter.addr !== formatAddress(target.host, target.port)) {
        throw new Error(`switching ${app} to ${next} failed; HAProxy answered: ${answer.trim() || '(nothing)'}`);
      }
      this.pending.set(app, { slot: next, target: { host: target.host, port: target.port } });
    });
    const switchMs = performance.now() - started;
    let drain: { drained: boolean; drainMs: number };
    try {
      drain = await this.drain(app, current, next);
    } catch (err) {
      // The caller takes a failed switchTo as "not switched"; renders must not keep it.
      this.pending.delete(app);
      throw err;
    }
    logger.info({ app, slot: next, switchMs: Math.round(switchMs), ...drain }, 'router switched');
    return { slot: next, ...drain };
  }

  /** Wait until the old slot has no current or queued session, bounded by the drain timeout. */
  private async drain(app: string, old: Slot, next: Slot): Promise<{ drained: boolean; drainMs: number }> {
    const started = performance.now();
    for (;;) {
      // Under the lock: a reload meanwhile finishes (its old workers, which may still hold
      // sessions to the old slot, gone) before this poll can count the slot as drained.
      const [oldRow, nextRow] = this.slotRows(await this.exclusive(() => this.stat()), app, old, next);
      // A restart or reload in between would have brought back the file's slots.
      if (isMaint(nextRow)) throw new Error(`the router lost the switch of ${app} to ${next} (HAProxy restarted or reloaded meanwhile)`);
      const elapsed = performance.now() - started;
      if (oldRow.scur === 0 && oldRow.qcur === 0) return { drained: true, drainMs: Math.round(elapsed) };
      if (elapsed >= this.drainTimeoutMs) {
        logger.warn({ app, slot: old, scur: oldRow.scur, qcur: oldRow.qcur }, 'drain timeout reached with sessions left');
        return { drained: false, drainMs: Math.round(elapsed) };
      }
      await sleep(this.drainPollMs);
    }
  }

  startWatchdog(routes: () => RouteSpec[]): void {
    this.routesFn = routes;
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
    if (this.timer === undefined || this.watching || this.routesFn === undefined) return;
    const routesFn = this.routesFn;
    this.watching = true;
    try {
      await this.exclusive(async () => {
        if (this.timer === undefined || (await this.process.isRunning())) return;
        const started = performance.now();
        logger.warn('haproxy is not running; the watchdog restarts it');
        await this.process.writeConfig(this.render(this.effective(routesFn())));
        await this.process.start();
        logger.warn({ ms: Math.round(performance.now() - started) }, 'haproxy restarted by the watchdog');
      });
    } catch (err) {
      logger.error({ err: errorMessage(err), log: await this.process.logTail() }, 'watchdog could not restart haproxy');
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

  private slotRows(rows: StatRow[], app: string, a: Slot, b: Slot): [StatRow, StatRow] {
    const rowA = findStatRow(rows, backendName(app), a);
    const rowB = findStatRow(rows, backendName(app), b);
    if (rowA === undefined || rowB === undefined) throw new Error(`the router has no route for app ${app}`);
    return [rowA, rowB];
  }

  /** The layout fingerprint the running worker loaded (see layoutFingerprint). */
  private async loadedLayout(): Promise<string | null> {
    const answer = (await this.process.admin(`show env ${LAYOUT_ENV}`)).trim();
    return answer.startsWith(`${LAYOUT_ENV}=`) ? answer.slice(LAYOUT_ENV.length + 1) : null;
  }

  /** Make the runtime slots match the store, touching only what differs. */
  private async reapplyTargets(routes: RouteSpec[]): Promise<void> {
    const rows = await this.stat();
    for (const route of routes) {
      const backend = backendName(route.app);
      const idleSlot = otherSlot(route.slot);
      const [serving, idle] = this.slotRows(rows, route.app, route.slot, idleSlot);
      const commands: string[] = [];
      if (route.target === null) {
        if (!isMaint(serving)) commands.push(`set server ${backend}/${route.slot} state maint`);
      } else {
        if (serving.addr !== formatAddress(route.target.host, route.target.port)) {
          // Moving a busy slot is not drain-safe, but the store is the truth; say so.
          if (!isMaint(serving)) logger.warn({ app: route.app, from: serving.addr }, 'moving a serving slot to the stored target');
          commands.push(`set server ${backend}/${route.slot} addr ${route.target.host} port ${route.target.port}`);
        }
        if (isMaint(serving)) commands.push(`set server ${backend}/${route.slot} state ready`);
      }
      if (!isMaint(idle)) commands.push(`set server ${backend}/${idleSlot} state maint`);
      if (commands.length === 0) continue;
      logger.info({ app: route.app, slot: route.slot, target: route.target }, 're-applying stored route at runtime');
      const answer = await this.process.admin(commands.join(' ; '));
      const [servingAfter, idleAfter] = this.slotRows(await this.stat(), route.app, route.slot, idleSlot);
      if (isMaint(servingAfter) !== (route.target === null) || !isMaint(idleAfter)) {
        throw new Error(`could not re-apply the route of ${route.app}; HAProxy answered: ${answer.trim() || '(nothing)'}`);
      }
    }
  }
}

export function createRouter(config: Config): HaproxyRouter {
  return new HaproxyRouter({ dataDir: config.dataDir, appBind: config.appBind, drainTimeoutMs: config.drainTimeoutMs });
}
