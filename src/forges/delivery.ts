import { assertBranch } from '../domain/repo-url.js';
import type { ForgeName } from './events.js';

/** Small pieces of a delivery's handling: headers, ids, the answer's deadline. */

export type Headers = Record<string, string | string[] | undefined>;

export const header = (h: Headers, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * GitHub: `X-GitHub-Delivery` (kept by redeliveries). GitLab: `Idempotency-Key` (GitLab
 * 17.4+, kept by retries), else `X-Gitlab-Event-UUID`.
 */
export function deliveryIdOf(forge: ForgeName, headers: Headers): string | null {
  if (forge === 'github') return header(headers, 'x-github-delivery') ?? null;
  return header(headers, 'idempotency-key') ?? header(headers, 'x-gitlab-event-uuid') ?? null;
}

/** Forges give up on a delivery after about 10 s; the answer never waits longer than this. */
export const ANSWER_DEADLINE_MS = 5000;

export function withDeadline<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export function isBranchName(name: string): boolean {
  try {
    assertBranch(name);
    return true;
  } catch {
    return false;
  }
}

