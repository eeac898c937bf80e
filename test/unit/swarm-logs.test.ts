import { describe, expect, it } from 'vitest';
import { LineRewriter, parseDetailedLine, prefixed } from '../../src/runner/swarm-logs.js';

/** Service log lines: whose task each is (Docker's details), prefixed, rewritten line by line. */

describe('parseDetailedLine', () => {
  it('takes the task id from the details and keeps the message', () => {
    expect(parseDetailedLine('com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=abc123 listening on 5000')).toEqual({
      task: 'abc123',
      text: 'listening on 5000',
    });
  });
  it('finds the task id wherever it sits among the details', () => {
    expect(parseDetailedLine('com.docker.swarm.task.id=t9,com.docker.swarm.node.id=n1 hello')).toEqual({ task: 't9', text: 'hello' });
  });
  it('keeps spaces and `=` of the message', () => {
    expect(parseDetailedLine('com.docker.swarm.task.id=t1 GET /?a=b&c=d  status=200 took 3 ms')).toEqual({ task: 't1', text: 'GET /?a=b&c=d  status=200 took 3 ms' });
    expect(parseDetailedLine('com.docker.swarm.task.id=t1 x=1 com.docker.swarm.task.id=zzz')).toEqual({ task: 't1', text: 'x=1 com.docker.swarm.task.id=zzz' });
  });
  it('an empty message is an empty line', () => {
    expect(parseDetailedLine('com.docker.swarm.task.id=t1 ')).toEqual({ task: 't1', text: '' });
    expect(parseDetailedLine('com.docker.swarm.task.id=t1')).toEqual({ task: 't1', text: '' });
  });
  it('a line without details has no task and stays as it is', () => {
    expect(parseDetailedLine('plain line with task.id=t1 in it')).toEqual({ task: null, text: 'plain line with task.id=t1 in it' });
    expect(parseDetailedLine('')).toEqual({ task: null, text: '' });
  });
});

describe('prefixed', () => {
  it('names the replica, or says task when it is not known', () => {
    expect(prefixed('web.2', 'hello')).toBe('[web.2] hello');
    expect(prefixed(null, 'hello')).toBe('[task] hello');
  });
});

function rewrite(chunks: string[]): Promise<string[]> {
  const lines: string[] = [];
  const w = new LineRewriter((line) => lines.push(line));
  return new Promise((resolve, reject) => {
    w.on('finish', () => resolve(lines));
    w.on('error', reject);
    for (const c of chunks) w.write(Buffer.from(c));
    w.end();
  });
}

describe('LineRewriter', () => {
  it('hands over each complete line', async () => {
    expect(await rewrite(['a\nb\n'])).toEqual(['a', 'b']);
  });
  it('joins a line split across chunks', async () => {
    expect(await rewrite(['hel', 'lo wor', 'ld\nsec', 'ond\n'])).toEqual(['hello world', 'second']);
  });
  it('hands over the last partial line at the end, and nothing more', async () => {
    expect(await rewrite(['one\ntw', 'o'])).toEqual(['one', 'two']);
    expect(await rewrite(['one\n'])).toEqual(['one']);
    expect(await rewrite([])).toEqual([]);
  });
  it('keeps empty lines between others', async () => {
    expect(await rewrite(['a\n\nb\n'])).toEqual(['a', '', 'b']);
  });
});

describe('LineRewriter and multi-byte characters', () => {
  it('decodes a character cut between two chunks whole', async () => {
    const bytes = Buffer.from('café\n');
    const lines: string[] = [];
    const w = new LineRewriter((line) => lines.push(line));
    await new Promise<void>((resolve) => {
      w.on('finish', resolve);
      w.write(bytes.subarray(0, 4));
      w.write(bytes.subarray(4));
      w.end();
    });
    expect(lines).toEqual(['café']);
  });
});
