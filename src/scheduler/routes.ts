import type { AppRow } from '../domain/types.js';
import type { RouteSpec } from '../router/types.js';

/** Containers publish on loopback only; the router is the one way in. */
export const CONTAINER_HOST = '127.0.0.1';

/** The router's routes as the store describes them: every app that has a running release. */
export function routesFromApps(apps: AppRow[]): RouteSpec[] {
  return apps
    .filter((a) => a.containerPort !== null)
    .map((a) => ({ app: a.name, port: a.port, slot: a.routeSlot, target: { host: CONTAINER_HOST, port: a.containerPort! } }));
}

/** `routes` with one app's entry replaced (or added). */
export function withRoute(routes: RouteSpec[], route: RouteSpec): RouteSpec[] {
  return [...routes.filter((r) => r.app !== route.app), route].sort((a, b) => a.app.localeCompare(b.app));
}
