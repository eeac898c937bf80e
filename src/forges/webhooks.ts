import type { PreviewService } from '../apps/previews.js';
import type { DeliveryOutcome, ForgeConnection } from '../domain/forges.js';
import { isValidAppName } from '../domain/names.js';
import { errorMessage, invalid, isMinPaasError, MinPaasError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { CollapseQueue, type QueuedJob } from './collapse-queue.js';
import { apiToken, gitCredentials } from './connections.js';
import type { CommitDeploy, ForgeDeployer } from './deployer.js';
import { decodeGithub, decodeGitlab, hasSkipMarker, type ForgeName, type PullEvent, type PushEvent } from './events.js';
import { githubSignatureValid, gitlabTokenValid } from './signature.js';
import type { StatusReporter, StatusTarget } from './statuses.js';
import { ANSWER_DEADLINE_MS, deliveryIdOf, header, isBranchName, withDeadline, type Headers } from './delivery.js';

/** The answer to a delivery: HTTP status and JSON body. */
export interface HookReply {
  status: number;
  body: Record<string, unknown>;
}

export interface WebhookDeps {
  store: Store;
  deployer: ForgeDeployer;
  previews: PreviewService;
  statuses: StatusReporter;
  /** `https://paas.example.com/apps/APP/deploys/ID/log` */
  deployLogUrl: (app: string, deployId: number) => string;
  log: Logger;
}

/** What the deliveries of one event asked for, as the reply and the deliveries table say it. */
interface Handled {
  outcome: DeliveryOutcome;
  status: number;
  body: Record<string, unknown>;
  pr?: number;
  /** A deploy's first news: its id, `queued`, or an early failure. */
  started?: Promise<Record<string, unknown>>;
}

/** Everything a background deploy job needs. */
interface DeploySpec {
  deploy: Omit<CommitDeploy, 'onStarted'>;
  status: Omit<StatusTarget, 'commit'> | null;
  delivery: { forge: ForgeName; id: string | null };
  /** What to redo if MinPaas restarts before the job is done. */
  origin: Origin;
  onDone?: (ok: boolean) => void;
}

/** The connected app and the decoded event a job came from (no secrets: safe to store). */
interface Origin {
  parent: string;
  event: PushEvent | PullEvent;
}

/**
 * `POST /hooks/github/APP` and `POST /hooks/gitlab/APP`: authenticity first (over the raw
 * bytes, before any parsing), then de-duplication, then the event. Deploys run in the
 * background through a per-app queue; the forge gets its answer at once.
 */
export class WebhookService {
  private readonly queue: CollapseQueue;

  constructor(private readonly deps: WebhookDeps) {
    this.queue = new CollapseQueue((key, err) => deps.log.error({ app: key, err: errorMessage(err) }, 'webhook job failed unexpectedly'));
  }

  /** Destroys every preview of `parent` (before the parent itself goes), after their running deploys. */
  async destroyPreviewsOf(parent: string): Promise<void> {
    const previews = this.deps.store.forges.listPreviews(parent);
    for (const preview of previews) {
      this.deps.store.forges.setPreviewStatus(preview.app, 'destroying');
      this.queue.submit(preview.app, this.destroyJob(preview.app));
    }
    await Promise.all(previews.map((p) => this.queue.idle(p.app)));
  }

  /**
   * After a restart: the newest event per app whose job had not finished (waiting in the
   * queue, or interrupted mid-deploy) is handled again.
   */
  resume(): void {
    for (const pending of this.deps.store.forges.listPending()) {
      this.deps.store.forges.deletePending(pending.key);
      const conn = this.deps.store.forges.getConnection(pending.parent);
      if (!conn) continue;
      const event = JSON.parse(pending.eventJson) as PushEvent | PullEvent;
      this.deps.log.info({ app: pending.key, event: event.kind }, 'resuming a webhook job that a restart interrupted');
      const delivery = { forge: conn.forge, id: null };
      const handled = event.kind === 'push' ? this.onPush(conn, event, delivery) : this.onPull(conn, event, delivery);
      void handled.started;
    }
  }

  /** Settles when no webhook job of `app` runs or waits. */
  idle(app: string): Promise<void> {
    return this.queue.idle(app);
  }

  async handle(forge: ForgeName, appName: string, headers: Headers, raw: Buffer): Promise<HookReply> {
    const conn = isValidAppName(appName) ? this.deps.store.forges.getConnection(appName) : undefined;
    if (!conn || conn.forge !== forge || !this.authentic(conn, headers, raw)) {
      throw new MinPaasError(
        'UNAUTHORIZED',
        forge === 'github' ? 'X-Hub-Signature-256 is missing or does not match the body (or the app is not connected to GitHub)' : 'X-Gitlab-Token is missing or wrong (or the app is not connected to GitLab)',
      );
    }
    const event = header(headers, forge === 'github' ? 'x-github-event' : 'x-gitlab-event') ?? '';
    const deliveryId = deliveryIdOf(forge, headers);
    if (deliveryId !== null && !this.deps.store.forges.claimDelivery(forge, deliveryId.slice(0, 200), conn.app, event.slice(0, 100))) {
      return { status: 200, body: { status: 'duplicate', reason: `delivery ${deliveryId} was handled already` } };
    }
    const delivery = { forge, id: deliveryId?.slice(0, 200) ?? null };
    let handled: Handled;
    try {
      handled = this.dispatch(conn, event, raw, delivery);
    } catch (err) {
      this.record(delivery, 'failed', errorMessage(err), null);
      throw err;
    }
    const started = handled.started ? await handled.started : {};
    const body = { ...handled.body, ...started };
    const outcome = (started.status as DeliveryOutcome | undefined) ?? handled.outcome;
    this.record(delivery, outcome, typeof body.reason === 'string' ? body.reason : null, handled.pr ?? null);
    this.deps.log.info({ forge, app: conn.app, event: event.slice(0, 100), delivery: delivery.id, outcome }, 'webhook delivery');
    return { status: handled.status, body };
  }

  private authentic(conn: ForgeConnection, headers: Headers, raw: Buffer): boolean {
    if (conn.forge === 'github') return githubSignatureValid(conn.secret, raw, header(headers, 'x-hub-signature-256'));
    return gitlabTokenValid(conn.secret, header(headers, 'x-gitlab-token'));
  }

  private dispatch(conn: ForgeConnection, event: string, raw: Buffer, delivery: DeploySpec['delivery']): Handled {
    let payload: unknown;
    try {
      payload = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw invalid(`webhook body is not JSON (set the content type to application/json): ${errorMessage(err)}`);
    }
    const decoded = conn.forge === 'github' ? decodeGithub(event, payload) : decodeGitlab(event, payload);
    if (decoded.kind === 'ping') return { outcome: 'ignored', status: 200, body: { status: 'ok', app: conn.app, reason: 'ping' } };
    if (decoded.kind === 'other') return ignored(`event "${decoded.name}" is not used (send push and pull request events)`);
    if (decoded.kind === 'push') return this.onPush(conn, decoded, delivery);
    return this.onPull(conn, decoded, delivery);
  }

  private onPush(conn: ForgeConnection, push: PushEvent, delivery: DeploySpec['delivery']): Handled {
    if (push.branch === null) return ignored(`${push.ref} is not a branch (tag pushes do not deploy)`);
    if (push.deleted) return ignored(`branch ${push.branch} was deleted`);
    if (push.branch !== conn.branch) return ignored(`push to ${push.branch}; ${conn.app} deploys ${conn.branch}`);
    if (hasSkipMarker(push.message)) return { outcome: 'skipped', status: 202, body: { status: 'skipped', app: conn.app, commit: push.after, reason: 'the commit message asks to skip the deploy' } };
    const spec: DeploySpec = {
      deploy: { app: conn.app, repo: conn.repo, branch: conn.branch, commit: push.after, fetchRef: push.ref, credentials: gitCredentials(conn) },
      status: this.statusTarget(conn, push.statusRepo, 'minpaas'),
      delivery,
      origin: { parent: conn.app, event: push },
    };
    return { outcome: 'deploying', status: 202, body: { app: conn.app, commit: push.after }, started: this.submit(spec) };
  }

  private onPull(conn: ForgeConnection, pr: PullEvent, delivery: DeploySpec['delivery']): Handled {
    const plan = this.deps.previews.plan(conn, pr);
    const base = { pr: pr.number };
    if (plan.kind === 'skip') {
      if (pr.intent === 'deploy') this.deps.log.info({ app: conn.app, pr: pr.number, reason: plan.reason }, 'preview skipped');
      return { ...base, outcome: pr.intent === 'deploy' ? 'skipped' : 'ignored', status: 202, body: { status: pr.intent === 'deploy' ? 'skipped' : 'ignored', pr: pr.number, reason: plan.reason } };
    }
    const status = this.statusTarget(conn, pr.statusRepo, 'minpaas/preview');
    if (plan.kind === 'refuse') {
      this.deps.log.info({ app: conn.app, pr: pr.number, reason: plan.reason }, 'preview refused');
      if (status) void this.deps.statuses.post({ ...status, commit: pr.headSha }, 'failure', plan.reason, null);
      return { ...base, outcome: 'refused', status: 202, body: { status: 'refused', pr: pr.number, reason: plan.reason } };
    }
    if (plan.kind === 'close') {
      this.deps.store.forges.setPreviewStatus(plan.app, 'destroying');
      this.queue.submit(plan.app, this.destroyJob(plan.app, { parent: conn.app, event: pr }));
      return { ...base, outcome: 'destroying', status: 202, body: { status: 'destroying', pr: pr.number, app: plan.app } };
    }
    const spec: DeploySpec = {
      deploy: {
        app: plan.app,
        repo: conn.repo,
        // Recorded as the preview's branch; forges allow names MinPaas would refuse.
        branch: isBranchName(pr.headRef) ? pr.headRef : `pr-${pr.number}`,
        commit: pr.headSha,
        fetchRef: pr.fetchRef,
        credentials: gitCredentials(conn),
        env: plan.env,
        beforeBuild: plan.applyLimits,
      },
      status,
      delivery,
      origin: { parent: conn.app, event: pr },
      onDone: (ok) => this.deps.store.forges.setPreviewStatus(plan.app, ok ? 'live' : 'failed'),
    };
    return { ...base, outcome: 'deploying', status: 202, body: { pr: pr.number, app: plan.app, commit: pr.headSha }, started: this.submit(spec) };
  }

  private statusTarget(conn: ForgeConnection, repo: string | null, context: string): DeploySpec['status'] {
    const token = apiToken(conn);
    return token && repo ? { forge: conn.forge, repo, token, context } : null;
  }

  /**
   * Queues the deploy; resolves with `deploying` and the deploy id as soon as the deploy is
   * recorded, or `queued` when another deploy of the app runs (it follows, newest commit only).
   */
  private submit(spec: DeploySpec): Promise<Record<string, unknown>> {
    let answer!: (body: Record<string, unknown>) => void;
    const started = new Promise<Record<string, unknown>>((resolve) => (answer = resolve));
    const origin = this.track(spec.deploy.app, spec.origin);
    const job: QueuedJob = {
      run: async () => {
        try {
          await this.runDeploy(spec, answer);
        } finally {
          this.deps.store.forges.finishPending(spec.deploy.app, origin);
        }
      },
      superseded: () => {
        this.record(spec.delivery, 'ignored', `superseded by a newer commit before it was deployed`, null);
        this.deps.log.info({ app: spec.deploy.app, commit: spec.deploy.commit }, 'webhook deploy superseded by a newer commit');
      },
    };
    const busy = this.deps.deployer.isBusy(spec.deploy.app);
    if (this.queue.submit(spec.deploy.app, job) === 'queued' || busy) return Promise.resolve({ status: 'queued', reason: `a deploy of ${spec.deploy.app} is running; this commit follows it (newer ones replace it)` });
    return withDeadline(started, ANSWER_DEADLINE_MS, { status: 'queued', reason: `the deploy of ${spec.deploy.app} waits for another one to finish` });
  }

  /** One background deploy: statuses, the pipeline, the outcome. Never throws. */
  private async runDeploy(spec: DeploySpec, answer: (body: Record<string, unknown>) => void): Promise<void> {
    const { deploy, status } = spec;
    const post = (state: 'pending' | 'success' | 'failure', text: string, url: string | null): Promise<void> =>
      status ? this.deps.statuses.post({ ...status, commit: deploy.commit }, state, text, url) : Promise.resolve();
    let deployId: number | null = null;
    // Not awaited: the forge's API must not delay the deploy (or the answer). Later statuses wait for it.
    const pending = post('pending', `Deploying ${deploy.app}`, null);
    try {
      const done = await this.deps.deployer.deploy({
        ...deploy,
        onStarted: (id) => {
          deployId = id;
          answer({ status: 'deploying', deployId: id });
        },
      });
      this.deps.log.info({ app: deploy.app, commit: deploy.commit, release: done.release }, 'webhook deploy released');
      spec.onDone?.(true);
      await pending;
      await post('success', `Deployed to ${done.url} (v${done.release})`, done.url);
    } catch (err) {
      const message = errorMessage(err);
      if (isMinPaasError(err)) this.deps.log.info({ app: deploy.app, commit: deploy.commit, err: message }, 'webhook deploy failed');
      else this.deps.log.error({ app: deploy.app, commit: deploy.commit, err: message }, 'webhook deploy failed');
      answer({ status: 'failed', reason: message });
      this.record(spec.delivery, 'failed', message, null);
      spec.onDone?.(false);
      await pending;
      await post('failure', `Deploy failed: ${message}`, deployId === null ? null : this.deps.deployLogUrl(deploy.app, deployId));
    }
  }

  private destroyJob(app: string, from?: Origin): QueuedJob {
    const origin = from ? this.track(app, from) : null;
    return {
      run: async () => {
        try {
          await this.deps.deployer.destroy(app);
          this.deps.store.forges.deletePreview(app);
          this.deps.log.info({ app }, 'preview destroyed');
        } catch (err) {
          this.deps.store.forges.setPreviewStatus(app, 'failed');
          this.deps.log.error({ app, err: errorMessage(err) }, 'could not destroy the preview');
        } finally {
          if (origin) this.deps.store.forges.finishPending(app, origin);
        }
      },
      superseded: () => undefined,
    };
  }

  /** Stores the job's origin as the app's pending work (replacing an older one); returns what was stored. */
  private track(key: string, origin: Origin): string {
    const json = JSON.stringify(origin.event);
    this.deps.store.forges.savePending(key, origin.parent, json);
    return json;
  }

  private record(delivery: DeploySpec['delivery'], outcome: DeliveryOutcome, reason: string | null, pr: number | null): void {
    if (delivery.id !== null) this.deps.store.forges.setDeliveryOutcome(delivery.forge, delivery.id, outcome, reason, pr);
  }
}

function ignored(reason: string): Handled {
  return { outcome: 'ignored', status: 202, body: { status: 'ignored', reason } };
}
