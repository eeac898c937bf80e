import type http from 'node:http';
import type { AppService } from '../apps/app-service.js';
import type { RouteAccess, Viewer } from '../auth/access.js';
import type { AppRecord } from '../domain/types.js';
import { invalid } from '../errors.js';
import { configKeys, fieldsOf, noteStreamedOutcome, type AuditSpec } from './api-guard.js';
import { sendAppPage } from './app-list.js';
import { JsonElements } from './json-array.js';
import {
  decodeAppName,
  decodeBuilder,
  decodeConfigChanges,
  decodeCreateApp,
  decodeDeploy,
  decodeScheduler,
  decodeDeployId,
  decodeLimits,
  decodeRollback,
  type DeployCommand,
} from './commands.js';
import { clientGone, ndjsonStream, sendJson, sendText } from './respond.js';
import { AppListQuery, AppRecordSchema, ConfigPatchBody, ConfigPatchResult, CreateAppBody, DeletedSchema, DeployBody, DeploySchema, ReleaseSchema, ResourcesBody, RollbackBody, SetBuilderBody, SetSchedulerBody } from './schemas/apps.js';
import { EnvVarsSchema } from './schemas/common.js';
import { jsonAnswer, type RouteDoc } from './schemas/route-doc.js';
import { z } from './schemas/zod.js';

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
  /** The JSON body, already checked against the route's `doc.body` schema (undefined without one). */
  body: unknown;
  /** The caller: what they may see (apps, config values). */
  viewer: Viewer;
}

