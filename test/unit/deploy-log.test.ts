import { describe, expect, it } from 'vitest';
import { DeployLog, shapeBuildLine, stripAnsi } from '../../src/deploy/deploy-log.js';

describe('deploy log', () => {
  it('strips ANSI colour and cursor codes', () => {
    expect(stripAnsi('\u001b[1;32mgreen\u001b[0m \u001b[2Kline\u001b[?25h')).toBe('green line');
    expect(stripAnsi('plain')).toBe('plain');
  });

  it('keeps a build line that is a stage or a failure, indents everything else', () => {
    expect(shapeBuildLine('-----> Installing dependencies')).toBe('-----> Installing dependencies');
    expect(shapeBuildLine(' !     Python 3.4 was requested')).toBe(' !     Python 3.4 was requested');
    expect(shapeBuildLine('\u001b[32m-----> coloured stage\u001b[0m')).toBe('-----> coloured stage');
    expect(shapeBuildLine('added 3 packages')).toBe('       added 3 packages');
  });

  it('sends clean lines to its subscribers and keeps them', () => {
    const seen: string[] = [];
    const log = new DeployLog((l) => seen.push(l));
    log.build('\u001b[31mred\u001b[0m');
    log.step('Building image');
    log.warn('runtime.txt is ignored');
    expect(seen).toEqual(['       red', '-----> Building image', ' !     Warning: runtime.txt is ignored']);
    expect(log.text()).toBe(`${seen.join('\n')}\n`);
  });

  it('a very long log keeps its last lines (where the failure is) and says how many were cut', () => {
    const log = new DeployLog();
    const total = 20_000 + 5_000;
    for (let i = 0; i < total; i++) log.write(`line ${i}`);
    const lines = log.text().trimEnd().split('\n');
    expect(lines[0]).toBe('       (5000 earlier lines cut; the last 20000 are kept)');
    expect(lines[1]).toBe('line 5000');
    expect(lines.at(-1)).toBe(`line ${total - 1}`);
    expect(lines).toHaveLength(20_000 + 1);
  });

  it("prints an error's details only when they were not just streamed", () => {
    const log = new DeployLog();
    log.build('npm ERR! missing script');
    log.build('npm ERR! exit 1');
    log.fail('build failed: returned a non-zero code: 1');
    log.detailsOnce(['npm ERR! missing script', 'npm ERR! exit 1']);
    log.detailsOnce(['app log: crashed on start']);
    expect(log.text().match(/missing script/g)).toHaveLength(1);
    expect(log.text()).toContain('       app log: crashed on start');
  });
});

describe('the deploy log', () => {
  it('keeps the last lines, so a failure at the end of a long build is in the history', () => {
    const seen: string[] = [];
    const log = new DeployLog((line) => seen.push(line), 100);
    for (let i = 1; i <= 1000; i++) log.write(`line ${i}`);
    log.fail('build failed: step 9');
    const lines = log.text().trimEnd().split('\n');
    expect(lines).toHaveLength(101);
    expect(lines[0]).toBe('       (901 earlier lines cut; the last 100 are kept)');
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
