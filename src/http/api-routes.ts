import type http from 'node:http';
import type { AppService } from '../apps/app-service.js';
import type { DeployCommand } from './commands.js';
import { invalid, isMinPaasError } from '../errors.js';
import { decodeAppName, decodeBuilder, decodeConfigChanges, decodeCreateApp, decodeDeploy, decodeDeployId, decodeLimits, decodeRollback } from './commands.js';
import { readJson, readJsonObject, sendJson, sendText } from './respond.js';

/** Rollbacks skip the Procfile's release command unless `"runReleasePhase": true`. */
function decodeRunReleasePhase(body: Record<string, unknown>): boolean {
  const value = body.runReleasePhase;
  if (value !== undefined && typeof value !== 'boolean') throw invalid('runReleasePhase must be true or false');
  return value === true;
}

export interface RouteContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  params: string[];
  query: URLSearchParams;
}

export interface Route {
  method: string;
  path: RegExp;
  handle: (ctx: RouteContext) => Promise<void>;
}

const NAME = '([^/]+)';

function tailParam(query: URLSearchParams): number {
  const raw = query.get('tail');
  if (raw === null || raw === '') return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 10_000) throw invalid('tail must be a whole number from 0 to 10000');
  return n;
}

/** `?process=worker.1`: one process's logs (default: web.1). */
function processParam(query: URLSearchParams): string | undefined {
  const raw = query.get('process');
  if (raw === null || raw === '') return undefined;
  if (!/^[a-z][a-z0-9_-]{0,29}\.\d{1,2}$/.test(raw)) throw invalid('process must name one process, e.g. worker.1');
  return raw;
}

/**
 * Streams container logs until the client leaves, then stops reading from Docker. A
 * client may leave while the Docker stream is still being set up: then it is stopped
 * as soon as it exists.
 */
async function followLogs(apps: AppService, ctx: RouteContext): Promise<void> {
  let gone = false;
  const onGone = (): void => {
    gone = true;
  };
  ctx.res.once('close', onGone);
  const { stream, stop } = await apps.followLogs(decodeAppName(ctx.params[0]), tailParam(ctx.query), processParam(ctx.query));
  ctx.res.off('close', onGone);
  if (gone || ctx.res.destroyed) {
    stop();
    return;
  }
  ctx.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' });
  ctx.res.flushHeaders();
  ctx.res.on('close', stop);
  stream.on('data', (chunk: Buffer) => ctx.res.write(chunk));
  stream.on('end', () => ctx.res.end());
  stream.on('error', () => ctx.res.end());
}

/**
 * POST /deploy?stream=1: NDJSON, one `{"log": line}` per build log line while it runs,
 * then `{"app": record}` or `{"error", "status", "details"}` as the last line.
 */
/** Aborts when the client goes away before its answer is complete (its build stops). */
function clientGone(res: http.ServerResponse): AbortSignal {
  const gone = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) gone.abort();
  });
  return gone.signal;
}

async function streamDeploy(apps: AppService, cmd: DeployCommand, res: http.ServerResponse): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-cache' });
  const send = (obj: unknown): void => {
    if (!res.writableEnded) res.write(`${JSON.stringify(obj)}\n`);
  };
  try {
    send({ app: await apps.deployFromRepo(cmd, (line) => send({ log: line }), clientGone(res)) });
  } catch (err) {
    const status = isMinPaasError(err) ? err.status : 500;
    const message = isMinPaasError(err) ? err.message : 'internal error; the server log has the details';
    send({ error: message, status, ...(isMinPaasError(err) && err.details ? { details: err.details } : {}) });
  }
  res.end();
}

/** The admin API: each route parses the request, calls the service, shapes the reply. */
export function apiRoutes(apps: AppService): Route[] {
  return [
    { method: 'GET', path: /^\/apps$/, handle: async ({ res }) => sendJson(res, 200, await apps.list()) },
    { method: 'POST', path: /^\/apps$/, handle: async ({ req, res }) => sendJson(res, 201, await apps.create(decodeCreateApp(await readJsonObject(req)))) },
    {
      method: 'PUT',
      path: new RegExp(`^/apps/${NAME}/builder$`),
      handle: async ({ req, res, params }) => sendJson(res, 200, await apps.setBuilder(decodeAppName(params[0]), decodeBuilder(await readJsonObject(req)))),
    },
    {
      method: 'POST',
      path: /^\/deploy$/,
      handle: async ({ req, res, query }) => {
        const cmd = decodeDeploy(await readJsonObject(req));
        if (['1', 'true'].includes(query.get('stream') ?? '')) return streamDeploy(apps, cmd, res);
        sendJson(res, 200, await apps.deployFromRepo(cmd, undefined, clientGone(res)));
      },
    },
    { method: 'GET', path: new RegExp(`^/apps/${NAME}$`), handle: async ({ res, params }) => sendJson(res, 200, await apps.get(decodeAppName(params[0]))) },
    {
      method: 'DELETE',
      path: new RegExp(`^/apps/${NAME}$`),
      handle: async ({ res, params }) => {
        await apps.destroy(decodeAppName(params[0]));
        sendJson(res, 200, { deleted: params[0] });
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}/logs$`),
      handle: async (ctx) => {
        const follow = ['1', 'true', 'yes'].includes(ctx.query.get('follow') ?? '');
        if (follow) return followLogs(apps, ctx);
        sendText(ctx.res, 200, await apps.logs(decodeAppName(ctx.params[0]), tailParam(ctx.query), processParam(ctx.query)));
      },
    },
    { method: 'GET', path: new RegExp(`^/apps/${NAME}/config$`), handle: async ({ res, params }) => sendJson(res, 200, apps.getConfig(decodeAppName(params[0]))) },
    {
      method: 'PATCH',
      path: new RegExp(`^/apps/${NAME}/config$`),
      handle: async ({ req, res, params }) => sendJson(res, 200, await apps.patchConfig(decodeAppName(params[0]), decodeConfigChanges(await readJson(req)))),
    },
    {
      method: 'PATCH',
      path: new RegExp(`^/apps/${NAME}/resources$`),
      handle: async ({ req, res, params }) => sendJson(res, 200, await apps.setResources(decodeAppName(params[0]), decodeLimits(await readJsonObject(req)))),
    },
    { method: 'GET', path: new RegExp(`^/apps/${NAME}/releases$`), handle: async ({ res, params }) => sendJson(res, 200, apps.releases(decodeAppName(params[0]))) },
    {
      method: 'POST',
      path: new RegExp(`^/apps/${NAME}/rollback$`),
      handle: async ({ req, res, params }) => {
        const body = await readJsonObject(req);
        sendJson(res, 200, await apps.rollback(decodeAppName(params[0]), decodeRollback(body), decodeRunReleasePhase(body)));
      },
    },
    { method: 'GET', path: new RegExp(`^/apps/${NAME}/deploys$`), handle: async ({ res, params }) => sendJson(res, 200, apps.deploys(decodeAppName(params[0]))) },
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}/deploys/([^/]+)/log$`),
      handle: async ({ res, params }) => sendText(res, 200, apps.deployLog(decodeAppName(params[0]), decodeDeployId(params[1]))),
    },
  ];
}
