import { z } from './zod.js';

/** Host names, certificates and the HTTPS redirect (issue 11's routes). */

export const DomainSchema = z
  .looseObject({ host: z.string(), app: z.string().nullable().optional(), kind: z.string().optional(), certificate: z.unknown().optional() })
  .openapi('Domain', { description: "A host name and its certificate's status (pending, issued with expiry, failed with the ACME error and next retry)" });

export const AppDomainsSchema = z.looseObject({ app: z.string(), httpsRedirect: z.boolean(), domains: z.array(DomainSchema) }).openapi('AppDomains');
export const AllDomainsSchema = z.looseObject({ domains: z.array(DomainSchema) }).openapi('AllDomains');
export const HostBody = z.object({ host: z.string({ error: 'send {"host": "www.example.com"}' }) }).openapi('Host');
export const RemovedHostSchema = z.looseObject({ removed: z.unknown() }).openapi('RemovedHost');
export const CertBody = z
  .object({ cert: z.string({ error: 'send {"cert": PEM chain, "key": PEM key}' }), key: z.string({ error: 'send {"cert": PEM chain, "key": PEM key}' }) })
  .openapi('UserCertificate', { description: 'A PEM certificate chain (leaf first) and its private key; the key is stored owner-only and never shown again' });
export const RedirectBody = z.object({ enabled: z.boolean({ error: 'send {"enabled": true} or {"enabled": false}' }) }).openapi('HttpsRedirect');
