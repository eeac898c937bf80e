import { invalid } from '../errors.js';
import type { Address, ProcessTypes } from './types.js';

/** How many of each process type run: `{"web": 3, "worker": 0}`. */
export type Formation = Record<string, number>;

/** One running process of the serving release (a replica of a process type). */
export interface ProcessPlacement {
  type: string;
  /** 1-based: web.1, web.2… */
  replica: number;
  container: string;
  /** Web processes only: where the router sends requests. Workers have none. */
  address: Address | null;
}

/** The Procfile type that runs once per release (before traffic moves), never scaled. */
export const RELEASE_TYPE = 'release';
/** The type that gets $PORT and the route. */
export const WEB_TYPE = 'web';
/** Most replicas of one process type (the router's servers per blue/green group). */
export const MAX_REPLICAS = 10;

const TYPE_NAME = /^[a-z][a-z0-9_-]{0,29}$/;

/** Heroku's process name in $DYNO: `web.1`. */
export function dynoName(type: string, replica: number): string {
  return `${type}.${replica}`;
}

/** The types a release runs as processes (everything in its Procfile but `release`). */
export function scalableTypes(types: Record<string, unknown>): string[] {
  return Object.keys(types)
    .filter((t) => t !== RELEASE_TYPE)
    .sort((a, b) => (a === WEB_TYPE ? -1 : b === WEB_TYPE ? 1 : a.localeCompare(b)));
}

/** The counts a release runs with: the stored count of each of its types, else 1. */
export function effectiveFormation(types: ProcessTypes, stored: Formation): Formation {
  return Object.fromEntries(scalableTypes(types).map((t) => [t, stored[t] ?? 1]));
}

/** A scale request checked against the release's types (null: the app has no release yet). */
export function assertScalable(changes: Formation, types: ProcessTypes | null): void {
  for (const type of Object.keys(changes)) {
    if (type === RELEASE_TYPE) throw invalid('the release process type runs once per release and cannot be scaled');
    if (types && !(type in types)) {
      throw invalid(`the current release has no process type ${type}; its types are: ${scalableTypes(types).join(', ')}`);
    }
  }
}

/** PATCH /apps/APP/formation body (and `ps:scale` arguments): type → whole count. */
export function parseFormation(body: unknown): Formation {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('formation must be a JSON object of process type → count, e.g. {"web": 3, "worker": 0}');
  }
  const entries = Object.entries(body as Record<string, unknown>);
  if (entries.length === 0) throw invalid('formation needs at least one process type, e.g. {"web": 3}');
  const out: Formation = {};
  for (const [type, count] of entries) {
    if (!TYPE_NAME.test(type)) throw invalid(`invalid process type ${JSON.stringify(type)}: lower-case letters, digits, - and _`);
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > MAX_REPLICAS) {
      throw invalid(`the count of ${type} must be a whole number from 0 to ${MAX_REPLICAS}`);
    }
    out[type] = count;
  }
  return out;
}
