import { z } from 'zod';

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
