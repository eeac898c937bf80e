import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppRepo, run } from '../helpers/git.js';
import { eventually, httpGet } from '../helpers/http.js';
import { buildWheels, serveIndexes, type LocalIndex } from '../helpers/pypi-index.js';
import { startTestServer, uniqueName, type TestServer } from '../helpers/server.js';

// Python builds: detection by requirements.txt / pyproject.toml / Procfile, dependencies
// from a package index the test serves itself (MINPAAS_PIP_INDEX_URL), .python-version.
let t: TestServer;
let index: LocalIndex;
let wheelDirs: string[] = [];
const repos: AppRepo[] = [];

const greetSource = (version: string): string =>
  `def greet(name):\n    return "minpaas_greet ${version} greets " + name\n`;

/** A standard-library server whose answer comes from the `minpaas_greet` dependency. */
const greetingServer = `import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import minpaas_greet

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = (minpaas_greet.greet("you") + "\\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
`;

/** An in-tree PEP 517 backend: the pyproject app's build needs nothing from the index but its dependencies. */
const inTreeBackend = `import base64, hashlib, os, zipfile

NAME, VERSION = "pyproject_fixture", "0.1.0"
METADATA = "Metadata-Version: 2.1\\nName: pyproject-fixture\\nVersion: 0.1.0\\nRequires-Dist: minpaas-greet==1.2.3\\n"
WHEEL = "Wheel-Version: 1.0\\nGenerator: fixture\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = NAME + "-" + VERSION + "-py3-none-any.whl"
    info = NAME + "-" + VERSION + ".dist-info/"
    files = {info + "METADATA": METADATA, info + "WHEEL": WHEEL}
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        for path, text in files.items():
            data = text.encode()
            z.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(path + ",sha256=" + digest + "," + str(len(data)))
        record.append(info + "RECORD,,")
        z.writestr(info + "RECORD", "\\n".join(record) + "\\n")
    return name
`;

beforeAll(async () => {
  const main = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-index-main-'));
  const alt = await fs.mkdtemp(path.join(os.tmpdir(), 'minpaas-index-alt-'));
  wheelDirs = [main, alt];
  await buildWheels([{ name: 'minpaas-greet', version: '1.2.3', module: 'minpaas_greet', source: greetSource('1.2.3') }], main);
  await buildWheels([{ name: 'minpaas-greet', version: '1.2.3', module: 'minpaas_greet', source: greetSource('from-alt') }], alt);
  index = await serveIndexes({ main, alt });
  t = await startTestServer({ MINPAAS_PIP_INDEX_URL: index.url('main') });
}, 240_000);

afterAll(async () => {
  await t?.cleanup();
  await index?.close();
  for (const repo of repos) await repo.remove();
  for (const dir of wheelDirs) await fs.rm(dir, { recursive: true, force: true });
});

async function pushNew(app: string, files: Record<string, string>) {
  const repo = await AppRepo.create(files);
  repos.push(repo);
  return { repo, push: await repo.push(t.remote(app)) };
}

const body = async (app: string): Promise<string | undefined> => (await httpGet(t.server.store.getApp(app)!.port))?.body;


/** The app's build caches: its build stage's last image, kept for the next push. */
async function buildCaches(app: string): Promise<string[]> {
  return (await t.docker.listOwnedImages(app)).filter((i) => i.buildCache).map((i) => i.id);
}

