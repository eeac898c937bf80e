import { describe, expect, it } from 'vitest';
import { parsePipIndexUrl, pipBuildArgs } from '../../src/build/pip-index.js';
import { planBuild } from '../../src/deploy/build-plan.js';
import type { AppRow } from '../../src/domain/types.js';
import { memoryFiles } from '../../src/runtimes/index.js';

const app = { name: 'web', runtime: 'node', builder: 'platform' } as AppRow;
const node = { 'package.json': JSON.stringify({ scripts: { start: 'node server.js' } }) };

describe('build plans', () => {
  it('the platform build: runtime port, web from the runtime default, Procfile types kept', async () => {
    const plan = await planBuild(memoryFiles({ ...node, Procfile: 'worker: node worker.js\n' }), app, 'platform');
    expect(plan).toMatchObject({ builder: 'platform', listenPort: 3000, procfileWeb: undefined, dockerfile: undefined, detected: 'Detected node app' });
    expect(plan.processTypes).toEqual({ web: 'npm start', worker: 'node worker.js' });
    const py = await planBuild(memoryFiles({ 'requirements.txt': '', Procfile: 'web: gunicorn app:app\n' }), app, 'platform');
    expect(py).toMatchObject({ listenPort: 8000, procfileWeb: 'gunicorn app:app', processTypes: { web: 'gunicorn app:app' } });
    expect((await planBuild(memoryFiles({ 'requirements.txt': '', 'app.py': '' }), app, 'platform')).processTypes).toEqual({ web: 'python app.py' });
  });

  it('warns about what the build ignores', async () => {
    const plan = await planBuild(memoryFiles({ 'requirements.txt': '', 'pyproject.toml': '', 'app.py': '', '.python-version': '3.11', 'runtime.txt': 'python-3.9.1', Dockerfile: 'FROM x' }), app, 'platform');
    expect(plan.warnings).toEqual([
      'the Dockerfile in the repository is ignored: the platform builds this app (to build it instead: minpaas builder:set APP dockerfile)',
      'runtime.txt is ignored: .python-version decides the Python version (delete runtime.txt)',
      'pyproject.toml is not installed: requirements.txt is (as Heroku does); delete requirements.txt to install the project',
    ]);
  });

  it("the app's Dockerfile: its first EXPOSE port (else 5000), its CMD as web unless the Procfile has one", async () => {
    const files = { ...node, Dockerfile: 'FROM x\nEXPOSE 8080 9090\nCMD ["node", "s.js"]\n' };
    const plan = await planBuild(memoryFiles(files), app, 'dockerfile');
    expect(plan).toMatchObject({ builder: 'dockerfile', listenPort: 8080, processTypes: { web: 'node s.js' }, procfileWeb: undefined });
    expect(plan.runtime.name).toBe('node');
    expect(plan.warnings).toEqual(['the Dockerfile exposes 8080, 9090: $PORT is 8080, the first one, and only it is served']);
    const bare = await planBuild(memoryFiles({ Dockerfile: 'FROM x\n', Procfile: 'web: ./serve\n' }), app, 'dockerfile');
    expect(bare).toMatchObject({ listenPort: 5000, procfileWeb: './serve', processTypes: { web: './serve' } });
    expect(bare.runtime.name).toBe('node');
  });

  it('refuses a Dockerfile build without a Dockerfile, and a broken Procfile for either builder', async () => {
    await expect(planBuild(memoryFiles(node), app, 'dockerfile')).rejects.toThrow(/no Dockerfile at its top level; add one, or switch back with: minpaas builder:set web platform/);
    for (const builder of ['platform', 'dockerfile'] as const) {
      await expect(planBuild(memoryFiles({ ...node, Dockerfile: 'FROM x', Procfile: 'web: a\nweb: b\n' }), app, builder)).rejects.toThrow(/Procfile line 2: process type web is defined twice/);
    }
  });
});

describe('MINPAAS_PIP_INDEX_URL', () => {
  it('accepts http(s) URLs; a plain-http host is also trusted', () => {
    expect(parsePipIndexUrl(undefined)).toBeUndefined();
    expect(parsePipIndexUrl(' ')).toBeUndefined();
    expect(parsePipIndexUrl('https://pypi.example/simple')).toBe('https://pypi.example/simple');
    expect(pipBuildArgs('https://pypi.example/simple')).toEqual({ PIP_INDEX_URL: 'https://pypi.example/simple' });
    expect(pipBuildArgs('http://172.17.0.1:8080/simple/')).toEqual({ PIP_INDEX_URL: 'http://172.17.0.1:8080/simple/', PIP_TRUSTED_HOST: '172.17.0.1' });
  });

  it('refuses anything else with the setting named', () => {
    expect(() => parsePipIndexUrl('file:///etc/passwd')).toThrow(/MINPAAS_PIP_INDEX_URL must be an http\(s\) URL/);
    expect(() => parsePipIndexUrl('not a url')).toThrow(/MINPAAS_PIP_INDEX_URL/);
  });
});
