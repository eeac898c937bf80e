import { describe, expect, it } from 'vitest';
import { detectRuntime, memoryFiles, resolveRuntime } from '../../src/runtimes/index.js';

const nodeApp = { 'package.json': JSON.stringify({ scripts: { start: 'node server.js' } }), 'server.js': '' };
const pythonApp = { 'app.py': 'print(1)', 'requirements.txt': '' };

describe('runtime detection (first match wins)', () => {
  it('detects node by package.json', async () => expect((await detectRuntime(memoryFiles(nodeApp)))?.name).toBe('node'));
  it('does not take an app.py alone for a python app (Heroku needs requirements.txt or pyproject.toml)', async () =>
    expect(await detectRuntime(memoryFiles({ 'app.py': '' }))).toBeUndefined());
  it('detects python by pyproject.toml', async () =>
    expect((await detectRuntime(memoryFiles({ 'pyproject.toml': '[project]\nname = "x"\n' })))?.name).toBe('python'));
  it.each(['python server.py', 'python3 -m http.server $PORT', 'gunicorn app:app', 'uvicorn main:app --port $PORT'])(
    'detects python by a Procfile web: %s',
    async (web) => expect((await detectRuntime(memoryFiles({ Procfile: `web: ${web}\n` })))?.name).toBe('python'),
  );
  it('a Procfile web that is not python decides nothing', async () =>
    expect(await detectRuntime(memoryFiles({ Procfile: 'web: ./run.sh\n' }))).toBeUndefined());
  it('a python Procfile wins over a package.json (assets of a python app)', async () =>
    expect((await detectRuntime(memoryFiles({ ...nodeApp, Procfile: 'web: gunicorn app:app\n', 'requirements.txt': '' })))?.name).toBe('python'));
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

  it('an app.py without requirements.txt says to add one', async () => {
    await expect(resolveRuntime(memoryFiles({ 'app.py': '' }))).rejects.toThrow(
      /app.py alone is not enough: add a requirements.txt \(it may be empty\)/,
    );
  });

  it('python without a Procfile web and without app.py names both ways to start', async () => {
    await expect(resolveRuntime(memoryFiles({ 'requirements.txt': '' }))).rejects.toThrow(
      /python app needs a Procfile with a "web:" line .* or an app.py/,
    );
  });

  it('python with a Procfile web needs no app.py', async () => {
    expect((await resolveRuntime(memoryFiles({ 'requirements.txt': '', Procfile: 'web: gunicorn wsgi:app\n' }))).name).toBe('python');
    expect((await resolveRuntime(memoryFiles({ Procfile: 'web: python server.py\n' }))).name).toBe('python');
  });

  it('a Procfile that names a type twice is refused with its line', async () => {
    await expect(resolveRuntime(memoryFiles({ 'requirements.txt': '', Procfile: 'web: python a.py\nweb: python b.py\n' }))).rejects.toThrow(
      /Procfile line 2: process type web is defined twice/,
    );
  });

  it('node without a start script, server.js or Procfile web names the ways to start it', async () => {
    await expect(resolveRuntime(memoryFiles({ 'package.json': '{"name":"x"}' }))).rejects.toThrow(
      /does not know how to start the app: add a "start" script .* a server.js, or a Procfile with a web: line/,
    );
  });

  it('node without a start script starts as npm does: server.js, or a Procfile web line', async () => {
    await expect(resolveRuntime(memoryFiles({ 'package.json': '{"name":"x"}', 'server.js': '' }))).resolves.toBeDefined();
    await expect(resolveRuntime(memoryFiles({ 'package.json': '{"name":"x"}', Procfile: 'web: node app.js\n' }))).resolves.toBeDefined();
    await expect(resolveRuntime(memoryFiles({ 'package.json': '{"name":"x"}', Procfile: 'worker: node w.js\n' }))).rejects.toThrow(/start the app/);
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
