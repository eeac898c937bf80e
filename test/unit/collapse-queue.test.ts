import { describe, expect, it } from 'vitest';
import { CollapseQueue, type QueuedJob } from '../../src/forges/collapse-queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A job that records its runs and waits for `gate` while it runs. */
function job(name: string, log: string[], gate?: Promise<void>): QueuedJob {
  return {
    run: async () => {
      log.push(`start ${name}`);
      await gate;
      log.push(`end ${name}`);
    },
    superseded: () => log.push(`superseded ${name}`),
  };
}

describe('CollapseQueue', () => {
  it('runs at once when idle; a burst during a run collapses to the newest job', async () => {
    const errors: unknown[] = [];
    const q = new CollapseQueue((_k, e) => errors.push(e));
    const log: string[] = [];
    const gate = deferred();
    expect(q.submit('a', job('1', log, gate.promise))).toBe('started');
    expect(['2', '3', '4', '5'].map((n) => q.submit('a', job(n, log)))).toEqual(['queued', 'queued', 'queued', 'queued']);
    gate.resolve();
    await q.idle('a');
    expect(log).toEqual(['start 1', 'superseded 2', 'superseded 3', 'superseded 4', 'end 1', 'start 5', 'end 5']);
    expect(errors).toEqual([]);
  });

  it('keeps apps apart', async () => {
    const q = new CollapseQueue(() => undefined);
    const log: string[] = [];
    const gate = deferred();
    expect(q.submit('a', job('a1', log, gate.promise))).toBe('started');
    expect(q.submit('b', job('b1', log))).toBe('started');
    await q.idle('b');
    expect(log).toEqual(['start a1', 'start b1', 'end b1']);
    gate.resolve();
    await q.idle('a');
  });

  it('a job that throws is reported and the next one still runs', async () => {
    const errors: string[] = [];
    const q = new CollapseQueue((key, e) => errors.push(`${key}: ${(e as Error).message}`));
    const log: string[] = [];
    const gate = deferred();
    q.submit('a', {
      run: async () => {
        await gate.promise;
        throw new Error('boom');
      },
      superseded: () => undefined,
    });
    q.submit('a', job('next', log));
    gate.resolve();
    await q.idle('a');
    expect(errors).toEqual(['a: boom']);
    expect(log).toEqual(['start next', 'end next']);
    expect(q.submit('a', job('later', log))).toBe('started');
    await q.idle('a');
  });
});
