import type http from 'node:http';
import type { RouteAccess, Viewer } from '../auth/access.js';
import { liveDeploys as defaultLiveDeploys, type LiveDeploys } from '../deploy/live-deploys.js';
import type { Deploy } from '../domain/types.js';
import { errorMessage, isMinPaasError, MinPaasError } from '../errors.js';
import type { Logger } from '../log.js';
import { offersOn, PAGE_ACCESS, type DashboardAuth } from './access.js';
import { csrfTokenMatches, sameOrigin } from './csrf.js';
import { readForm } from './form.js';
import type { SafeHtml } from './html.js';
import { appPage, appsPage, deployPage, errorPage, loginPage, logsPage, type PageContext } from './pages.js';
import { isTls, SessionGuard } from './session-guard.js';
import { cookieValue, DEFAULT_SESSION_LIMITS, SESSION_COOKIE, sessionCookie, SessionStore, type Session } from './sessions.js';
import type { DashboardApps } from './service.js';
import { streamDeploy, streamLogs } from './streams.js';
import { LoginThrottle } from './throttle.js';
import { DASHBOARD_CSS, DASHBOARD_JS } from './static.js';

export interface DashboardDeps {
  apps: DashboardApps;
  /** Logins and roles: the API's (any valid token logs in, with its user's roles). */
  auth: DashboardAuth;
  log: Logger;
  sessions?: SessionStore;
  live?: LiveDeploys;
  /** How often an open live stream re-checks its session's token and role (ms). */
  streamRecheckMs?: number;
  throttle?: LoginThrottle;
}

interface Request {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  params: string[];
  query: URLSearchParams;
  session: Session;
  /** What the session's user may see and do (the page's own access rule already passed). */
  viewer: Viewer;
  /** A POST's form, its CSRF token and Origin already checked. */
  form: URLSearchParams;
  /** The route's audit-log action, for changes. */
  audit: string | undefined;
}

interface PageRoute {
  method: 'GET' | 'POST';
  path: RegExp;
  /** Who may open it: the same rule as the API route that reads or changes the same thing. */
  access: RouteAccess;
  /** A change's audit-log action (the API route's): made or refused, it is recorded. */
  audit?: string;
  handle: (r: Request) => Promise<void>;
}

/** A refused request: answered with this status and message, nothing done. */
class Refused extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const NAME = '([a-z][a-z0-9-]{0,29})';
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};

/**
 * The web dashboard: server-rendered pages at `/` and `/ui/...`. It has its own sessions
 * (a login form trading a token, the owner's or a user's, for a session cookie; a CSRF
 * token and an Origin check on every POST), applies the API's access rules to every page,
 * and does everything through the AppService, like the API.
 */
export class Dashboard {
  private readonly sessions: SessionStore;
  private readonly live: LiveDeploys;
  private readonly throttle: LoginThrottle;
  private readonly routes: PageRoute[];
  private readonly guard: SessionGuard;

  constructor(private readonly deps: DashboardDeps) {
    this.sessions = deps.sessions ?? new SessionStore();
    this.live = deps.live ?? defaultLiveDeploys;
    this.throttle = deps.throttle ?? new LoginThrottle();
    this.routes = this.pageRoutes();
    this.guard = new SessionGuard(deps.auth, this.sessions, deps.streamRecheckMs ?? 2000);
  }

  matches(path: string): boolean {
    return path === '/' || path === '/ui' || path.startsWith('/ui/');
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    let session: Session | undefined;
    try {
      if (path.startsWith('/ui/static/')) return this.serveStatic(res, path);
      if (path === '/ui/login') return await this.login(req, res);
      session = this.guard.session(req, res);
      const { route, params } = this.route(req.method, path);
      if (!session) {
        if (req.method === 'GET') return redirect(res, '/ui/login');
        throw new Refused(403, 'log in first: this session has ended');
      }
      const form = req.method === 'POST' ? await this.checkedForm(req, session) : new URLSearchParams();
      const viewer = this.guard.admit(req, session, route, params[0]);
      await route.handle({ req, res, params, query, session, viewer, form, audit: route.audit });
    } catch (err) {
      this.fail(res, err, session);
    }
  }

