import type { PreviewService } from '../apps/previews.js';
import { assertAppName } from '../domain/names.js';
import { notFound } from '../errors.js';
import type { ConnectionService } from '../forges/connections.js';
import type { Store } from '../store/store.js';
import type { Route } from './api-routes.js';
import { fieldsOf } from './api-guard.js';
import { sendJson } from './respond.js';
import { ConnectForgeBody, ConnectionSchema, DisconnectedSchema, PreviewsSchema } from './schemas/forges.js';
import { z } from './schemas/zod.js';

const NAME = '([^/]+)';

/** Connections to GitHub/GitLab and preview apps (bearer token, like the rest of the API). */
export function forgeRoutes(connections: ConnectionService, previews: PreviewService, store: Store, appUrl: (app: string) => string | null): Route[] {
  return [
    {
      method: 'PUT',
      path: new RegExp(`^/apps/${NAME}/forge$`),
      access: { need: 'admin' },
      audit: { action: 'forge.connect', detail: fieldsOf('forge', 'branch') },
      handle: async ({ res, params, body }) => sendJson(res, 201, connections.connect(params[0], body as Record<string, unknown>)),
      doc: {
        path: '/apps/{name}/forge',
        summary: 'Connect the app to a GitHub or GitLab repo (the answer carries the webhook secret, once)',
        body: ConnectForgeBody,
        responses: { 201: { description: 'The connection and the webhook to set up', schema: ConnectionSchema } },
        errors: [400, 404, 409, 413],
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}/forge$`),
      access: { need: 'admin' },
      handle: async ({ res, params }) => sendJson(res, 200, connections.get(params[0])),
      doc: { path: '/apps/{name}/forge', summary: "The app's forge connection", responses: { 200: { description: 'The connection', schema: ConnectionSchema } }, errors: [400, 404] },
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/apps/${NAME}/forge$`),
      access: { need: 'admin' },
      audit: { action: 'forge.disconnect' },
      handle: async ({ res, params, query }) => sendJson(res, 200, connections.disconnect(params[0], query.get('forge'))),
      doc: {
        path: '/apps/{name}/forge',
        summary: 'Disconnect the app from its forge',
        query: z.object({ forge: z.string().optional().openapi({ description: 'github or gitlab' }) }),
        responses: { 200: { description: 'Disconnected', schema: DisconnectedSchema } },
        errors: [400, 404],
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}/previews$`),
      access: { need: 'read' },
      handle: async ({ res, params }) => {
        const parent = assertAppName(params[0]);
        if (!store.getApp(parent)) throw notFound(`no app named ${parent}`);
        const live = previews.list(parent).map((p) => ({ ...p, url: appUrl(p.app) }));
        const skipped = store.forges.listPreviewRefusals(parent).map((d) => ({ pr: d.pr, outcome: d.outcome, reason: d.reason, receivedAt: d.receivedAt }));
        sendJson(res, 200, { previews: live, skipped });
      },
      doc: { path: '/apps/{name}/previews', summary: "The app's preview apps and the pull requests that got none", responses: { 200: { description: 'Previews', schema: PreviewsSchema } }, errors: [400, 404] },
    },
  ];
}
