import http from 'node:http';
import { bearerToken, tokenMatches } from '../auth/token.js';
import { MinPaasError, notFound } from '../errors.js';
import type { Logger } from '../log.js';
import type { Route } from './api-routes.js';
import { loggableUrl, withoutSecrets } from './log-url.js';
import type { HookEndpoints } from './hook-routes.js';
import { sendError, sendJson } from './respond.js';

export interface HttpDeps {
  token: string;
  routes: Route[];
  /** The git remote: takes `/APP.git/...` requests. */
  git: { matches: (url: string | undefined) => boolean; handle: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> };
  log: Logger;
  /** Forge webhooks: authenticated by their signature, not the bearer token. */
  hooks?: HookEndpoints;
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
  const log = deps.log;
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
    if (deps.hooks?.matches(req.method, path)) return await deps.hooks.handle(req, res, path);
    if (deps.acmeChallenge && path.startsWith(ACME_PATH) && req.method === 'GET') return answerChallenge(res, deps.acmeChallenge(path.slice(ACME_PATH.length)));
    if (!tokenMatches(bearerToken(req.headers.authorization), deps.token)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="MinPaas"');
      throw new MinPaasError('UNAUTHORIZED', 'missing or wrong token: send Authorization: Bearer <token> (see <data>/token)');
    }
    authenticated = true;
    const matching = deps.routes.filter((r) => r.path.test(path));
    if (matching.length === 0) throw notFound(`no such endpoint: ${req.method} ${path}`);
    const route = matching.find((r) => r.method === req.method);
    if (!route) {
      res.setHeader('Allow', matching.map((r) => r.method).join(', '));
      sendJson(res, 405, { error: `${req.method} is not allowed on ${path}; use ${matching.map((r) => r.method).join(' or ')}` });
      return;
    }
    const params = (route.path.exec(path) ?? []).slice(1).map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
    await route.handle({ req, res, params, query: url.searchParams });
  } catch (err) {
    sendError(res, err, log.child({ method: req.method, url: loggableUrl(req.url, [deps.token]) }), {
      unauthenticated: !authenticated,
      scrub: (text) => withoutSecrets(text, [deps.token]),
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
