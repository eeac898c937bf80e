import { describe, expect, it } from 'vitest';
import type { AppService } from '../../src/apps/app-service.js';
import type { PreviewService } from '../../src/apps/previews.js';
import type { ConnectionService } from '../../src/forges/connections.js';
import { apiRoutes, type Route } from '../../src/http/api-routes.js';
import { forgeRoutes } from '../../src/http/forge-routes.js';
import { openApiDocument, SERVER_ENDPOINTS } from '../../src/http/openapi.js';
import { CreateAppBody, DeployBody, ResourcesBody } from '../../src/http/schemas/apps.js';
import { validateBody } from '../../src/http/schemas/route-doc.js';
import type { Store } from '../../src/store/store.js';
import { assertMatchesDocument, undocumented } from '../helpers/openapi.js';

// The route tables as the server builds them; their handlers are never called here.
const table: Route[] = [...apiRoutes({} as AppService), ...forgeRoutes({} as ConnectionService, {} as PreviewService, {} as Store, () => null)];
const doc = openApiDocument(table, '0.0.0-test') as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };


describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and describes every route of the route table', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(table.length).toBeGreaterThanOrEqual(18);
    expect(undocumented(table, doc)).toEqual([]);
  });

  it('fails on a route the document misses (the check can fail)', () => {
    const extra: Route = { method: 'POST', path: /^\/apps\/([^/]+)\/restart$/, access: { need: 'admin' }, handle: async () => undefined };
    expect(undocumented([...table, extra], doc)).toEqual(['POST ^\\/apps\\/([^/]+)\\/restart$']);
    const wrongPath: Route = { ...table[0]!, doc: { ...table[0]!.doc!, path: '/app' } };
    expect(undocumented([wrongPath], doc)).toHaveLength(1);
  });

  it('describes the webhook endpoints, /healthz, /metrics and itself, and an Error schema for every error', () => {
    for (const e of SERVER_ENDPOINTS) expect(doc.paths[e.doc.path]?.[e.method.toLowerCase()], e.doc.path).toBeDefined();
    expect(doc.paths['/hooks/{forge}/{name}']?.post).toBeDefined();
    const create = doc.paths['/apps']!.post as { responses: Record<string, unknown>; requestBody: unknown };
    expect(Object.keys(create.responses).sort()).toEqual(['201', '400', '401', '409', '413', '500']);
    expect(create.requestBody).toBeDefined();
    expect(doc.components.schemas.Error).toBeDefined();
    assertMatchesDocument(doc as never, '/apps', 'POST', 409, { error: 'an app named x exists already', code: 'CONFLICT' });
    expect(() => assertMatchesDocument(doc as never, '/apps', 'POST', 409, { error: 'x', code: 'NOPE' })).toThrow(/does not match/);
    expect(() => assertMatchesDocument(doc as never, '/apps/{name}', 'GET', 200, { name: 'x' })).toThrow(/does not match/);
  });
});

describe('request body validation (the same schemas)', () => {
  it('passes a valid body through', () => {
    expect(validateBody(CreateAppBody, { name: 'x', runtime: 'node' })).toEqual({ name: 'x', runtime: 'node' });
    expect(validateBody(ResourcesBody, { memory: '1g', disk: '2g' })).toEqual({ memory: '1g', disk: '2g' });
  });

  it('refuses wrong shapes with a 400 naming the field', () => {
    const attempt = (schema: Parameters<typeof validateBody>[0], body: unknown): { code?: string; message?: string; status?: number } => {
      try {
        validateBody(schema, body);
        return {};
      } catch (err) {
        return err as never;
      }
    };
    expect(attempt(CreateAppBody, [1])).toMatchObject({ code: 'INVALID_INPUT', status: 400, message: 'request body must be a JSON object' });
    expect(attempt(CreateAppBody, undefined).message).toBe('request body must be a JSON object');
    expect(attempt(CreateAppBody, { name: 12 }).message).toMatch(/invalid app name/);
    expect(attempt(CreateAppBody, { name: 'x', runtime: 'ruby' }).message).toMatch(/runtime must be "node" or "python"/);
    expect(attempt(DeployBody, { app: 'x', repo: 5, env: { A: 1 } }).message).toMatch(/repo must be .*; env must be an object of string values/);
    expect(attempt(ResourcesBody, { cpus: true }).message).toMatch(/cpus must be/);
  });
});
