import { describe, expect, it } from 'vitest';
import { parseArgs, parseAssignments, parseLineCount, parseReleaseNumber, UsageError, type FlagSpec } from '../../src/cli/args.js';

const SPECS: FlagSpec[] = [
  { name: 'repo', value: true, description: '' },
  { name: 'tail', short: 'n', value: true, description: '' },
  { name: 'follow', short: 'f', value: false, description: '' },
  { name: 'json', value: false, description: '' },
];

describe('parseArgs', () => {
  it('separates positionals and flags in any order', () => {
    expect(parseArgs(['app', '--repo', 'http://x/y.git', '-f', 'more', '--json'], SPECS)).toEqual({
      positionals: ['app', 'more'],
      flags: { repo: 'http://x/y.git', follow: true, json: true },
    });
  });

  it('takes --flag=value, -n 5, -n5 and -n=5', () => {
    expect(parseArgs(['--repo=http://h/a=b'], SPECS).flags).toEqual({ repo: 'http://h/a=b' });
    expect(parseArgs(['-n', '5'], SPECS).flags).toEqual({ tail: '5' });
    expect(parseArgs(['-n5'], SPECS).flags).toEqual({ tail: '5' });
    expect(parseArgs(['-n=5'], SPECS).flags).toEqual({ tail: '5' });
    expect(parseArgs(['--tail', '7'], SPECS).flags).toEqual({ tail: '7' });
  });

  it('treats everything after -- as positionals', () => {
    expect(parseArgs(['app', '--', '--json', '-f'], SPECS)).toEqual({ positionals: ['app', '--json', '-f'], flags: {} });
  });

  it('refuses unknown options, missing values, values on switches and repeats', () => {
    expect(() => parseArgs(['--nope'], SPECS)).toThrow(UsageError);
    expect(() => parseArgs(['-x'], SPECS)).toThrow(/unknown option -x/);
    expect(() => parseArgs(['--repo'], SPECS)).toThrow(/--repo needs a value/);
    expect(() => parseArgs(['--json=1'], SPECS)).toThrow(/takes no value/);
    expect(() => parseArgs(['--repo', 'a', '--repo', 'b'], SPECS)).toThrow(/more than once/);
  });

  it('a value flag takes the next word even when it starts with a dash', () => {
    expect(parseArgs(['--repo', '-weird'], SPECS).flags).toEqual({ repo: '-weird' });
  });
});

describe('parseReleaseNumber', () => {
  it('accepts v3, V3 and 3', () => {
    expect(parseReleaseNumber('v3')).toBe(3);
    expect(parseReleaseNumber('V12')).toBe(12);
    expect(parseReleaseNumber('3')).toBe(3);
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'v', 'v0', '0', '-1', '3.5', 'latest', 'v3x']) expect(() => parseReleaseNumber(bad)).toThrow(UsageError);
  });
});

describe('parseLineCount', () => {
  it('accepts whole numbers only', () => {
    expect(parseLineCount('0')).toBe(0);
    expect(parseLineCount('250')).toBe(250);
    expect(() => parseLineCount('-5')).toThrow(UsageError);
    expect(() => parseLineCount('ten')).toThrow(UsageError);
  });
});

describe('parseAssignments', () => {
  it('splits at the first =, so values may contain = and be empty', () => {
    expect(parseAssignments(['A=1', 'URL=postgres://u:p@h/db?x=y', 'EMPTY='])).toEqual({ A: '1', URL: 'postgres://u:p@h/db?x=y', EMPTY: '' });
  });

  it('refuses pairs without a name or =, and repeated names', () => {
    expect(() => parseAssignments(['NOVALUE'])).toThrow(/not KEY=value/);
    expect(() => parseAssignments(['=x'])).toThrow(/not KEY=value/);
    expect(() => parseAssignments(['A=1', 'A=2'])).toThrow(/more than once/);
  });
});
