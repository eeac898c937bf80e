import type http from 'node:http';
import type { AppService } from '../apps/app-service.js';
import { invalid, isMinPaasError } from '../errors.js';
import { sendAppPage } from './app-list.js';
import { readJson, readJsonObject, sendJson, sendText } from './respond.js';

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
  const { stream, stop } = await apps.followLogs(ctx.params[0], tailParam(ctx.query));
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
async function streamDeploy(apps: AppService, body: Record<string, unknown>, res: http.ServerResponse): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-cache' });
  const send = (obj: unknown): void => {
    if (!res.writableEnded) res.write(`${JSON.stringify(obj)}\n`);
  };
  try {
    send({ app: await apps.deployFromRepo(body, (line) => send({ log: line })) });
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
    { method: 'GET', path: /^\/apps$/, handle: async ({ res, query }) => sendAppPage(res, query, apps) },
    { method: 'POST', path: /^\/apps$/, handle: async ({ req, res }) => sendJson(res, 201, await apps.create(await readJsonObject(req))) },
    {
      method: 'PUT',
      path: new RegExp(`^/apps/${NAME}/builder$`),
      handle: async ({ req, res, params }) => sendJson(res, 200, await apps.setBuilder(params[0], await readJsonObject(req))),
    },
    {
      method: 'POST',
      path: /^\/deploy$/,
      handle: async ({ req, res, query }) => {
        const body = await readJsonObject(req);
        if (['1', 'true'].includes(query.get('stream') ?? '')) return streamDeploy(apps, body, res);
        sendJson(res, 200, await apps.deployFromRepo(body));
      },
    },
    { method: 'GET', path: new RegExp(`^/apps/${NAME}$`), handle: async ({ res, params }) => sendJson(res, 200, await apps.get(params[0])) },
    {
      method: 'DELETE',
      path: new RegExp(`^/apps/${NAME}$`),
      handle: async ({ res, params }) => {
        await apps.destroy(params[0]);
        sendJson(res, 200, { deleted: params[0] });
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}/logs$`),
      handle: async (ctx) => {
        const follow = ['1', 'true', 'yes'].includes(ctx.query.get('follow') ?? '');
        if (follow) return followLogs(apps, ctx);
        sendText(ctx.res, 200, await apps.logs(ctx.params[0], tailParam(ctx.query)));
      },
    },
    { method: 'GET', path: new RegExp(`^/apps/${NAME}/config$`), handle: async ({ res, params }) => sendJson(res, 200, apps.getConfig(params[0])) },
    {
      method: 'PATCH',
      path: new RegExp(`^/apps/${NAME}/config$`),
      handle: async ({ req, res, params }) => sendJson(res, 200, await apps.patchConfig(params[0], await readJson(req))),
    },
    {
      method: 'PATCH',
      path: new RegExp(`^/apps/${NAME}/resources$`),
      handle: async ({ req, res, params }) => sendJson(res, 200, await apps.setResources(params[0], await readJsonObject(req))),
    },
    { method: 'GET', path: new RegExp(`^/apps/${NAME}/releases$`), handle: async ({ res, params }) => sendJson(res, 200, apps.releases(params[0])) },
    {
      method: 'POST',
      path: new RegExp(`^/apps/${NAME}/rollback$`),
      handle: async ({ req, res, params }) => sendJson(res, 200, await apps.rollback(params[0], await readJsonObject(req))),
    },
    { method: 'GET', path: new RegExp(`^/apps/${NAME}/deploys$`), handle: async ({ res, params }) => sendJson(res, 200, apps.deploys(params[0])) },
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}/deploys/([^/]+)/log$`),
      handle: async ({ res, params }) => sendText(res, 200, apps.deployLog(params[0], params[1])),
    },
  ];
}
