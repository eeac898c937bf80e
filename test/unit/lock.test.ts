import { describe, expect, it } from 'vitest';
import { DeployLocks } from '../../src/deploy/lock.js';

describe('deploy locks', () => {
  it('serialises waiters in order and tells them they wait', async () => {
    const locks = new DeployLocks();
    const order: string[] = [];
    const first = await locks.acquire('a');
    let waited = 0;
    const second = locks.acquire('a', () => waited++).then((unlock) => {
      order.push('second');
      unlock();
    });
    const third = locks.acquire('a', () => waited++).then((unlock) => {
      order.push('third');
      unlock();
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]);
    expect(waited).toBe(2);
    first();
    await Promise.all([second, third]);
    expect(order).toEqual(['second', 'third']);
    locks.tryAcquire('a')(); // free again: no 409
  });

  it('tryAcquire gives a 409 while a deploy holds or waits for the lock', async () => {
    const locks = new DeployLocks();
    const unlock = locks.tryAcquire('a');
    expect(() => locks.tryAcquire('a')).toThrow(/already running/);
    const other = locks.tryAcquire('b');
    other();
    const waiter = locks.acquire('a');
    unlock();
    // The waiter is next in line: nobody may slip in before it.
    expect(() => locks.tryAcquire('a')).toThrow(expect.objectContaining({ status: 409 }));
    (await waiter)();
    locks.tryAcquire('a')();
  });

  it('unlocking twice is harmless', async () => {
    const locks = new DeployLocks();
    const unlock = await locks.acquire('a');
    unlock();
    unlock();
    locks.tryAcquire('a')(); // free again: no 409
  });
});
