import http from 'node:http';
import { bearerToken } from '../auth/token.js';
import { MinPaasError, notFound } from '../errors.js';
import type { Logger } from '../log.js';
import type { Route } from './api-routes.js';
import type { ApiGuard } from './api-guard.js';
import { scrubTokens } from './scrub-tokens.js';
import { loggableUrl, withoutSecrets } from './log-url.js';
import type { HookEndpoints } from './hook-routes.js';
import { handleOperatorEndpoint, type OperatorEndpoints } from './operator-endpoints.js';
import { assignRequestId, readJson, sendError, sendJson } from './respond.js';
import { validateBody } from './schemas/route-doc.js';

export interface HttpDeps {
  /** The owner token (scrubbed from logs). */
  token: string;
  /** Who the caller is, what each route allows them, the audit log. */
  guard: ApiGuard;
  routes: Route[];
  /** The git remote: takes `/APP.git/...` requests. */
  git: { matches: (url: string | undefined) => boolean; handle: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> };
  log: Logger;
  /** GET /openapi.json and GET /metrics. */
  operator?: OperatorEndpoints;
  /** Forge webhooks: authenticated by their signature, not the bearer token. */
  hooks?: HookEndpoints;
  /** The web dashboard (`/`, `/ui/...`): authenticated by its session cookie, not the bearer token. */
  dashboard?: { matches: (path: string) => boolean; handle: (req: http.IncomingMessage, res: http.ServerResponse, path: string, query: URLSearchParams) => Promise<void> };
  /** ACME HTTP-01 answers by token (no auth: the ACME server fetches them through the router). */
  acmeChallenge?: (token: string) => string | undefined;
}

/** One port serves the git remote and the admin API. */
export function createHttpServer(deps: HttpDeps): http.Server {
  const server = http.createServer((req, res) => void dispatch(deps, req, res));
  // Builds stream for minutes inside one request; the build timeout bounds them instead.
  server.requestTimeout = 0;
  return server;
}

async function dispatch(deps: HttpDeps, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const requestId = assignRequestId(res);
  const log = deps.log.child({ requestId });
  let authenticated = false;
  try {
    if (deps.git.matches(req.url)) {
      await deps.git.handle(req, res);
      return;
    }
    const url = parseRequestUrl(req.url);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/healthz' && req.method === 'GET') {
      sendJson(res, 200, { ok: true });
      return;
    }
    if (deps.hooks?.matches(req.method, path)) {
      const [, forge, app] = path.split('/').slice(1);
      deps.guard.auditHook(forge!, app!, req, res);
      return await deps.hooks.handle(req, res, path);
    }
    if (deps.acmeChallenge && path.startsWith(ACME_PATH) && req.method === 'GET') return answerChallenge(res, deps.acmeChallenge(path.slice(ACME_PATH.length)));
    if (await handleOperatorEndpoint(deps.operator, deps.token, req, res, path)) return;
    // The dashboard has its own login (a session cookie, not the bearer token).
    if (deps.dashboard?.matches(path)) return await deps.dashboard.handle(req, res, path, url.searchParams);
    const principal = await deps.guard.authenticate(req, (k, v) => res.setHeader(k, v), bearerToken(req.headers.authorization), 'Bearer');
    authenticated = true;
    const matching = deps.routes.filter((r) => r.path.test(path));
    if (matching.length === 0) throw notFound(`no such endpoint: ${req.method} ${path}`);
    const route = matching.find((r) => r.method === req.method);
    if (!route) {
      res.setHeader('Allow', matching.map((r) => r.method).join(', '));
      throw new MinPaasError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}; use ${matching.map((r) => r.method).join(' or ')}`);
    }
    const params = (route.path.exec(path) ?? []).slice(1).map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
    // Registered first: refused attempts (403/404) are recorded too.
    deps.guard.auditRoute(route, principal, params, req, res);
    const viewer = await deps.guard.admit(route, principal, params, req);
    // The route layer checks the body against the route's schema before any service sees it.
    const body = route.doc?.body ? validateBody(route.doc.body, await readJson(req)) : undefined;
    await route.handle({ req, res, params, query: url.searchParams, body, viewer });
  } catch (err) {
    sendError(res, err, log.child({ method: req.method, url: scrubTokens(loggableUrl(req.url, [deps.token])) }), {
      unauthenticated: !authenticated,
      scrub: (text) => scrubTokens(withoutSecrets(text, [deps.token])),
    });
  }
}

const ACME_PATH = '/.well-known/acme-challenge/';

function answerChallenge(res: http.ServerResponse, answer: string | undefined): void {
  res.writeHead(answer === undefined ? 404 : 200, { 'Content-Type': 'text/plain' });
  res.end(answer ?? 'no such challenge');
}

/** The request's URL, or a 400 (before the token is checked) when it cannot be parsed. */
function parseRequestUrl(raw: string | undefined): URL {
  try {
    return new URL(raw ?? '/', 'http://localhost');
  } catch {
    throw new MinPaasError('INVALID_INPUT', 'the request URL cannot be parsed; send a path like /apps');
  }
}