  private pageRoutes(): PageRoute[] {
    const { apps } = this.deps;
    const { list, read, config, rollback } = PAGE_ACCESS;
    return [
      { method: 'GET', path: /^\/$/, access: list, handle: (r) => this.appsList(r) },
      { method: 'GET', path: /^\/ui$/, access: list, handle: async (r) => redirect(r.res, '/') },
      { method: 'POST', path: /^\/ui\/logout$/, access: list, handle: async (r) => this.logout(r) },
      { method: 'GET', path: new RegExp(`^/ui/apps/${NAME}$`), access: read, handle: (r) => this.appDetail(r) },
      { method: 'POST', path: new RegExp(`^/ui/apps/${NAME}/config$`), access: config, audit: 'config.set', handle: (r) => this.changeConfig(r) },
      {
        method: 'POST',
        path: new RegExp(`^/ui/apps/${NAME}/rollback$`),
        access: rollback,
        audit: 'rollback',
        handle: (r) =>
          this.action(r, async (form) => {
            const release = Number(form.get('release'));
            if (!Number.isInteger(release) || release < 1) throw new MinPaasError('INVALID_INPUT', 'choose a release to roll back to');
            const app = await apps.rollback(r.params[0]!, release);
            return { text: `Rolled back: now v${app.release}`, detail: { release } };
          }),
      },
      { method: 'GET', path: new RegExp(`^/ui/apps/${NAME}/logs$`), access: read, handle: (r) => this.logs(r) },
      { method: 'GET', path: new RegExp(`^/ui/apps/${NAME}/logs/stream$`), access: read, handle: (r) => this.followLogs(r) },
      { method: 'GET', path: new RegExp(`^/ui/apps/${NAME}/deploys/(\\d+)$`), access: read, handle: (r) => this.deploy(r) },
      { method: 'GET', path: new RegExp(`^/ui/apps/${NAME}/deploys/(\\d+)/stream$`), access: read, handle: (r) => this.followDeploy(r) },
    ];
  }

  private route(method: string | undefined, path: string): { route: PageRoute; params: string[] } {
    for (const route of this.routes) {
      const m = route.path.exec(path);
      if (m && route.method === method) return { route, params: m.slice(1) };
    }
    if (this.routes.some((r) => r.path.test(path))) throw new Refused(405, `${method} is not allowed here`);
    throw new Refused(404, 'there is no such page');
  }

  /** Every change, checked before any handler runs: sent from this dashboard, with the session's CSRF token. */
  private async checkedForm(req: http.IncomingMessage, session: Session): Promise<URLSearchParams> {
    if (!sameOrigin(req)) throw new Refused(403, 'refused: the form was not sent from this dashboard (Origin check)');
    const form = await readForm(req);
    if (!csrfTokenMatches(form.get('csrf') ?? undefined, session.csrf)) throw new Refused(403, 'refused: the form is missing its CSRF token or it is wrong; reload the page and try again');
    return form;
  }

