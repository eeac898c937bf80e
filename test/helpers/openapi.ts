import { z } from 'zod';
import type { Route } from '../../src/http/api-routes.js';

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>; components?: { schemas?: Record<string, unknown> } };

/** `#/components/schemas/X` → `#/$defs/X`, so a response schema can be checked on its own. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', '#/$defs/') : rewriteRefs(v)]),
  );
}

/** The document's own JSON schema of one answer (by OpenAPI path, method, status), as a zod validator. */
export function responseValidator(doc: Doc, path: string, method: string, status: number, contentType = 'application/json'): z.ZodType {
  const operation = doc.paths[path]?.[method.toLowerCase()];
  if (!operation) throw new Error(`the document has no ${method} ${path}`);
  const response = operation.responses[String(status)];
  if (!response) throw new Error(`the document has no ${status} answer for ${method} ${path}`);
  const schema = response.content?.[contentType]?.schema;
  if (!schema) throw new Error(`the document has no ${contentType} schema for ${status} of ${method} ${path}`);
  return z.fromJSONSchema(rewriteRefs({ $defs: doc.components?.schemas ?? {}, ...(schema as object) }) as never);
}

/** Throws with the paths that do not fit when `body` is not what the document says. */
export function assertMatchesDocument(doc: Doc, path: string, method: string, status: number, body: unknown): void {
  const result = responseValidator(doc, path, method, status).safeParse(body);
  if (!result.success) throw new Error(`${method} ${path} ${status} does not match the OpenAPI document: ${JSON.stringify(result.error.issues).slice(0, 800)}`);
}

/** A concrete URL path for an OpenAPI path: each `{param}` becomes a sample value. */
const sample = (path: string): string => path.replace(/\{forge\}/g, 'github').replace(/\{\w+\}/g, 'my-app');

/** The routes of a table that `document` does not describe under their method, at a path their regex matches. */
export function undocumented(routes: Route[], document: { paths: Record<string, Record<string, unknown>> }): string[] {
  return routes
    .filter((r) => !r.doc || !document.paths[r.doc.path]?.[r.method.toLowerCase()] || !r.path.test(sample(r.doc.path)))
    .map((r) => `${r.method} ${r.path.source}`);
}
