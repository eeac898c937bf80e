import type { ServiceState, TaskState } from '../docker/index.js';
import { LABEL_RELEASE } from '../docker/index.js';

/** Where a service's change stands: still moving, done, or failed (with why). */
export type Progress = { kind: 'pending' } | { kind: 'done' } | { kind: 'failed'; reason: string; task: TaskState | null };

const PENDING: Progress = { kind: 'pending' };
/** Task states a task never leaves (it will not serve). */
const FAILED_STATES = new Set(['failed', 'rejected', 'orphaned']);

/** Why a task ended, in words a person can act on. */
export function taskFailure(task: TaskState): string {
  if (task.exitCode !== null && task.exitCode !== 0) return `the app exited (code ${task.exitCode}) before it answered HTTP`;
  if (task.error) return task.error.replace(/^task: /, '');
  return `the task ended (${task.state})`;
}

function ofRelease(tasks: TaskState[], release: number): TaskState[] {
  return tasks.filter((t) => t.labels[LABEL_RELEASE] === String(release));
}

/**
 * A new service (or one scaled): done once `replicas` tasks of the release run (for a web
 * service that means: answered their health check) and no others do; failed as soon as
 * a task of the release created since `since` (epoch ms) failed, since a new service
 * has nothing to roll back to.
 */
export function tasksProgress(tasks: TaskState[], release: number, replicas: number, since: number): Progress {
  // Tasks stopped before this change (a scale-down's, an update's) end "failed" too (exit 143): not this change's failures.
  const mine = ofRelease(tasks, release).filter((t) => Date.parse(t.createdAt) >= since - 1000);
  const failed = mine.find((t) => FAILED_STATES.has(t.state) || (t.state === 'complete' && t.desiredState === 'running'));
  if (failed) return { kind: 'failed', reason: taskFailure(failed), task: failed };
  const running = tasks.filter((t) => t.state === 'running' && t.desiredState === 'running');
  const serving = running.filter((t) => t.labels[LABEL_RELEASE] === String(release)).length;
  return serving === replicas && running.length === replicas ? { kind: 'done' } : PENDING;
}

/**
 * A rolling update, as Swarm reports it on the service: done when it completed; failed
 * once Swarm has rolled the service back (or stopped trying), never half-way, so the
 * previous release serves again when this says so. `since` (epoch ms) skips the status
 * of an earlier update.
 */
export function updateProgress(service: ServiceState, since: number, tasks: TaskState[], release: number): Progress {
  const update = service.update;
  if (!update || update.startedAt === null || Date.parse(update.startedAt) < since - 1000) return PENDING;
  if (update.state === 'completed') return { kind: 'done' };
  if (update.state === 'rollback_completed' || update.state === 'rollback_paused' || update.state === 'paused') {
    const failed = failedTaskOf(ofRelease(tasks, release).filter((t) => Date.parse(t.createdAt) >= since - 1000));
    const reason = failed ? taskFailure(failed) : update.message || 'the new tasks did not start';
    const restored = update.state === 'rollback_completed' ? '' : ' (and rolling back did not finish: the service is paused)';
    return { kind: 'failed', reason: reason + restored, task: failed };
  }
  return PENDING;
}

/** Exit codes of a stop (SIGTERM, SIGKILL): what a task that was stopped, not one that broke, reports. */
const STOPPED_EXITS = new Set([137, 143]);

/** The task whose failure explains the update's: one that broke by itself before one that was stopped. */
function failedTaskOf(tasks: TaskState[]): TaskState | null {
  const failed = tasks.filter((t) => FAILED_STATES.has(t.state) || (t.exitCode !== null && t.exitCode !== 0));
  return failed.find((t) => t.exitCode === null || !STOPPED_EXITS.has(t.exitCode)) ?? failed[0] ?? null;
}
