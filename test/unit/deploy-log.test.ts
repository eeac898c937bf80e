import { describe, expect, it } from 'vitest';
import { DeployLog } from '../../src/deploy/deploy-log.js';

describe('the deploy log', () => {
  it('keeps the last lines, so a failure at the end of a long build is in the history', () => {
    const seen: string[] = [];
    const log = new DeployLog((line) => seen.push(line), 100);
    for (let i = 1; i <= 1000; i++) log.write(`line ${i}`);
    log.fail('build failed: step 9');
    const lines = log.text().trimEnd().split('\n');
    expect(lines).toHaveLength(101);
    expect(lines[0]).toBe('       (901 earlier lines not kept)');
    expect(lines[1]).toBe('line 902');
    expect(lines.at(-1)).toBe(' !     build failed: step 9');
    // The live sink still saw every line.
    expect(seen).toHaveLength(1001);
    expect(log.tail(2)).toEqual(['line 1000', ' !     build failed: step 9']);
  });

  it('says nothing about dropped lines when none were', () => {
    const log = new DeployLog(undefined, 100);
    log.step('Building image');
    expect(log.text()).toBe('-----> Building image\n');
  });
});
