import { describe, expect, it } from 'vitest';
import { appInfo, appsTable } from '../../src/cli/commands/apps.js';
import { configText } from '../../src/cli/commands/config.js';
import { releasesTable } from '../../src/cli/commands/releases.js';
import { formatRelease, formatTime, formatValue, listWords, renderPairs, renderTable } from '../../src/cli/table.js';
import type { AppRecord, ReleaseRecord } from '../../src/domain/types.js';

const app = (over: Partial<AppRecord> = {}): AppRecord => ({
  name: 'hello',
  runtime: 'node',
  builder: 'platform',
  scheduler: 'docker-local',
  repo: null,
  branch: null,
  container: 'minpaas-hello-v2',
  image: 'minpaas/hello:v2',
  port: 12345,
  url: 'http://127.0.0.1:12345',
  env: { B: '2', A: '1' },
  release: 2,
  status: 'running',
  restarts: 0,
  resources: { memory: '512m', cpus: 1 },
  createdAt: '2024-05-01T12:00:03.123Z',
  updatedAt: '2024-05-01T12:10:00.000Z',
  ...over,
});

describe('renderTable', () => {
  it('aligns columns with two spaces and pads no last column', () => {
    expect(renderTable(['NAME', 'X'], [['a', '1'], ['longer', '22']])).toBe('NAME    X\na       1\nlonger  22\n');
  });

  it('keeps rows on one line and tolerates missing cells', () => {
    expect(renderTable(['A', 'B', 'C'], [['x\ny', ''], ['z']])).toBe('A    B  C\nx⏎y\nz\n');
  });
});

describe('renderPairs', () => {
  it('aligns values after the keys', () => {
    expect(renderPairs([['Name', 'a'], ['Runtime', 'node']])).toBe('Name:     a\nRuntime:  node\n');
  });
});

describe('formatting', () => {
  it('formats times in UTC without milliseconds', () => {
    expect(formatTime('2024-05-01T12:00:03.123Z')).toBe('2024-05-01 12:00:03 UTC');
    expect(formatTime(null)).toBe('-');
    expect(formatTime('yesterday')).toBe('yesterday');
  });

  it('formats releases, values and word lists', () => {
    expect(formatRelease(3)).toBe('v3');
    expect(formatRelease(null)).toBe('-');
    expect(formatValue('plain')).toBe('plain');
    expect(formatValue('two\nlines')).toBe('"two\\nlines"');
    expect(listWords(['A'])).toBe('A');
    expect(listWords(['A', 'B', 'C'])).toBe('A, B and C');
  });
});

describe('command tables', () => {
  it('apps: NAME RUNTIME RELEASE STATUS URL', () => {
    const text = appsTable([app(), app({ name: 'api-two', runtime: 'python', release: null, status: 'stopped', url: 'http://127.0.0.1:2' })]);
    expect(text).toBe(
      [
        'NAME     RUNTIME  RELEASE  STATUS   URL',
        'hello    node     v2       running  http://127.0.0.1:12345',
        'api-two  python   -        stopped  http://127.0.0.1:2',
        '',
      ].join('\n'),
    );
  });

  it('apps:info lists the record, config var names only', () => {
    const text = appInfo(app());
    expect(text).toContain('Name:         hello\n');
    expect(text).toContain('Config vars:  A, B\n');
    expect(text).toContain('Repo:         (git push)\n');
    expect(text).toContain('Created:      2024-05-01 12:00:03 UTC\n');
  });

  it('releases: VERSION KIND DESCRIPTION CREATED', () => {
    const release = (number: number, kind: ReleaseRecord['kind'], description: string): ReleaseRecord => ({
      app: 'hello',
      number,
      image: 'i',
      imageId: 'sha',
      processTypes: { web: 'npm start' },
      listenPort: null,
      env: {},
      commit: null,
      kind,
      description,
      createdAt: '2024-05-01T12:00:00Z',
    });
    expect(releasesTable([release(2, 'config', 'Config change A'), release(1, 'build', 'Deploy abc1234')])).toBe(
      [
        'VERSION  KIND    DESCRIPTION      CREATED',
        'v2       config  Config change A  2024-05-01 12:00:00 UTC',
        'v1       build   Deploy abc1234   2024-05-01 12:00:00 UTC',
        '',
      ].join('\n'),
    );
  });

  it('config: sorted KEY: value lines, or a sentence when empty', () => {
    expect(configText('hello', { B: 'x=y', A: 'multi\nline' })).toBe('A:  "multi\\nline"\nB:  x=y\n');
    expect(configText('hello', {})).toBe('hello has no config vars.\n');
  });
});