describe('python apps', () => {
  it('installs requirements.txt from the package index of MINPAAS_PIP_INDEX_URL; .python-version is honoured, runtime.txt ignored with a warning', async () => {
    const app = uniqueName('py-req');
    const { push } = await pushNew(app, {
      'requirements.txt': 'minpaas-greet==1.2.3\n',
      'app.py': greetingServer,
      '.python-version': '3\n',
      'runtime.txt': 'python-2.7.18\n',
    });
    expect(push.code, push.output).toBe(0);
    expect(await body(app)).toBe('minpaas_greet 1.2.3 greets you\n');
    expect(push.output).toMatch(/remote: -----> Detected python app/);
    expect(push.output).toMatch(/remote: -----> Using Python 3\.\d+\.\d+ \(requested 3 in \.python-version\)/);
    expect(push.output).toMatch(/remote: -----> Installing dependencies from requirements.txt with pip/);
    expect(push.output).toContain('remote:  !     Warning: runtime.txt is ignored: .python-version decides the Python version');
    // Docker's own step lines are not in the output; ANSI codes neither.
    expect(push.output).not.toMatch(/Step \d+\/\d+ :|---> Running in|Removing intermediate container|Successfully built/);
    expect(push.output).not.toContain('\u001b[');
    const releases = (await t.api('GET', `/apps/${app}/releases`)).json;
    expect(releases[0]).toMatchObject({ processTypes: { web: 'python app.py' }, listenPort: 8000 });
  });

  it('a code-only push reuses the installed dependencies, also after the failed-layer clean-up; one build cache is kept, none after DELETE', async () => {
    const app = uniqueName('py-cache');
    const { repo, push } = await pushNew(app, { 'requirements.txt': 'minpaas-greet==1.2.3\n', 'app.py': greetingServer });
    expect(push.code, push.output).toBe(0);
    expect(await buildCaches(app)).toHaveLength(1);
    // What runs after every deploy (with its 10-minute grace): the build stage must survive it.
    await t.docker.pruneBuildLayers(0);
    expect(await buildCaches(app)).toHaveLength(1);
    await repo.commit({ 'app.py': greetingServer.replace('"\\n"', '" (v2)\\n"') }, 'code only');
    const second = await repo.push(t.remote(app));
    expect(second.code, second.output).toBe(0);
    expect(second.output).not.toContain('Installing dependencies');
    expect(second.output).toMatch(/remote: -----> Using Python 3\.\d+\.\d+\s/);
    expect(await body(app)).toBe('minpaas_greet 1.2.3 greets you (v2)\n');
    // New requirements: a new build cache replaces the old one.
    for (const [i, extra] of ['# one\n', '# two\n'].entries()) {
      await repo.commit({ 'requirements.txt': `minpaas-greet==1.2.3\n${extra}` }, `deps ${i}`);
      const p = await repo.push(t.remote(app));
      expect(p.code, p.output).toBe(0);
      expect(p.output).toContain('Installing dependencies');
    }
    // Old images and caches go once the old release is retired, after the push returned.
    await eventually(async () => expect(await buildCaches(app)).toHaveLength(1));
    expect((await t.api('DELETE', `/apps/${app}`)).status).toBe(200);
    expect(await buildCaches(app)).toEqual([]);
  });

  it('installs a pyproject.toml project and its dependencies from the index', async () => {
    const app = uniqueName('py-proj');
    const { push } = await pushNew(app, {
      'pyproject.toml': '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["_build"]\n\n[project]\nname = "pyproject-fixture"\nversion = "0.1.0"\ndependencies = ["minpaas-greet==1.2.3"]\n',
      '_build/backend.py': inTreeBackend,
      'app.py': greetingServer,
    });
    expect(push.code, push.output).toBe(0);
    expect(push.output).toMatch(/remote: -----> Installing the pyproject.toml project with pip/);
    expect(await body(app)).toBe('minpaas_greet 1.2.3 greets you\n');
  });

  it('refuses a .python-version the base image does not satisfy, naming what is available and the setting', async () => {
    const app = uniqueName('py-ver');
    const { push } = await pushNew(app, { 'requirements.txt': '', 'app.py': greetingServer, '.python-version': '3.4\n' });
    expect(push.code).not.toBe(0);
    expect(push.output).toMatch(/remote:  !     Python 3\.4 was requested in \.python-version, but the base image \S+ has Python 3\.\d+\.\d+ \(the only version available\)/);
    expect(push.output).toMatch(/remote:  !     Set MINPAAS_PYTHON_BASE_IMAGE to an image with Python 3\.4/);
    // The failure is shown once, not again as the error's details.
    expect(push.output.match(/Python 3\.4 was requested/g)).toHaveLength(1);
    // A failed first push keeps the app, as "failed".
    expect((await t.api('GET', `/apps/${app}`)).json).toMatchObject({ release: null, status: 'failed' });
  });

  it('a requirement the index does not have fails the push: pip\'s error once, no Docker bookkeeping, a short failure line', async () => {
    const app = uniqueName('py-missing');
    const { push } = await pushNew(app, { 'requirements.txt': 'no-such-package==1.0\n', 'app.py': greetingServer });
    expect(push.code).not.toBe(0);
    expect(push.output.match(/No matching distribution found for no-such-package==1.0/g)).toHaveLength(1);
    expect(push.output).not.toMatch(/Removing intermediate container|[^-]---> |Step \d+\/\d+ :/);
    expect(push.output).not.toContain('\u001b[');
    expect(push.output).toMatch(/remote:  !     build failed: The command '.{1,110}…' returned a non-zero code: 1/);
  });

  it('an app without a Procfile web and without app.py is a clear error before the build', async () => {
    const app = uniqueName('py-nostart');
    const { push } = await pushNew(app, { 'requirements.txt': '', 'server.py': greetingServer });
    expect(push.code).not.toBe(0);
    expect(push.output).toMatch(/python app needs a Procfile with a "web:" line .* or an app.py/);
    expect(push.output).not.toContain('Building image');
  });

  it('runs the Procfile web command (no app.py), and its worker beside it', async () => {
    const app = uniqueName('py-procfile');
    const { push } = await pushNew(app, {
      Procfile: 'web: python server.py --greeting procfile\nworker: python worker.py\n',
      'requirements.txt': 'minpaas-greet==1.2.3\n',
      'server.py': greetingServer,
      // Workers start with the release (one each by default): this one just stays up.
      'worker.py': 'import time\nwhile True:\n    time.sleep(60)\n',
    });
    expect(push.code, push.output).toBe(0);
    expect(await body(app)).toBe('minpaas_greet 1.2.3 greets you\n');
    const releases = (await t.api('GET', `/apps/${app}/releases`)).json;
    expect(releases[0].processTypes).toEqual({ web: 'python server.py --greeting procfile', worker: 'python worker.py' });
  });

  it('an app config var PIP_INDEX_URL set before the first push wins; the image keeps no build-env file', async () => {
    const app = uniqueName('py-ownindex');
    expect((await t.api('POST', '/apps', { name: app, runtime: 'python' })).status).toBe(201);
    expect((await t.api('PATCH', `/apps/${app}/config`, { PIP_INDEX_URL: index.url('alt') })).json).toMatchObject({ release: null });
    const { push } = await pushNew(app, { 'requirements.txt': 'minpaas-greet==1.2.3\n', 'app.py': greetingServer });
    expect(push.code, push.output).toBe(0);
    expect(await body(app)).toBe('minpaas_greet from-alt greets you\n');
    const image = (await t.api('GET', `/apps/${app}`)).json.image as string;
    const ls = await run('docker', ['run', '--rm', '--entrypoint', 'ls', image, '-a', '/app']);
    expect(ls.code, ls.output).toBe(0);
    expect(ls.stdout).not.toContain('.minpaas-build-env');
  });
});

