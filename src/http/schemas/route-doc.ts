import { MinPaasError } from '../../errors.js';
import type { z } from './zod.js';

/** One answer of a route: JSON with a schema, or text / NDJSON described in words. */
export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  /** Default application/json. */
  contentType?: 'application/json' | 'text/plain' | 'application/x-ndjson';
}

/**
 * What a route takes and answers, for the OpenAPI document and for validation: `body` is
 * checked at the route layer before the handler (so before the service) runs.
 */
export interface RouteDoc {
  /** The OpenAPI path, e.g. `/apps/{name}`; its `{params}` are the route's regex groups, in order. */
  path: string;
  summary: string;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, ResponseDoc>;
  /** Error statuses this route answers (each with the Error schema); 401 and 500 are added to all. */
  errors: number[];
  /** Not behind the bearer token (webhooks, health, this document). */
  public?: boolean;
}

/** A route's one JSON answer: `status` (default 200) with its description and schema. */
export function jsonAnswer(description: string, schema: z.ZodType, status = 200): Record<number, ResponseDoc> {
  return { [status]: { description, schema } };
}

/** `"a": … must be …` lines from zod's issues; a body that is not an object says so. */
function issueLines(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    if (issue.path.length === 0 && issue.code === 'invalid_type') return 'request body must be a JSON object';
    // Zod's own wording ("Invalid input: …") does not say where: name the field.
    return /^Invalid/.test(issue.message) && issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
  });
}

/** The body as the schema has it, or a 400 INVALID_INPUT naming every field that is wrong. */
export function validateBody<T>(schema: z.ZodType<T>, raw: unknown): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const lines = [...new Set(issueLines(result.error))];
  throw new MinPaasError('INVALID_INPUT', lines.join('; '), lines.length > 1 ? lines : undefined);
}
