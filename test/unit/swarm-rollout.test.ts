import { describe, expect, it } from 'vitest';
import type { ServiceState, TaskState } from '../../src/docker/index.js';
import { LABEL_RELEASE } from '../../src/docker/index.js';
import { taskFailure, tasksProgress, updateProgress } from '../../src/runner/rollout.js';

/** When a service's change is done or failed, from the tasks and UpdateStatus Swarm reports. */

const SINCE = Date.parse('2024-05-01T12:00:00Z');
const at = (offsetMs: number): string => new Date(SINCE + offsetMs).toISOString();

let ids = 0;
function task(release: number, over: Partial<TaskState> = {}): TaskState {
  ids++;
  return {
    id: `t${ids}`,
    serviceId: 's1',
    slot: ids,
    nodeId: 'n1',
    state: 'running',
    desiredState: 'running',
    error: null,
    exitCode: null,
    containerId: `c${ids}`,
    labels: { [LABEL_RELEASE]: String(release) },
    createdAt: at(500),
    updatedAt: at(600),
    ...over,
  };
}

function service(update: ServiceState['update']): ServiceState {
  return { id: 's1', name: 'shop-web', version: 7, labels: {}, replicas: 2, spec: {}, update };
}

describe('taskFailure', () => {
  it('names the exit code of an app that exited', () => {
    expect(taskFailure(task(2, { state: 'failed', exitCode: 3 }))).toBe('the app exited (code 3) before it answered HTTP');
  });
  it("gives Docker's error without its 'task: ' prefix when there is no exit code", () => {
    expect(taskFailure(task(2, { state: 'rejected', error: 'task: no suitable node (insufficient resources on 2 nodes)' }))).toBe(
      'no suitable node (insufficient resources on 2 nodes)',
    );
  });
  it('keeps an error that has no prefix, and prefers the exit code over the error', () => {
    expect(taskFailure(task(2, { state: 'failed', error: 'No such image: x' }))).toBe('No such image: x');
    expect(taskFailure(task(2, { state: 'failed', exitCode: 1, error: 'task: non-zero exit (1)' }))).toBe('the app exited (code 1) before it answered HTTP');
  });
  it('says the state when nothing else is known (exit code 0 is not a failure code)', () => {
    expect(taskFailure(task(2, { state: 'orphaned' }))).toBe('the task ended (orphaned)');
    expect(taskFailure(task(2, { state: 'complete', exitCode: 0 }))).toBe('the task ended (complete)');
  });
});

