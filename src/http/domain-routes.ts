import type { DomainService } from '../tls/domain-service.js';
import { MinPaasError, invalid } from '../errors.js';
import type { Route } from './api-routes.js';
import { decodeAppName } from './commands.js';
import { fieldsOf } from './api-guard.js';
import { readJsonObject, sendJson } from './respond.js';
import { AllDomainsSchema, AppDomainsSchema, CertBody, DomainSchema, HostBody, RedirectBody, RemovedHostSchema } from './schemas/domains.js';
import { jsonAnswer } from './schemas/route-doc.js';


const NAME = '([^/]+)';

function disabled(): never {
  throw new MinPaasError('INVALID_INPUT', 'domains need MINPAAS_DOMAIN to be set on the server (see README, "Domains and TLS")');
}

/** Domains and certificates (issue 11); answers 400 when host routing is off. */
export function domainRoutes(domains: DomainService | null): Route[] {
  const service = (): DomainService => domains ?? disabled();
  const list = (app: string): object => ({ app, httpsRedirect: service().httpsRedirect(app), domains: service().list(app) });
  return [
    {
      method: 'GET',
      path: /^\/domains$/,
      access: { need: 'owner' },
      handle: async ({ res }) => sendJson(res, 200, { domains: service().listAll() }),
      doc: { path: '/domains', summary: "Every host name the router serves, the control plane's included", responses: jsonAnswer('Hosts', AllDomainsSchema), errors: [400, 403] },
    },
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}/domains$`),
      access: { need: 'read' },
      handle: async ({ res, params }) => sendJson(res, 200, list(decodeAppName(params[0]))),
      doc: { path: '/apps/{name}/domains', summary: "The app's host names and certificate status", responses: jsonAnswer('Domains', AppDomainsSchema), errors: [400, 404] },
    },
    {
      method: 'POST',
      path: new RegExp(`^/apps/${NAME}/domains$`),
      access: { need: 'admin' },
      audit: { action: 'domains.add', detail: fieldsOf('host') },
      doc: { path: '/apps/{name}/domains', summary: 'Add a host name (a certificate is requested)', body: HostBody, responses: jsonAnswer('The domain', DomainSchema, 201), errors: [400, 404, 409] },
      handle: async ({ req, res, params }) => sendJson(res, 201, await service().add(decodeAppName(params[0]), (await readJsonObject(req)).host)),
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/apps/${NAME}/domains$`),
      access: { need: 'admin' },
      audit: { action: 'domains.remove', detail: fieldsOf('host') },
      doc: { path: '/apps/{name}/domains', summary: 'Remove a host name ({"host"})', body: HostBody, responses: jsonAnswer('Removed', RemovedHostSchema), errors: [400, 404] },
      handle: async ({ req, res, params }) => {
        const { host } = await readJsonObject(req);
        sendJson(res, 200, { removed: await service().remove(decodeAppName(params[0]), host) });
      },
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/apps/${NAME}/domains/${NAME}$`),
      access: { need: 'admin' },
      audit: { action: 'domains.remove', detail: (_b, params) => ({ host: params[1] }) },
      doc: { path: '/apps/{name}/domains/{host}', summary: 'Remove a host name', responses: jsonAnswer('Removed', RemovedHostSchema), errors: [400, 404] },
      handle: async ({ res, params }) => {
        sendJson(res, 200, { removed: await service().remove(decodeAppName(params[0]), params[1]) });
      },
    },
    {
      method: 'POST',
      path: new RegExp(`^/apps/${NAME}/certs$`),
      access: { need: 'admin' },
      // Never the key: the audit records only that a certificate was added.
      audit: { action: 'certs.add' },
      doc: { path: '/apps/{name}/certs', summary: 'Use your own certificate for the hosts it covers', body: CertBody, responses: jsonAnswer('The hosts it covers', DomainSchema, 201), errors: [400, 404] },
      handle: async ({ req, res, params }) => {
        const body = await readJsonObject(req);
        sendJson(res, 201, await service().addUserCertificate(decodeAppName(params[0]), body.cert, body.key));
      },
    },
    {
      method: 'PUT',
      path: new RegExp(`^/apps/${NAME}/https-redirect$`),
      access: { need: 'admin' },
      audit: { action: 'https-redirect', detail: fieldsOf('enabled') },
      doc: { path: '/apps/{name}/https-redirect', summary: 'Redirect HTTP to HTTPS once a host has a certificate (default on)', body: RedirectBody, responses: jsonAnswer('Domains', AppDomainsSchema), errors: [400, 404] },
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
