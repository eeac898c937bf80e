import crypto from 'node:crypto';
import { isValidAppName } from '../domain/names.js';
import type { ForgeConnection, PreviewRecord } from '../domain/forges.js';
import type { AppRow, EnvVars } from '../domain/types.js';
import type { PullEvent } from '../forges/events.js';
import type { PreviewForkPolicy } from '../forges/settings.js';
import type { Store } from '../store/store.js';

const MAX_NAME = 30;
const TRUSTED_ASSOCIATIONS = new Set(['OWNER', 'MEMBER', 'COLLABORATOR']);

/**
 * The preview app of pull request `number`: `PARENT-pr-N`. When that does not fit the
 * 30 characters of an app name, the parent is cut and a short hash of its full name keeps
 * two long parents that share a prefix apart (`a-very-long-na-1f2e-pr-12`).
 */
export function previewName(parent: string, number: number): string {
  const suffix = `-pr-${number}`;
  const plain = `${parent}${suffix}`;
  if (plain.length <= MAX_NAME) return plain;
  const hash = crypto.createHash('sha256').update(parent).digest('hex').slice(0, 4);
  const room = MAX_NAME - suffix.length - hash.length - 1;
  const cut = parent.slice(0, Math.max(room, 1)).replace(/-+$/, '');
  const name = `${cut}-${hash}${suffix}`;
  if (!isValidAppName(name)) throw new Error(`no valid preview name for ${parent} #${number}`);
  return name;
}

export type PreviewPlan =
  | { kind: 'deploy'; app: string; env: EnvVars; applyLimits: (app: AppRow) => Promise<void> }
  | { kind: 'close'; app: string }
  | { kind: 'skip'; reason: string }
  | { kind: 'refuse'; reason: string };

export interface PreviewSettings {
  maxPreviews: number;
  previewForks: PreviewForkPolicy;
}

/** Why a fork's pull request gets no preview, or null when it may have one. */
export function forkRefusal(event: Pick<PullEvent, 'fork' | 'association'>, policy: PreviewForkPolicy): string | null {
  if (!event.fork || policy === 'all') return null;
  if (policy === 'none') return 'pull requests from forks get no preview (MINPAAS_PREVIEW_FORKS=none)';
  if (event.association && TRUSTED_ASSOCIATIONS.has(event.association)) return null;
  return `pull request from a fork by a non-member (author_association ${event.association ?? 'unknown'}): no preview; set MINPAAS_PREVIEW_FORKS=all to deploy such pull requests`;
}

/**
 * Preview apps: one per open pull request of a connected app, with the parent's config
 * (plus MINPAAS_PR_NUMBER) and limits, listed under the parent, removed when it closes.
 */
export class PreviewService {
  constructor(
    private readonly store: Store,
    private readonly settings: PreviewSettings,
  ) {}

  list(parent: string): PreviewRecord[] {
    return this.store.forges.listPreviews(parent);
  }

  /** What a pull request event means for its preview; reserves the slot of a new one. */
  plan(conn: ForgeConnection, event: PullEvent): PreviewPlan {
    const parent = conn.app;
    const app = previewName(parent, event.number);
    if (event.intent === 'close') {
      return this.store.forges.getPreview(parent, event.number) ? { kind: 'close', app } : { kind: 'skip', reason: `pull request #${event.number} has no preview` };
    }
    if (event.intent !== 'deploy') return { kind: 'skip', reason: `pull request action "${event.action}" changes no preview` };
    const refusal = forkRefusal(event, this.settings.previewForks);
    if (refusal) return { kind: 'skip', reason: refusal };
    const owner = this.store.forges.previewByApp(app);
    if ((owner && (owner.parent !== parent || owner.number !== event.number)) || (!owner && this.store.getApp(app))) {
      return { kind: 'refuse', reason: `an app named ${app} exists already and is not this pull request's preview` };
    }
    const reserved = this.store.forges.reservePreview({ parent, number: event.number, app, headRef: event.headRef, commit: event.headSha }, this.settings.maxPreviews);
    if (!reserved) {
      return {
        kind: 'refuse',
        reason: `${parent} has ${this.settings.maxPreviews} live previews, the most allowed (MINPAAS_MAX_PREVIEWS); close a pull request or raise the limit`,
      };
    }
    const env = { ...this.store.getEnv(parent), MINPAAS_PR_NUMBER: String(event.number) };
    return { kind: 'deploy', app, env, applyLimits: async (row) => this.applyParentLimits(parent, row) };
  }

  /** The preview runs with the parent's limits (null = the installation default, as for the parent). */
  private applyParentLimits(parent: string, preview: AppRow): void {
    const from = this.store.getApp(parent);
    if (!from) return;
    const limits = { memoryLimit: from.memoryLimit, cpuLimit: from.cpuLimit };
    this.store.setLimits(preview.name, limits);
    // The pipeline starts the container from this row: it must carry the limits too.
    Object.assign(preview, limits);
  }
}