describe('tasksProgress (a new or scaled service)', () => {
  it('is done when exactly `replicas` tasks of the release run', () => {
    expect(tasksProgress([task(2), task(2)], 2, 2, SINCE)).toEqual({ kind: 'done' });
  });
  it('is pending while fewer run, or tasks are still starting', () => {
    expect(tasksProgress([task(2)], 2, 2, SINCE)).toEqual({ kind: 'pending' });
    expect(tasksProgress([task(2), task(2, { state: 'starting' })], 2, 2, SINCE)).toEqual({ kind: 'pending' });
    expect(tasksProgress([], 2, 1, SINCE)).toEqual({ kind: 'pending' });
  });
  it('is pending while more run than asked (a scale-down still stopping some)', () => {
    expect(tasksProgress([task(2), task(2), task(2)], 2, 2, SINCE)).toEqual({ kind: 'pending' });
  });
  it("is pending while another release's task still runs", () => {
    expect(tasksProgress([task(2), task(1)], 2, 1, SINCE)).toEqual({ kind: 'pending' });
  });
  it('does not count a running task Swarm is about to stop (desired shutdown)', () => {
    expect(tasksProgress([task(2), task(2, { desiredState: 'shutdown' })], 2, 1, SINCE)).toEqual({ kind: 'done' });
    expect(tasksProgress([task(2, { desiredState: 'shutdown' })], 2, 1, SINCE)).toEqual({ kind: 'pending' });
  });
  it('a scale to zero is done once nothing runs', () => {
    expect(tasksProgress([task(2, { state: 'shutdown', desiredState: 'shutdown' })], 2, 0, SINCE)).toEqual({ kind: 'done' });
    expect(tasksProgress([task(2)], 2, 0, SINCE)).toEqual({ kind: 'pending' });
  });

  it('fails as soon as a task of the release created since the change failed', () => {
    const failed = task(2, { state: 'failed', desiredState: 'shutdown', exitCode: 1, createdAt: at(2000) });
    const progress = tasksProgress([task(2), failed], 2, 2, SINCE);
    expect(progress).toEqual({ kind: 'failed', reason: 'the app exited (code 1) before it answered HTTP', task: failed });
  });
  it('fails on rejected and orphaned tasks too', () => {
    const rejected = task(2, { state: 'rejected', error: 'task: no suitable node' });
    expect(tasksProgress([rejected], 2, 1, SINCE)).toMatchObject({ kind: 'failed', reason: 'no suitable node', task: rejected });
    const orphaned = task(2, { state: 'orphaned' });
    expect(tasksProgress([orphaned], 2, 1, SINCE)).toMatchObject({ kind: 'failed', reason: 'the task ended (orphaned)' });
  });
  it('counts a task that completed while it should run as a failure (an app that exits 0)', () => {
    const exited = task(2, { state: 'complete', desiredState: 'running', exitCode: 0 });
    expect(tasksProgress([exited], 2, 1, SINCE)).toEqual({ kind: 'failed', reason: 'the task ended (complete)', task: exited });
    // Completed because Swarm stopped it: not a failure.
    expect(tasksProgress([task(2, { state: 'complete', desiredState: 'shutdown', exitCode: 0 }), task(2)], 2, 1, SINCE)).toEqual({ kind: 'done' });
  });
  it('ignores tasks stopped before the change (exit 143, created earlier)', () => {
    const stoppedBefore = task(2, { state: 'failed', desiredState: 'shutdown', exitCode: 143, createdAt: at(-60_000) });
    expect(tasksProgress([stoppedBefore, task(2)], 2, 1, SINCE)).toEqual({ kind: 'done' });
    expect(tasksProgress([stoppedBefore], 2, 1, SINCE)).toEqual({ kind: 'pending' });
  });
  it('allows a second of clock skew: a task created just before `since` is this change\'s', () => {
    const justBefore = task(2, { state: 'failed', exitCode: 2, createdAt: at(-900) });
    expect(tasksProgress([justBefore], 2, 1, SINCE)).toMatchObject({ kind: 'failed', reason: 'the app exited (code 2) before it answered HTTP' });
    const longBefore = task(2, { state: 'failed', exitCode: 2, createdAt: at(-1100) });
    expect(tasksProgress([longBefore], 2, 1, SINCE)).toEqual({ kind: 'pending' });
  });
  it("ignores another release's failed tasks", () => {
    expect(tasksProgress([task(1, { state: 'failed', exitCode: 1 }), task(2)], 2, 1, SINCE)).toEqual({ kind: 'done' });
  });
});

