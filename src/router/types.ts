/**
 * The router owns every app's stable public port. It is HAProxy in master-worker mode,
 * run as its own process so apps keep serving while MinPaas restarts.
 *
 * Each app has one frontend (its stable port) and one backend with two server slots,
 * blue and green. A deploy points the idle slot at the new container and retires the old
 * slot at runtime over the admin socket, never by a reload.
 */
export type Slot = 'blue' | 'green';

export interface Target {
  host: string;
  port: number;
}

/** One app's route as the store knows it: the source of truth for the config file. */
export interface RouteSpec {
  app: string;
  /** The stable public port the frontend binds. */
  port: number;
  /** The slot that serves now. */
  slot: Slot;
  /** Where the serving slot points; null while the app has no running release (503). */
  target: Target | null;
}

export interface SwitchResult {
  slot: Slot;
  /** False when the old slot still had sessions when the drain timeout ran out. */
  drained: boolean;
  drainMs: number;
}

export interface Router {
  /**
   * Make sure HAProxy runs with a config generated from `routes`: start it when it is not
   * running (stopping a leftover master found by its pidfile first), otherwise rewrite the
   * file and reload if the running state differs. Also re-applies each route's target at
   * runtime, so a router that survived a control-plane restart matches the store.
   */
  ensureRunning(routes: RouteSpec[]): Promise<void>;
  /** Rewrite the config file (atomically) and reload through the master socket. For app creation/deletion. */
  apply(routes: RouteSpec[]): Promise<void>;
  /** Rewrite the config file (atomically) without reloading: keeps it equal to the runtime state. */
  writeConfig(routes: RouteSpec[]): Promise<void>;
  /**
   * Blue/green switch at runtime: point the idle slot at `target`, make it ready, put the
   * current slot in maintenance, then wait until the old slot has no current or queued
   * sessions (bounded by the drain timeout). Returns the slot that now serves.
   */
  switchTo(app: string, current: Slot, target: Target): Promise<SwitchResult>;
  /** Start restarting HAProxy from the config file whenever it dies; `routes()` supplies the latest state. */
  startWatchdog(routes: () => RouteSpec[]): void;
  /** Stop the watchdog; HAProxy keeps running. */
  close(): void;
  /** Stop HAProxy itself (tests and uninstall only). */
  stopProcess(): Promise<void>;
}
