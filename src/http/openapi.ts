import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { Route } from './api-routes.js';
import { ErrorBodySchema } from './schemas/common.js';
import { WebhookReplySchema } from './schemas/forges.js';
import type { RouteDoc } from './schemas/route-doc.js';
import { z } from './schemas/zod.js';

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input (INVALID_INPUT)',
  401: 'Missing or wrong token (UNAUTHORIZED)',
  404: 'No such app, release or deploy (NOT_FOUND)',
  405: 'Method not allowed on this path (METHOD_NOT_ALLOWED)',
  409: 'Conflicts with the current state, e.g. a deploy is running (CONFLICT, DEPLOY_IN_PROGRESS, RELEASE_UNAVAILABLE)',
  413: 'Body too large (PAYLOAD_TOO_LARGE)',
  422: 'The deploy failed: build, contract, health check or clone (BUILD_FAILED, CONTRACT_VIOLATED, HEALTH_CHECK_FAILED, CLONE_FAILED)',
  500: 'Internal error (INTERNAL): no internals, a requestId to find it in the server log',
};

/** Endpoints that are not in a route table: served by the HTTP server itself or by the webhook endpoints. */
export const SERVER_ENDPOINTS: { method: string; doc: RouteDoc }[] = [
  {
    method: 'POST',
    doc: {
      path: '/hooks/{forge}/{name}',
      summary: "A GitHub or GitLab webhook delivery (authenticated by the forge's signature, not the token)",
      public: true,
      body: z.looseObject({}).openapi({ description: "The forge's own event payload" }),
      responses: { 200: { description: 'Handled (ping, duplicate)', schema: WebhookReplySchema }, 202: { description: 'Accepted: deploying, skipped, ignored or refused', schema: WebhookReplySchema } },
      errors: [400, 401, 404, 413],
    },
  },
  { method: 'GET', doc: { path: '/healthz', summary: 'Liveness of the control plane', public: true, responses: { 200: { description: 'Up', schema: z.object({ ok: z.literal(true) }) } }, errors: [] } },
  { method: 'GET', doc: { path: '/openapi.json', summary: 'This document (no token needed)', public: true, responses: { 200: { description: 'OpenAPI 3.1', schema: z.looseObject({ openapi: z.string() }) } }, errors: [] } },
  {
    method: 'GET',
    doc: {
      path: '/metrics',
      summary: 'Prometheus metrics (the admin token, or MINPAAS_METRICS_TOKEN when set)',
      responses: { 200: { description: 'Prometheus text exposition format 0.0.4', contentType: 'text/plain' } },
      errors: [],
    },
  },
];

function paramsOf(path: string): z.ZodObject | undefined {
  const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  if (names.length === 0) return undefined;
  return z.object(Object.fromEntries(names.map((n) => [n, z.string()])));
}

function register(registry: OpenAPIRegistry, method: string, doc: RouteDoc): void {
  const responses: Record<string, { description: string; content?: Record<string, { schema: z.ZodType }> }> = {};
  for (const [status, r] of Object.entries(doc.responses)) {
    responses[status] = { description: r.description, content: { [r.contentType ?? 'application/json']: { schema: r.schema ?? z.string() } } };
  }
  const errors = new Set([...doc.errors, ...(doc.public ? [] : [401]), 500]);
  for (const status of [...errors].sort()) {
    responses[String(status)] = { description: ERROR_TEXT[status] ?? 'Error', content: { 'application/json': { schema: ErrorBodySchema } } };
  }
  const params = paramsOf(doc.path);
  registry.registerPath({
    method: method.toLowerCase() as 'get',
    path: doc.path,
    summary: doc.summary,
    ...(doc.public ? { security: [] } : {}),
    request: {
      ...(params ? { params } : {}),
      ...(doc.query ? { query: doc.query } : {}),
      ...(doc.body ? { body: { required: true, content: { 'application/json': { schema: doc.body } } } } : {}),
    },
    responses,
  });
}

/** OpenAPI 3.1 for the JSON API, from the same zod schemas the routes validate with. */
export function openApiDocument(routes: Route[], version: string): Record<string, unknown> {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'The admin token (<data>/token or MINPAAS_TOKEN)' });
  for (const route of routes) if (route.doc) register(registry, route.method, route.doc);
  for (const endpoint of SERVER_ENDPOINTS) register(registry, endpoint.method, endpoint.doc);
  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'MinPaas API',
      version,
      description: 'The admin API of MinPaas. Every error answer is {"error", "code", "details"?, "requestId"?}; every answer carries X-Request-Id.',
    },
    security: [{ bearer: [] }],
  });
  return document as unknown as Record<string, unknown>;
}
