import type { NodeService } from '../apps/node-service.js';
import type { Route } from './api-routes.js';
import { sendJson } from './respond.js';
import { NodeListSchema, NodeSchema } from './schemas/nodes.js';
import { jsonAnswer } from './schemas/route-doc.js';

const NODE = '([^/]+)';

/** The swarm's nodes (issue 14): listing them, draining one and bringing it back. */
export function nodeRoutes(nodes: NodeService): Route[] {
  const change = (verb: 'drain' | 'activate', summary: string): Route => ({
    method: 'POST',
    path: new RegExp(`^/nodes/${NODE}/${verb}$`),
    access: { need: 'owner' },
    audit: { action: `node.${verb}`, detail: (_body, params) => ({ node: params[0] ?? null }) },
    handle: async ({ res, params }) => sendJson(res, 200, await nodes[verb](params[0]!)),
    doc: { path: `/nodes/{node}/${verb}`, summary, responses: jsonAnswer('The node after', NodeSchema), errors: [400, 404, 409] },
  });
  return [
    {
      method: 'GET',
      path: /^\/nodes$/,
      access: { need: 'owner' },
      handle: async ({ res }) => sendJson(res, 200, await nodes.list()),
      doc: { path: '/nodes', summary: "The swarm's nodes: role, availability, state, running tasks", responses: jsonAnswer('Nodes', NodeListSchema), errors: [409] },
    },
    change('drain', "Move this installation's tasks off the node (rolling, start-first), then drain it"),
    change('activate', 'Make a drained node take tasks again'),
  ];
}