export interface Route {
  method: string;
  path: RegExp;
  handle: (ctx: RouteContext) => Promise<void>;
  /** Who may call it (every route declares it: the role-matrix test walks this table). */
  access: RouteAccess;
  /** Changes name their audit-log action. */
  audit?: AuditSpec;
  /** The route's request and answers: validates its body and makes its part of /openapi.json. */
  doc?: RouteDoc;
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
 * then `{"app": record}` or the error body every route answers plus `status` as the last line.
 */
async function streamDeploy(apps: AppService, cmd: DeployCommand, res: http.ServerResponse): Promise<void> {
  const { send, fail } = ndjsonStream(res);
  try {
    send({ app: await apps.deployFromRepo(cmd, (line) => send({ log: line }), clientGone(res)) });
  } catch (err) {
    noteStreamedOutcome(res, fail(err));
  }
  res.end();
}

const text = (description: string) => ({ 200: { description, contentType: 'text/plain' as const } });
const DeployStreamLine = z
  .union([z.object({ log: z.string() }), z.object({ app: AppRecordSchema }), z.looseObject({ error: z.string(), code: z.string(), status: z.number().int() })])
  .openapi('DeployStreamLine', { description: 'With ?stream=1: one JSON object per line: {"log"} while it builds, then {"app"} or the Error object plus "status".' });

/** The admin API: each route parses the request, calls the service, shapes the reply. */
export function apiRoutes(apps: AppService): Route[] {
  const obj = (body: unknown): Record<string, unknown> => (body ?? {}) as Record<string, unknown>;
  // What the caller may see of a record: only visible apps, config values masked for `read`.
  // (Records are made per request: one the caller sees whole is sent as it is, not copied.)
  const shown = (viewer: Viewer, records: AppRecord[]): AppRecord[] =>
    records.filter((a) => viewer.sees(a.name)).map((a) => (viewer.seesConfigValues(a.name) ? a : { ...a, env: viewer.config(a.name, a.env) }));
  const listed = new JsonElements((record) => (record as AppRecord).name);
  return [
    {
      method: 'GET',
      path: /^\/apps$/,
      access: { need: 'user' },
      handle: async ({ res, query, viewer }) => sendAppPage(res, query, apps, (records) => shown(viewer, records), listed),
      doc: { path: '/apps', summary: 'List apps (all, or one page with ?limit=&after=)', query: AppListQuery, responses: jsonAnswer('Apps ordered by name', z.array(AppRecordSchema)), errors: [400] },
    },
    {
      method: 'POST',
      path: /^\/apps$/,
      access: { need: 'owner' },
      audit: { action: 'app.create', detail: fieldsOf('name') },
      handle: async ({ res, body }) => sendJson(res, 201, await apps.create(decodeCreateApp(obj(body)))),
      doc: { path: '/apps', summary: 'Create an app before its first deploy', body: CreateAppBody, responses: { 201: { description: 'The new app', schema: AppRecordSchema } }, errors: [400, 409, 413] },
    },
    {
      method: 'PUT',
      path: new RegExp(`^/apps/${NAME}/builder$`),
      access: { need: 'admin' },
      audit: { action: 'app.builder', detail: fieldsOf('builder') },
      handle: async ({ res, params, body }) => sendJson(res, 200, await apps.setBuilder(decodeAppName(params[0]), decodeBuilder(obj(body)))),
      doc: { path: '/apps/{name}/builder', summary: "Choose how the app's next build is made", body: SetBuilderBody, responses: jsonAnswer('The app', AppRecordSchema), errors: [400, 404, 409] },
    },
    {
      method: 'PUT',
      path: new RegExp(`^/apps/${NAME}/scheduler$`),
      access: { need: 'admin' },
      audit: { action: 'app.scheduler', detail: fieldsOf('scheduler') },
      handle: async ({ res, params, body }) => sendJson(res, 200, await apps.setScheduler(decodeAppName(params[0]), decodeScheduler(obj(body).scheduler))),
      doc: {
        path: '/apps/{name}/scheduler',
        summary: 'Run the app on this engine (docker-local) or on the Docker Swarm; a running app moves with a deploy and no failed request',
        body: SetSchedulerBody,
        responses: jsonAnswer('The app', AppRecordSchema),
        errors: [400, 404, 409, 422],
      },
    },
    {
      method: 'POST',
      path: /^\/deploy$/,
      access: { need: 'deploy', app: 'body' },
      audit: { action: 'deploy', detail: fieldsOf('branch') },
      handle: async ({ res, query, body }) => {
        const cmd = decodeDeploy(obj(body));
        if (['1', 'true'].includes(query.get('stream') ?? '')) return streamDeploy(apps, cmd, res);
        sendJson(res, 200, await apps.deployFromRepo(cmd, undefined, clientGone(res)));
      },
      doc: {
        path: '/deploy',
        summary: 'Clone a repo and deploy it (creates the app); ?stream=1 streams the build as NDJSON',
        query: z.object({ stream: z.string().optional().openapi({ description: '1 or true: stream NDJSON' }) }),
        body: DeployBody,
        responses: { 200: { description: 'The deployed app (or, with ?stream=1, NDJSON lines of DeployStreamLine)', schema: z.union([AppRecordSchema, DeployStreamLine]) } },
        errors: [400, 409, 413, 422],
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}$`),
      access: { need: 'read' },
      handle: async ({ res, params, viewer }) => {
        const app = await apps.get(decodeAppName(params[0]));
        sendJson(res, 200, { ...app, env: viewer.config(app.name, app.env) });
      },
      doc: { path: '/apps/{name}', summary: 'One app', responses: jsonAnswer('The app', AppRecordSchema), errors: [400, 404] },
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/apps/${NAME}$`),
      access: { need: 'admin' },
      audit: { action: 'app.delete' },
      handle: async ({ res, params }) => {
        await apps.destroy(decodeAppName(params[0]));
        sendJson(res, 200, { deleted: params[0] });
      },
      doc: { path: '/apps/{name}', summary: 'Delete an app: containers, route, images, repo, records', responses: jsonAnswer('Deleted', DeletedSchema), errors: [400, 404, 409] },
    },
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}/logs$`),
      access: { need: 'read' },
      handle: async (ctx) => {
        const follow = ['1', 'true', 'yes'].includes(ctx.query.get('follow') ?? '');
        if (follow) return followLogs(apps, ctx);
        sendText(ctx.res, 200, await apps.logs(decodeAppName(ctx.params[0]), tailParam(ctx.query), processParam(ctx.query)));
      },
      doc: {
        path: '/apps/{name}/logs',
        summary: "The app's container logs; ?follow=1 streams them until the client leaves",
        query: z.object({ tail: z.string().optional().openapi({ description: 'Lines, 0–10000 (default 100)' }), follow: z.string().optional().openapi({ description: '1, true or yes: stream' }) }),
        responses: text('Log lines'),
        errors: [400, 404, 409],
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}/config$`),
      access: { need: 'read' },
      handle: async ({ res, params, viewer }) => {
        const name = decodeAppName(params[0]);
        sendJson(res, 200, viewer.config(name, apps.getConfig(name)));
      },
      doc: { path: '/apps/{name}/config', summary: "The app's config vars", responses: jsonAnswer('Config vars', EnvVarsSchema), errors: [400, 404] },
    },
    {
      method: 'PATCH',
      path: new RegExp(`^/apps/${NAME}/config$`),
      access: { need: 'admin' },
      audit: { action: 'config.set', detail: configKeys },
      handle: async ({ res, params, body }) => sendJson(res, 200, await apps.patchConfig(decodeAppName(params[0]), decodeConfigChanges(body))),
      doc: { path: '/apps/{name}/config', summary: 'Set and unset config vars (a new release when the app runs)', body: ConfigPatchBody, responses: jsonAnswer('The config and the new release', ConfigPatchResult), errors: [400, 404, 409, 413, 422] },
    },
    {
      method: 'PATCH',
      path: new RegExp(`^/apps/${NAME}/resources$`),
      access: { need: 'admin' },
      audit: { action: 'resources.set', detail: fieldsOf('memory', 'cpus') },
      handle: async ({ res, params, body }) => sendJson(res, 200, await apps.setResources(decodeAppName(params[0]), decodeLimits(obj(body)))),
      doc: { path: '/apps/{name}/resources', summary: 'Change memory and CPU limits in place', body: ResourcesBody, responses: jsonAnswer('The app', AppRecordSchema), errors: [400, 404, 409] },
    },
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}/releases$`),
      access: { need: 'read' },
      handle: async ({ res, params, viewer }) => {
        const name = decodeAppName(params[0]);
        sendJson(res, 200, apps.releases(name).map((r) => ({ ...r, env: viewer.config(name, r.env) })));
      },
      doc: { path: '/apps/{name}/releases', summary: 'Releases, newest first', responses: jsonAnswer('Releases', z.array(ReleaseSchema)), errors: [400, 404] },
    },
    {
      method: 'POST',
      path: new RegExp(`^/apps/${NAME}/rollback$`),
      access: { need: 'deploy' },
      audit: { action: 'rollback', detail: fieldsOf('release') },
      handle: async ({ res, params, body }) => sendJson(res, 200, await apps.rollback(decodeAppName(params[0]), decodeRollback(obj(body)), decodeRunReleasePhase(obj(body)))),
      doc: { path: '/apps/{name}/rollback', summary: "A new release with release N's image and config", body: RollbackBody, responses: jsonAnswer('The app', AppRecordSchema), errors: [400, 404, 409, 422] },
    },
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}/deploys$`),
      access: { need: 'read' },
      handle: async ({ res, params }) => sendJson(res, 200, apps.deploys(decodeAppName(params[0]))),
      doc: { path: '/apps/{name}/deploys', summary: 'Deploys, newest first', responses: jsonAnswer('Deploys', z.array(DeploySchema)), errors: [400, 404] },
    },
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}/deploys/([^/]+)/log$`),
      access: { need: 'read' },
      handle: async ({ res, params }) => sendText(res, 200, apps.deployLog(decodeAppName(params[0]), decodeDeployId(params[1]))),
      doc: { path: '/apps/{name}/deploys/{id}/log', summary: "One deploy's build log", responses: text('The log'), errors: [400, 404] },
    },
  ];
}
