import type { Address } from '../domain/types.js';

/**
 * The router owns every app's stable public port: "app X on port P is served by these
 * targets". How it moves traffic without dropping a request (HAProxy's blue/green slots,
 * drained over the admin socket) is its own business.
 */
export interface Route {
  app: string;
  /** The stable public port. */
  port: number;
  /** Where requests go; empty while the app has no running release (503). */
  targets: Address[];
}

export interface ServeReport {
  /** True when this made the app's port live (its first route), so there was nothing to drain. */
  added: boolean;
  /** False when the old targets still had sessions when the drain timeout ran out. */
  drained: boolean;
  drainMs: number;
}

export interface Router {
  /**
   * Make the router serve exactly `routes` (start-up, app deletion, undo): start HAProxy
   * when it is not running, reload when its ports or apps differ, otherwise move only
   * what differs at runtime. The file is rewritten too.
   */
  ensureRunning(routes: Route[]): Promise<void>;
  /**
   * Send the app's traffic to `route.targets` at runtime and wait until the old targets
   * have drained (bounded by the drain timeout). An app the router does not serve yet
   * gets its port (a reload). Does not touch the file: see persist.
   */
  serve(route: Route): Promise<ServeReport>;
  /** Stop serving the app (its port closes). */
  remove(app: string): Promise<void>;
  /** The routes served now, as the router knows them. */
  routes(): Route[];
  /** Write what serves now to the config file, so a restart or reload keeps it. */
  persist(): Promise<void>;
  /** Start restarting HAProxy (from what serves now) whenever it dies. */
  startWatchdog(): void;
  /** Stop the watchdog; HAProxy keeps running. */
  close(): void;
  /** Stop HAProxy itself (tests and uninstall only). */
  stopProcess(): Promise<void>;
}

/** A host name the shared HTTP/HTTPS frontends serve (issue 11: APP.DOMAIN, custom domains, the control plane's host). */
export interface HostRoute {
  host: string;
  /** The app whose backend serves it; null = the control plane. */
  app: string | null;
  /** Plain HTTP answers with a redirect to HTTPS (except the ACME challenge path). */
  redirect: boolean;
}

/** Host routing and certificates, without a reload (routers that serve host names). */
export interface HostRouter {
  /** Serve exactly these host names (runtime map updates; the files are rewritten too). */
  setHosts(routes: HostRoute[]): Promise<void>;
  /** Load (or replace) the certificate of `host`: PEM chain then private key. */
  installCertificate(host: string, pem: string): Promise<void>;
  removeCertificate(host: string): Promise<void>;
}
