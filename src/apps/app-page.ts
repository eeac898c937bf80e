import type { AppRow } from '../domain/types.js';

/** `GET /apps?limit=N&after=NAME`: apps are ordered by name; `after` is the last name of the previous page. */
export interface AppPage {
  limit?: number;
  after?: string;
}

export const MAX_PAGE_LIMIT = 1000;

/** The apps of one page (all of them without a limit). `apps` is sorted by name. */
export function pageOf<T extends Pick<AppRow, 'name'>>(apps: readonly T[], page: AppPage): T[] {
  const after = page.after;
  const start = after === undefined ? 0 : apps.findIndex((a) => a.name > after);
  if (start < 0) return [];
  return page.limit === undefined ? apps.slice(start) : apps.slice(start, start + page.limit);
}
