import type { EnvVars } from '../domain/types.js';
import { MinPaasError, notFound } from '../errors.js';
import type { AppRole, AuthStore } from '../store/auth-store.js';
import type { Principal } from './authenticator.js';

export type Role = 'owner' | AppRole;

export const APP_ROLES: readonly AppRole[] = ['admin', 'deploy', 'read'];

const RANK: Record<Role, number> = { read: 1, deploy: 2, admin: 3, owner: 4 };

/**
 * Who may call a route, declared in the route table itself:
 * - `owner`: owners only (creating apps, users, rotating the key);
 * - `user`: anyone authenticated (the handler shows only what the caller may see);
 * - an app role: at least that role on the route's app (the first path parameter, or the
 *   body's `app` field with `app: 'body'`).
 */
export type RouteAccess = { need: 'owner' } | { need: 'user' } | { need: AppRole; app?: 'body' };

export function isAppRole(value: unknown): value is AppRole {
  return typeof value === 'string' && (APP_ROLES as readonly string[]).includes(value);
}

/** What the caller may see and do; handed to every route. */
export class Viewer {
  constructor(
    readonly principal: Principal,
    private readonly store: AuthStore,
    /** A preview app's parent: a role on the parent holds on its previews. */
    private readonly parentOf: (app: string) => string | undefined = () => undefined,
  ) {}

  roleOn(app: string): Role | undefined {
    if (this.principal.owner) return 'owner';
    const parent = this.parentOf(app);
    return this.store.roleOf(app, this.principal.user) ?? (parent === undefined ? undefined : this.store.roleOf(parent, this.principal.user));
  }

  /** Whether the caller holds at least `needed` on `app` (what a page may offer them). */
  allows(app: string, needed: AppRole): boolean {
    const role = this.roleOn(app);
    return role !== undefined && RANK[role] >= RANK[needed];
  }

  sees(app: string): boolean {
    return this.roleOn(app) !== undefined;
  }

  /** Read-only callers see config keys, not values. */
  seesConfigValues(app: string): boolean {
    return this.roleOn(app) !== 'read';
  }

  config(app: string, env: EnvVars): EnvVars {
    if (this.seesConfigValues(app)) return env;
    return Object.fromEntries(Object.keys(env).map((k) => [k, '(hidden)']));
  }

  /**
   * Throws unless the caller has at least `needed` on `app`. An app the caller may not see
   * (or that does not exist) is a 404 for non-owners, so names do not leak; owners reach the
   * handler, which answers 404 for unknown apps itself.
   */
  require(app: string, needed: AppRole, appExists: boolean): void {
    const role = this.roleOn(app);
    if (role === 'owner') return;
    if (role === undefined || !appExists) throw notFound(`no app named ${app}`);
    if (RANK[role] < RANK[needed]) {
      throw new MinPaasError('FORBIDDEN', `your role on ${app} is ${role}; this needs ${needed} (an admin of ${app} can run: minpaas access:add ${app} ${this.principal.user} --role ${needed})`);
    }
  }

  requireOwner(): void {
    if (!this.principal.owner) throw new MinPaasError('FORBIDDEN', 'only owners (server-wide admins) may do this');
  }
}
