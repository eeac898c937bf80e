import autocannon from 'autocannon';
import type { Autocannon, AutocannonInstance, AutocannonResult } from './autocannon.js';

/**
 * autocannon (10 connections) on an app's port for as long as `op` takes (capped at
 * `capSeconds`), starting half a second before it and stopping `settleMs` after.
 */
export async function underLoad(port: number, op: () => Promise<void>, opts: { settleMs?: number; capSeconds?: number } = {}): Promise<AutocannonResult> {
  const run = autocannon as unknown as Autocannon;
  let instance!: AutocannonInstance;
  const loaded = new Promise<AutocannonResult>((resolve, reject) => {
    instance = run({ url: `http://127.0.0.1:${port}`, connections: 10, duration: opts.capSeconds ?? 120 }, (err, result) => (err ? reject(err) : resolve(result)));
  });
  try {
    await new Promise((r) => setTimeout(r, 500));
    await op();
    await new Promise((r) => setTimeout(r, opts.settleMs ?? 500));
  } finally {
    instance.stop();
  }
  return loaded;
}
