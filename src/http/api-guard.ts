import type http from 'node:http';
import { Viewer, type RouteAccess } from '../auth/access.js';
import type { Authenticator, Principal } from '../auth/authenticator.js';
import { MinPaasError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { bodyIfRead, readJson } from './respond.js';

/** What the audit log records for a route: an action name, and what changed (never a value). */
export interface AuditSpec {
  action: string;
  detail?: (body: unknown, params: string[]) => Record<string, unknown> | null;
}

/** The parts of a route the guard reads. */
export interface GuardedRoute {
  path: RegExp;
  access: RouteAccess;
  audit?: AuditSpec;
}

/** The client's address as the socket has it (no X-Forwarded-For: anyone can send that). */
export function clientAddress(req: http.IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/**
 * Authentication, the access rule of each route and the audit log, in one place at the
 * HTTP edge: services below know nothing of users.
 */
export class ApiGuard {
  constructor(
    readonly authenticator: Authenticator,
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /** The caller, or a 401 / 429 (with Retry-After). */
  async authenticate(req: http.IncomingMessage, setHeader: (name: string, value: string) => void, token: string | undefined, scheme: 'Bearer' | 'Basic'): Promise<Principal> {
    const outcome = await this.authenticator.check(token, clientAddress(req));
    if ('principal' in outcome) return outcome.principal;
    if ('limited' in outcome) {
      setHeader('Retry-After', String(outcome.limited));
      throw new MinPaasError('TOO_MANY_REQUESTS', `too many failed logins from your address; try again in ${outcome.limited} s`);
    }
    setHeader('WWW-Authenticate', scheme === 'Bearer' ? 'Bearer realm="MinPaas"' : 'Basic realm="MinPaas", charset="UTF-8"');
    throw new MinPaasError(
      'UNAUTHORIZED',
      `missing or wrong token${outcome.refused === 'missing' ? '' : ' (or an expired or revoked one)'}: send Authorization: Bearer <token> (see <data>/token, or "minpaas tokens:create")`,
    );
  }

  /** Applies the route's access rule; the Viewer tells the handler what the caller may see. */
  async admit(route: GuardedRoute, principal: Principal, params: string[], req: http.IncomingMessage): Promise<Viewer> {
    const viewer = viewerFor(principal, this.store);
    const { access } = route;
    if (access.need === 'user') return viewer;
    if (access.need === 'owner') {
      viewer.requireOwner();
      return viewer;
    }
    const app = access.app === 'body' ? bodyApp(await readJson(req).catch(() => undefined)) : params[0];
    // A body without an app name, or one naming an app that does not exist yet: creating apps is for owners.
    if (app === undefined) {
      if (!principal.owner) throw new MinPaasError('FORBIDDEN', 'only owners may create apps');
      return viewer;
    }
    viewer.require(app, access.need, this.store.getApp(app) !== undefined);
    return viewer;
  }

  /** Records the route's change in the audit log once the answer is out (its status is the outcome). */
  auditRoute(route: GuardedRoute, principal: Principal, params: string[], req: http.IncomingMessage, res: http.ServerResponse): void {
    const spec = route.audit;
    if (!spec) return;
    res.once('close', () => {
      void (async () => {
        const body = await (bodyIfRead(req) ?? Promise.resolve(undefined)).catch(() => undefined);
        const app = route.access.need !== 'owner' && route.access.need !== 'user' && route.access.app === 'body' ? bodyApp(body) : /^\^\\?\/apps\\?\//.test(route.path.source) ? params[0] : undefined;
        this.record({ principal, address: clientAddress(req), action: spec.action, app: app ?? null, detail: spec.detail ? spec.detail(body, params) : null, status: answeredStatus(res) });
      })();
    });
  }

  /** A webhook delivery the forge's signature admitted (refused ones are noise anyone can make). */
  auditHook(forge: string, app: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    res.once('close', () => {
      const status = answeredStatus(res);
      if (status === 401 || status === 404) return;
      this.record({ principal: { user: `webhook:${forge}`, owner: false, tokenId: null, tokenName: `${forge} signature` }, address: clientAddress(req), action: 'webhook.deploy', app, detail: null, status });
    });
  }

  record(e: { principal: Principal; address: string; action: string; app: string | null; detail: Record<string, unknown> | null; status: number }): void {
    try {
      this.store.auth.recordAudit({ user: e.principal.user, tokenName: e.principal.tokenName, address: e.address, action: e.action, app: e.app, detail: e.detail, status: e.status });
    } catch (err) {
      this.log.error({ err: (err as Error).message, action: e.action }, 'could not write the audit log');
    }
  }
}

/** The caller's view: their roles, and a parent's roles on its preview apps. */
export function viewerFor(principal: Principal, store: Store): Viewer {
  return new Viewer(principal, store.auth, (app) => store.forges.previewByApp(app)?.parent);
}

function bodyApp(body: unknown): string | undefined {
  const app = (body as { app?: unknown } | undefined)?.app;
  return typeof body === 'object' && body !== null && typeof app === 'string' ? app : undefined;
}

/** Outcomes of streamed answers (200 sent first, the result in the last line). */
const streamedOutcomes = new WeakMap<http.ServerResponse, number>();

/** A streamed answer's real outcome, for the audit log. */
export function noteStreamedOutcome(res: http.ServerResponse, status: number): void {
  streamedOutcomes.set(res, status);
}

/** The status sent (or a stream's noted outcome), or 499 when the client left before any answer. */
function answeredStatus(res: http.ServerResponse): number {
  return streamedOutcomes.get(res) ?? (res.headersSent ? res.statusCode : 499);
}

/** Config changes as the audit log keeps them: keys only. */
export function configKeys(body: unknown): Record<string, unknown> | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const entries = Object.entries(body as Record<string, unknown>);
  return { set: entries.filter(([, v]) => v !== null).map(([k]) => k), unset: entries.filter(([, v]) => v === null).map(([k]) => k) };
}

/** A body's fields named in `keys` (numbers, names: nothing secret). */
export function fieldsOf(...keys: string[]): (body: unknown) => Record<string, unknown> | null {
  return (body) => {
    if (typeof body !== 'object' || body === null) return null;
    const out: Record<string, unknown> = {};
    for (const k of keys) if ((body as Record<string, unknown>)[k] !== undefined) out[k] = (body as Record<string, unknown>)[k];
    return out;
  };
}
