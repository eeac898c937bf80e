import { describe, expect, it } from 'vitest';
import { detectRuntime, memoryFiles, resolveRuntime } from '../../src/runtimes/index.js';

const nodeApp = { 'package.json': JSON.stringify({ scripts: { start: 'node server.js' } }), 'server.js': '' };
const pythonApp = { 'app.py': 'print(1)', 'requirements.txt': '' };

describe('runtime detection (first match wins)', () => {
  it('detects node by package.json', async () => expect((await detectRuntime(memoryFiles(nodeApp)))?.name).toBe('node'));
  it('detects python by app.py', async () => expect((await detectRuntime(memoryFiles({ 'app.py': '' })))?.name).toBe('python'));
  it('detects python by requirements.txt', async () =>
    expect((await detectRuntime(memoryFiles({ 'requirements.txt': '' })))?.name).toBe('python'));
  it('prefers node when both are present', async () =>
    expect((await detectRuntime(memoryFiles({ ...pythonApp, ...nodeApp })))?.name).toBe('node'));
  it('finds nothing in an unrelated tree', async () => expect(await detectRuntime(memoryFiles({ 'README.md': '' }))).toBeUndefined());
  it('ignores a Dockerfile', async () =>
    expect((await detectRuntime(memoryFiles({ Dockerfile: 'FROM x', ...pythonApp })))?.name).toBe('python'));
});

describe('runtime contracts', () => {
  it('accepts valid apps with their container ports', async () => {
    expect((await resolveRuntime(memoryFiles(nodeApp))).appPort).toBe(3000);
    expect((await resolveRuntime(memoryFiles(pythonApp))).appPort).toBe(8000);
  });

  it('python without requirements.txt names the file and the rule', async () => {
    await expect(resolveRuntime(memoryFiles({ 'app.py': '' }))).rejects.toThrow(
      'python runtime needs requirements.txt (it may be empty)',
    );
  });

  it('python without app.py names it', async () => {
    await expect(resolveRuntime(memoryFiles({ 'requirements.txt': '' }))).rejects.toThrow(/python runtime needs app.py/);
  });

  it('node without a start script names the rule', async () => {
    await expect(resolveRuntime(memoryFiles({ 'package.json': '{"name":"x"}' }))).rejects.toThrow(/needs a "start" script/);
  });

  it('node with broken package.json says so', async () => {
    await expect(resolveRuntime(memoryFiles({ 'package.json': '{nope' }))).rejects.toThrow(/could not parse package.json/);
  });

  it('no app at all: a 422 that says what is needed', async () => {
    await expect(resolveRuntime(memoryFiles({}))).rejects.toMatchObject({ status: 422, message: expect.stringMatching(/package.json/) });
  });

  it('a declared runtime must match the files', async () => {
    await expect(resolveRuntime(memoryFiles(nodeApp), 'python')).rejects.toThrow(/declared as python; its files look like a node app/);
    expect((await resolveRuntime(memoryFiles(pythonApp), 'python')).name).toBe('python');
  });
});
