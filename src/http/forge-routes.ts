import type { PreviewService } from '../apps/previews.js';
import { assertAppName } from '../domain/names.js';
import { notFound } from '../errors.js';
import type { ConnectionService } from '../forges/connections.js';
import type { Store } from '../store/store.js';
import type { Route } from './api-routes.js';
import { fieldsOf } from './api-guard.js';
import { readJsonObject, sendJson } from './respond.js';

const NAME = '([^/]+)';

/** Connections to GitHub/GitLab and preview apps (bearer token, like the rest of the API). */
export function forgeRoutes(connections: ConnectionService, previews: PreviewService, store: Store, appUrl: (app: string) => string | null): Route[] {
  return [
    {
      method: 'PUT',
      path: new RegExp(`^/apps/${NAME}/forge$`),
      access: { need: 'admin' },
      audit: { action: 'forge.connect', detail: fieldsOf('forge', 'branch') },
      handle: async ({ req, res, params }) => sendJson(res, 201, connections.connect(params[0], await readJsonObject(req))),
    },
    { method: 'GET', path: new RegExp(`^/apps/${NAME}/forge$`), access: { need: 'admin' }, handle: async ({ res, params }) => sendJson(res, 200, connections.get(params[0])) },
    {
      method: 'DELETE',
      path: new RegExp(`^/apps/${NAME}/forge$`),
      access: { need: 'admin' },
      audit: { action: 'forge.disconnect' },
      handle: async ({ res, params, query }) => sendJson(res, 200, connections.disconnect(params[0], query.get('forge'))),
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
    },
  ];
}
