import type http from 'node:http';
import { bearerToken, tokenMatches } from '../auth/token.js';
import { MinPaasError } from '../errors.js';
import { sendJson } from './respond.js';

/** /openapi.json (public: it describes the API, it holds no data) and /metrics (a token). */
export interface OperatorEndpoints {
  openapi: () => Record<string, unknown>;
  metrics: { render: () => Promise<string>; contentType: string; token?: string | undefined };
}

/**
 * Answers GET /openapi.json and GET /metrics; false for any other request. /metrics takes
 * the admin token or, when set, MINPAAS_METRICS_TOKEN (which opens nothing else).
 */
export async function handleOperatorEndpoint(
  endpoints: OperatorEndpoints | undefined,
  adminToken: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  path: string,
): Promise<boolean> {
  if (!endpoints || req.method !== 'GET') return false;
  if (path === '/openapi.json') {
    sendJson(res, 200, endpoints.openapi());
    return true;
  }
  if (path !== '/metrics') return false;
  const given = bearerToken(req.headers.authorization);
  const metricsToken = endpoints.metrics.token;
  if (!tokenMatches(given, adminToken) && !(metricsToken && tokenMatches(given, metricsToken))) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="MinPaas metrics"');
    throw new MinPaasError('UNAUTHORIZED', 'missing or wrong token: /metrics takes the admin token or MINPAAS_METRICS_TOKEN as Authorization: Bearer <token>');
  }
  const text = await endpoints.metrics.render();
  res.writeHead(200, { 'Content-Type': endpoints.metrics.contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
  return true;
}