  private async login(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method === 'GET') return sendPage(res, 200, loginPage());
    if (req.method !== 'POST') throw new Refused(405, `${req.method} is not allowed here`);
    if (!sameOrigin(req)) throw new Refused(403, 'refused: the form was not sent from this dashboard (Origin check)');
    const client = req.socket.remoteAddress ?? 'unknown';
    const wait = this.throttle.retryAfter(client);
    if (wait > 0) {
      res.setHeader('Retry-After', String(wait));
      return sendPage(res, 429, loginPage(`Too many wrong tokens from this address; try again in ${wait} s.`));
    }
    const form = await readForm(req);
    const principal = await this.deps.auth.login(form.get('token') ?? '');
    if (!principal) {
      this.throttle.fail(client);
      this.deps.log.info({ client }, 'dashboard login refused: wrong, revoked or expired token');
      return sendPage(res, 401, loginPage('That token is not valid: it is wrong, revoked or expired.'));
    }
    this.throttle.succeed(client);
    this.deps.log.info({ client, user: principal.user, token: principal.tokenName }, 'dashboard login');
    const old = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (old) this.sessions.destroy(old);
    const session = this.sessions.create(principal);
    res.setHeader('Set-Cookie', sessionCookie(session.id, Math.floor(DEFAULT_SESSION_LIMITS.maxAgeMs / 1000), isTls(req)));
    redirect(res, '/');
  }

  private async logout(r: Request): Promise<void> {
    this.sessions.destroy(r.session.id);
    r.res.setHeader('Set-Cookie', sessionCookie('', 0, isTls(r.req)));
    redirect(r.res, '/ui/login');
  }

  /**
   * A POST that changes something (CSRF and role checked): the change made, recorded in the
   * audit log under the API's action name (keys and numbers only), back to the app page
   * with the outcome.
   */
  private async action(r: Request, change: (form: URLSearchParams) => Promise<{ text: string; detail: Record<string, unknown> }>): Promise<void> {
    const app = r.params[0]!;
    let status = 200;
    let detail: Record<string, unknown> | null = null;
    try {
      const done = await change(r.form);
      detail = done.detail;
      r.session.flash = { kind: 'ok', text: done.text };
    } catch (err) {
      status = isMinPaasError(err) ? err.status : 500;
      if (!isMinPaasError(err)) throw err;
      r.session.flash = { kind: 'error', text: err.message };
    } finally {
      if (r.audit) this.guard.audit(r.req, r.session, r.audit, app, detail, status);
    }
    redirect(r.res, `/ui/apps/${app}`);
  }

  private changeConfig(r: Request): Promise<void> {
    return this.action(r, async (form) => {
      const key = form.get('key') ?? '';
      const unset = form.get('unset') === '1';
      const release = await this.deps.apps.changeConfig(r.params[0]!, { [key]: unset ? null : (form.get('value') ?? '') });
      const what = unset ? `Unset ${key}` : `Set ${key}`;
      const text = release === null ? `${what} (stored; it applies to the first release)` : `${what}: released v${release}`;
      return { text, detail: unset ? { set: [], unset: [key] } : { set: [key], unset: [] } };
    });
  }

  /** The apps the session's user may see (all of them for owners). */
  private async appsList(r: Request): Promise<void> {
    const list = (await this.deps.apps.list()).filter((a) => r.viewer.sees(a.name));
    const last = new Map<string, Deploy | undefined>(list.map((a) => [a.name, this.deps.apps.deploys(a.name)[0]]));
    sendPage(r.res, 200, appsPage(this.context(r.session), list, last));
  }

  private async appDetail(r: Request): Promise<void> {
    const { apps } = this.deps;
    const name = r.params[0]!;
    const app = await apps.get(name);
    const offers = offersOn(r.viewer, name);
    const reveal = offers.revealConfig ? r.query.get('reveal') : null;
    sendPage(
      r.res,
      200,
      appPage(this.context(r.session), {
        app,
        releases: apps.releases(name),
        deploys: apps.deploys(name),
        config: r.viewer.config(name, apps.config(name)),
        revealed: new Set(reveal ? [reveal] : []),
        offers,
      }),
    );
  }

  private async logs(r: Request): Promise<void> {
    const name = r.params[0]!;
    const app = await this.deps.apps.get(name);
    const recent = app.container ? await this.deps.apps.logs(name, 200) : '';
    sendPage(r.res, 200, logsPage(this.context(r.session), name, recent, app.container ? undefined : 'This app has no running release yet.'));
  }

  private async followLogs(r: Request): Promise<void> {
    this.guard.endStreamWhenRefused(r.res, r.session, PAGE_ACCESS.read, r.params[0]);
    await streamLogs(this.deps.apps, r.params[0]!, r.res);
  }

  private findDeploy(app: string, id: string): Deploy {
    const deploy = this.deps.apps.deploys(app).find((d) => String(d.id) === id);
    if (!deploy) throw new Refused(404, `${app} has no deploy #${id} among its recent deploys`);
    return deploy;
  }

  private async deploy(r: Request): Promise<void> {
    const [app, id] = r.params as [string, string];
    const deploy = this.findDeploy(app, id);
    const running = deploy.status === 'running';
    const text = running ? (this.live.find(app, deploy.startedAt)?.text() ?? '') : this.deps.apps.deployLog(app, deploy.id);
    sendPage(r.res, 200, deployPage(this.context(r.session), app, deploy, text, running));
  }

  private async followDeploy(r: Request): Promise<void> {
    this.guard.endStreamWhenRefused(r.res, r.session, PAGE_ACCESS.read, r.params[0]);
    streamDeploy(this.deps.apps, this.live, this.findDeploy(r.params[0]!, r.params[1]!), r.res);
  }

  private context(session: Session): PageContext {
    const flash = session.flash;
    delete session.flash;
    return { csrf: session.csrf, flash, user: session.principal.user };
  }

  private serveStatic(res: http.ServerResponse, path: string): void {
    const files: Record<string, [string, string]> = {
      '/ui/static/dashboard.js': ['text/javascript; charset=utf-8', DASHBOARD_JS],
      '/ui/static/dashboard.css': ['text/css; charset=utf-8', DASHBOARD_CSS],
    };
    const file = files[path];
    if (!file) throw new Refused(404, 'there is no such file');
    res.writeHead(200, { 'Content-Type': file[0], 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
    res.end(file[1]);
  }

  private fail(res: http.ServerResponse, err: unknown, session: Session | undefined): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const ctx = session ? this.context(session) : undefined;
    if (err instanceof Refused) return sendPage(res, err.status, errorPage(ctx, err.status, err.message));
    if (isMinPaasError(err)) return sendPage(res, err.status, errorPage(ctx, err.status, err.message));
    this.deps.log.error({ err: errorMessage(err) }, 'dashboard request failed');
    sendPage(res, 500, errorPage(ctx, 500, 'internal error; the server log has the details'));
  }
}

function sendPage(res: http.ServerResponse, status: number, page: SafeHtml): void {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', ...SECURITY_HEADERS });
  res.end(page.text);
}

/** 303: after a POST the browser GETs the page (a reload does not resend the form). */
function redirect(res: http.ServerResponse, location: string): void {
  res.writeHead(303, { Location: location, 'Cache-Control': 'no-store' });
  res.end();
}