describe('updateProgress (a rolling update)', () => {
  const started = (state: string, message = '', startedAt: string | null = at(100)) => service({ state, startedAt, message });

  it('is pending without an UpdateStatus, or before it started', () => {
    expect(updateProgress(service(null), SINCE, [], 2)).toEqual({ kind: 'pending' });
    expect(updateProgress(started('updating', '', null), SINCE, [], 2)).toEqual({ kind: 'pending' });
    expect(updateProgress(started('updating'), SINCE, [task(2)], 2)).toEqual({ kind: 'pending' });
    expect(updateProgress(started('rollback_started'), SINCE, [], 2)).toEqual({ kind: 'pending' });
  });
  it("ignores an earlier update's status, even a completed or rolled-back one", () => {
    expect(updateProgress(started('completed', '', at(-5000)), SINCE, [task(2)], 2)).toEqual({ kind: 'pending' });
    expect(updateProgress(started('rollback_completed', 'rolled back', at(-5000)), SINCE, [], 2)).toEqual({ kind: 'pending' });
  });
  it('is done when the update completed', () => {
    expect(updateProgress(started('completed', 'update completed'), SINCE, [task(2)], 2)).toEqual({ kind: 'done' });
  });
  it("fails after a rollback with the failed task's reason", () => {
    const failed = task(2, { state: 'failed', desiredState: 'shutdown', exitCode: 1 });
    const progress = updateProgress(started('rollback_completed', 'update rolled back due to failure or early termination of task'), SINCE, [task(1), failed], 2);
    expect(progress).toEqual({ kind: 'failed', reason: 'the app exited (code 1) before it answered HTTP', task: failed });
  });
  it("fails with Docker's message when no task of the release failed", () => {
    const progress = updateProgress(started('rollback_completed', 'update rolled back due to failure or early termination of task xyz'), SINCE, [task(1)], 2);
    expect(progress).toEqual({ kind: 'failed', reason: 'update rolled back due to failure or early termination of task xyz', task: null });
  });
  it('fails with a default reason when Docker gave no message', () => {
    expect(updateProgress(started('rollback_completed'), SINCE, [], 2)).toEqual({ kind: 'failed', reason: 'the new tasks did not start', task: null });
  });
  it("does not take another release's failed task as the reason", () => {
    const progress = updateProgress(started('rollback_completed', 'rolled back'), SINCE, [task(1, { state: 'failed', exitCode: 9 })], 2);
    expect(progress).toEqual({ kind: 'failed', reason: 'rolled back', task: null });
  });
  it('a rejected task of the release gives its error', () => {
    const rejected = task(2, { state: 'rejected', error: 'task: No such image: registry/shop:v2' });
    expect(updateProgress(started('rollback_completed'), SINCE, [rejected], 2)).toMatchObject({ kind: 'failed', reason: 'No such image: registry/shop:v2', task: rejected });
  });
  it('a rollback that paused, or an update that paused, fails and says the service is paused', () => {
    const failed = task(2, { state: 'failed', exitCode: 1 });
    for (const state of ['rollback_paused', 'paused']) {
      const progress = updateProgress(started(state, 'update paused due to failure'), SINCE, [failed], 2);
      expect(progress).toEqual({
        kind: 'failed',
        reason: 'the app exited (code 1) before it answered HTTP (and rolling back did not finish: the service is paused)',
        task: failed,
      });
    }
    expect(updateProgress(started('paused', 'update paused due to failure or early termination of task abc'), SINCE, [], 2)).toEqual({
      kind: 'failed',
      reason: 'update paused due to failure or early termination of task abc (and rolling back did not finish: the service is paused)',
      task: null,
    });
  });
  it('a completed rollback does not say paused', () => {
    const progress = updateProgress(started('rollback_completed', 'x'), SINCE, [], 2);
    expect(progress.kind === 'failed' && progress.reason).toBe('x');
  });
});

describe('updateProgress: why an update failed', () => {
  it('names a task of this update that broke by itself, not one stopped before it or by the rollback', () => {
    const stoppedBefore = task(4, { state: 'failed', exitCode: 143, createdAt: at(-3_600_000) });
    const stoppedByRollback = task(4, { state: 'failed', exitCode: 143, createdAt: at(3000) });
    const broke = task(4, { state: 'failed', exitCode: 1, createdAt: at(2000) });
    const service: ServiceState = { id: 's', name: 'shop-web', version: 1, labels: {}, replicas: 1, spec: {}, update: { state: 'rollback_completed', startedAt: at(1000), message: 'm' } };
    expect(updateProgress(service, SINCE, [stoppedBefore, stoppedByRollback, broke], 4)).toMatchObject({ kind: 'failed', reason: 'the app exited (code 1) before it answered HTTP' });
  });
});
