import type { DomainService } from '../tls/domain-service.js';
import { MinPaasError, invalid } from '../errors.js';
import type { Route } from './api-routes.js';
import { decodeAppName } from './commands.js';
import { readJsonObject, sendJson } from './respond.js';

const NAME = '([^/]+)';

function disabled(): never {
  throw new MinPaasError('INVALID_INPUT', 'domains need MINPAAS_DOMAIN to be set on the server (see README, "Domains and TLS")');
}

/** Domains and certificates (issue 11); answers 400 when host routing is off. */
export function domainRoutes(domains: DomainService | null): Route[] {
  const service = (): DomainService => domains ?? disabled();
  const list = (app: string): object => ({ app, httpsRedirect: service().httpsRedirect(app), domains: service().list(app) });
  return [
    { method: 'GET', path: /^\/domains$/, handle: async ({ res }) => sendJson(res, 200, { domains: service().listAll() }) },
    { method: 'GET', path: new RegExp(`^/apps/${NAME}/domains$`), handle: async ({ res, params }) => sendJson(res, 200, list(decodeAppName(params[0]))) },
    {
      method: 'POST',
      path: new RegExp(`^/apps/${NAME}/domains$`),
      handle: async ({ req, res, params }) => sendJson(res, 201, await service().add(decodeAppName(params[0]), (await readJsonObject(req)).host)),
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/apps/${NAME}/domains$`),
      handle: async ({ req, res, params }) => {
        const { host } = await readJsonObject(req);
        sendJson(res, 200, { removed: await service().remove(decodeAppName(params[0]), host) });
      },
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/apps/${NAME}/domains/${NAME}$`),
      handle: async ({ res, params }) => {
        sendJson(res, 200, { removed: await service().remove(decodeAppName(params[0]), params[1]) });
      },
    },
    {
      method: 'POST',
      path: new RegExp(`^/apps/${NAME}/certs$`),
      handle: async ({ req, res, params }) => {
        const body = await readJsonObject(req);
        sendJson(res, 201, await service().addUserCertificate(decodeAppName(params[0]), body.cert, body.key));
      },
    },
    {
      method: 'PUT',
      path: new RegExp(`^/apps/${NAME}/https-redirect$`),
      handle: async ({ req, res, params }) => {
        const { enabled } = await readJsonObject(req);
        if (typeof enabled !== 'boolean') throw invalid('send {"enabled": true} or {"enabled": false}');
        const app = decodeAppName(params[0]);
        await service().setHttpsRedirect(app, enabled);
        sendJson(res, 200, list(app));
      },
    },
  ];
}
