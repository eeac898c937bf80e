import { createRequire } from 'node:module';
import type { Metrics } from '../metrics/registry.js';
import type { Route } from './api-routes.js';
import { openApiDocument } from './openapi.js';
import type { OperatorEndpoints } from './operator-endpoints.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** The document is made once (the route table does not change while the server runs). */
export function operatorEndpoints(routes: Route[], metrics: Metrics, metricsToken: string | undefined): OperatorEndpoints {
  let document: Record<string, unknown> | undefined;
  return {
    openapi: () => (document ??= openApiDocument(routes, version)),
    metrics: { render: () => metrics.render(), contentType: metrics.contentType, token: metricsToken },
  };
}
