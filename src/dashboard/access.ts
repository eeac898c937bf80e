import type { RouteAccess, Viewer } from '../auth/access.js';
import type { Authenticator, Principal } from '../auth/authenticator.js';
import { viewerFor, type ApiGuard } from '../http/api-guard.js';
import type { AppRole } from '../store/auth-store.js';
import type { Store } from '../store/store.js';

/**
 * Who a dashboard session acts for and what they may do. The rules are the API's own
 * (the Authenticator that checks bearer tokens, the Viewer that API routes are handed),
 * so a token can do the same things in the browser as with the CLI, no more.
 */
export interface DashboardAuth {
  /** The principal of a token typed into the login form (owner token or `mp_…` token), or null. */
  login(token: string): Promise<Principal | null>;
  /** The session's principal as its token stands now; null once revoked, expired or its user removed. */
  current(principal: Principal): Principal | null;
  /** What the principal may see and do. */
  viewer(principal: Principal): Viewer;
  appExists(app: string): boolean;
  /** A change made from the dashboard, in the audit log beside the API's. */
  audit(e: { principal: Principal; address: string; action: string; app: string; detail: Record<string, unknown> | null; status: number }): void;
}

/**
 * The role each dashboard page and change needs: the role of the API route that reads or
 * makes the same thing (a unit test holds them to the API's table).
 */
export const PAGE_ACCESS = {
  list: { need: 'user' },
  read: { need: 'read' },
  config: { need: 'admin' },
  rollback: { need: 'deploy' },
} as const satisfies Record<string, RouteAccess>;

/** What an app's page offers the caller: only what the server would then accept. */
export interface Offers {
  changeConfig: boolean;
  rollback: boolean;
  revealConfig: boolean;
}

export function offersOn(viewer: Viewer, app: string): Offers {
  const allows = (a: RouteAccess): boolean => a.need === 'user' || (a.need !== 'owner' && viewer.allows(app, a.need as AppRole));
  return { changeConfig: allows(PAGE_ACCESS.config), rollback: allows(PAGE_ACCESS.rollback), revealConfig: viewer.seesConfigValues(app) };
}

/**
 * Applies a page's access rule before its handler runs, as ApiGuard.admit does for API
 * routes: an app the caller may not see (or that does not exist) is a 404, a role too low
 * a 403 naming the role needed.
 */
export function admitPage(viewer: Viewer, access: RouteAccess, app: string | undefined, appExists: (app: string) => boolean): void {
  if (access.need === 'user') return;
  if (access.need === 'owner') return viewer.requireOwner();
  if (app === undefined) throw new Error('a page with an app role needs the app in its path');
  viewer.require(app, access.need, appExists(app));
}

/** The server's wiring: the access layer's authenticator, the store's roles, the audit log. */
export function dashboardAuth(authenticator: Authenticator, guard: ApiGuard, store: Store): DashboardAuth {
  return {
    login: (token) => authenticator.authenticate(token),
    current: (principal) => authenticator.current(principal),
    viewer: (principal) => viewerFor(principal, store),
    appExists: (app) => store.getApp(app) !== undefined,
    audit: (e) => guard.record(e),
  };
}
