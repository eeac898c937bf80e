import type http from 'node:http';
import { MAX_PAGE_LIMIT, type AppPage } from '../apps/app-page.js';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../domain/types.js';
import { invalid } from '../errors.js';
import { sendJsonArray, type JsonElements } from './json-array.js';

/** `?limit=N&after=NAME` → a page; neither → every app (the response stays an array). */
export function parseAppPage(query: URLSearchParams): AppPage {
  const page: AppPage = {};
  const limit = query.get('limit');
  if (limit !== null) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_LIMIT) throw invalid(`limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
    page.limit = n;
  }
  const after = query.get('after');
  if (after !== null && after !== '') page.after = after;
  return page;
}

/**
 * GET /apps: a JSON array either way (older clients keep working); a full page carries
 * `Link: </apps?limit=N&after=LAST>; rel="next"` so a client can ask for the next one.
 */
export async function sendAppPage(
  res: http.ServerResponse,
  query: URLSearchParams,
  apps: AppService,
  /** What the caller may see of the page (the apps it has a role on; values masked). */
  shown: (records: AppRecord[]) => AppRecord[] = (records) => records,
  /** Each app's JSON, remembered between listings while the record stays the same. */
  elements?: JsonElements,
): Promise<void> {
  const page = parseAppPage(query);
  const listed = await apps.list(page);
  const records = shown(listed);
  // The next page starts after the last app listed, seen or not.
  const last = listed.at(-1);
  if (page.limit !== undefined && listed.length === page.limit && last) {
    res.setHeader('Link', `</apps?limit=${page.limit}&after=${encodeURIComponent(last.name)}>; rel="next"`);
  }
  sendJsonArray(res, 200, records, elements);
}
