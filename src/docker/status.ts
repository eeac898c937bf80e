/** Docker answers 404 for things that are not there; those are not errors for us. */
export function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}

/** Docker answers 304 for "already started/stopped". */
export function isNotModified(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 304;
}
