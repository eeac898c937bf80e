/**
 * The one catalogue of user-facing errors. Services throw these; only the HTTP and git
 * layers turn them into responses. Anything that is not a MinPaasError is internal:
 * logged with context and answered as a 500 without details.
 */
export const ErrorCodes = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  TOO_MANY_REQUESTS: 429,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  DEPLOY_IN_PROGRESS: 409,
  CONFLICT: 409,
  BUILD_FAILED: 422,
  CONTRACT_VIOLATED: 422,
  HEALTH_CHECK_FAILED: 422,
  CLONE_FAILED: 422,
  RELEASE_UNAVAILABLE: 409,
  RELEASE_FAILED: 422,
  METHOD_NOT_ALLOWED: 405,
  /** A Swarm app on an engine that is not a swarm manager. */
  SWARM_UNAVAILABLE: 409,
  /** MINPAAS_REGISTRY refused or did not answer a push. */
  REGISTRY_FAILED: 502,
  /** Anything that is not a MinPaasError: answered without internals, with the request id to find it in the log. */
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class MinPaasError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra lines a person needs to see (e.g. the tail of a build log). */
  readonly details?: string[];

  constructor(code: ErrorCode, message: string, details?: string[]) {
    super(message);
    this.name = 'MinPaasError';
    this.code = code;
    this.status = ErrorCodes[code];
    if (details !== undefined) this.details = details;
  }
}

export const invalid = (message: string): MinPaasError => new MinPaasError('INVALID_INPUT', message);
export const notFound = (message: string): MinPaasError => new MinPaasError('NOT_FOUND', message);

/** An internal failure as a person sees it: no internals, only where to look them up. */
export function internalError(reference: string): MinPaasError {
  return new MinPaasError('INTERNAL', `internal error; the server log has the details (${reference})`);
}

/**
 * The one error body of every route, streaming ones included:
 * `{"error", "code", "details"?, "requestId"?}` (requestId on 500s).
 */
export interface ErrorBody {
  error: string;
  code: ErrorCode;
  details?: string[];
  requestId?: string;
}

/** The body for anything thrown: a MinPaasError says what it is, anything else is INTERNAL. */
export function errorBody(err: unknown, requestId?: string): ErrorBody {
  const typed = isMinPaasError(err) ? err : internalError(requestId ? `request ${requestId}` : 'no request id');
  const body: ErrorBody = { error: typed.message, code: typed.code };
  if (typed.details?.length) body.details = typed.details;
  if (typed.status >= 500 && requestId) body.requestId = requestId;
  return body;
}

export function isMinPaasError(err: unknown): err is MinPaasError {
  return err instanceof MinPaasError;
}

/** A message for logs from anything thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
