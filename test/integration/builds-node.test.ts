import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonApp } from '../fixtures/apps.js';
import { generateLockfile, REPORT_SERVER } from '../fixtures/node-apps.js';
import { AppRepo } from '../helpers/git.js';
import { httpGet } from '../helpers/http.js';
import { startTestServer, uniqueName, type TestServer } from '../helpers/server.js';

// Heroku-faithful Node builds with real packages from the npm registry. The runtime images
// these builds provision (minpaas-base/node-runtime:*) are shared caches: never removed here.
let t: TestServer;
const repos: AppRepo[] = [];

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t?.cleanup();
  for (const repo of repos) await repo.remove();
});

async function push(app: string, files: Record<string, string>): Promise<{ code: number; output: string; repo: AppRepo }> {
  const repo = await AppRepo.create(files);
  repos.push(repo);
  const result = await repo.push(t.remote(app));
  return { code: result.code, output: result.output, repo };
}

interface Report {
  node: string;
  ppid: number;
  leftPad: string | null;
  typescript: boolean;
  isNumber: boolean;
  built: string | null;
  installed: string | null;
  buildEnvFile: boolean;
}

async function report(app: string): Promise<Report> {
  const res = await httpGet(t.server.store.getApp(app)!.port);
  expect(res?.status).toBe(200);
  return JSON.parse(res!.body) as Report;
}

// left-pad ^1.0.0 would install 1.3.0 today: only a lockfile makes it 1.1.0.
const LEFT_PAD_PINNED = '1.1.0';

describe('a TypeScript app built with tsc from devDependencies (npm ci)', () => {
  const app = uniqueName('ts');
  const pkg = {
    name: 'ts-app',
    version: '1.0.0',
    scripts: {
      // Needs the full source: scripts/ is not in the dependency layer.
      postinstall: 'node scripts/postinstall.js',
      build: 'tsc -p . && node -e "require(\'fs\').writeFileSync(\'dist/built.txt\', \'tsc:\' + require(\'fs\').existsSync(\'dist/index.js\'))" && echo "build sees BUILD_SECRET=$BUILD_SECRET"',
      start: 'node server.js',
    },
    devDependencies: { typescript: '5.9.3' },
  };
  const files = {
    'package.json': JSON.stringify(pkg, null, 2),
    'tsconfig.json': JSON.stringify({ compilerOptions: { outDir: 'dist', module: 'commonjs', target: 'es2020' }, include: ['src'] }),
    'src/index.ts': 'export const answer: number = 42;\n',
    'scripts/postinstall.js': "require('fs').writeFileSync('postinstall.txt', 'ran with source');\n",
    'server.js': REPORT_SERVER,
  };

  it('installs devDependencies, runs postinstall with the source, builds, prunes, and serves on the LTS line', async () => {
    const lock = await generateLockfile(files, 'npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], 'package-lock.json');
    const result = await push(app, { ...files, 'package-lock.json': lock });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/remote: -----> Using Node 26\.\d+\.\d+, npm \d+\.\d+\.\d+/);
    expect(result.output).toContain('remote: -----> Installing dependencies (npm)');
    expect(result.output).toContain('remote: -----> Running build (npm run build)');
    expect(result.output).toContain('remote: -----> Pruning devDependencies');
    const r = await report(app);
    expect(r.node).toMatch(/^v26\./);
    expect(r.built).toBe('tsc:true');
    expect(r.installed).toBe('ran with source');
    // Pruned after the build: the compiler is not in the running image.
    expect(r.typescript).toBe(false);
  });

  it('config reaches the build, and neither the file nor the value is in the final image or its history', async () => {
    const secret = `s3cr3t-${Math.random().toString(36).slice(2)}`;
    t.server.store.setEnv(app, { BUILD_SECRET: secret });
    const repo = repos[repos.length - 1]!;
    await repo.commit({ 'src/index.ts': 'export const answer: number = 43;\n' }, 'code change');
    const result = await repo.push(t.remote(app));
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain(`build sees BUILD_SECRET=${secret}`);
    const image = t.server.store.listReleases(app)[0]!.imageId;
    expect((await report(app)).buildEnvFile).toBe(false);
    // Every file of the image, searched for the value (the container's env is not a file).
    const found = await t.docker.runToCompletion(image, [
      'sh', '-c', `grep -rlsF "${secret}" / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev; ls -a /app; true`,
    ]);
    expect(found).not.toContain(secret);
    expect(found).not.toContain('.minpaas-build-env');
    expect(found).toContain('package.json');
    const history = await t.docker.imageHistory(image);
    expect(history.join('\n')).not.toContain(secret);
  });

  it('a code-only push reuses the install layer, kept as the one build cache of the app', async () => {
    const repo = repos[repos.length - 1]!;
    await repo.commit({ 'src/index.ts': 'export const answer: number = 44;\n' }, 'another code change');
    const result = await repo.push(t.remote(app));
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toContain('-----> Installing dependencies');
    expect(result.output).toContain('-----> Running build (npm run build)');
    // The build stage is no layer of the release image: without its own label the clean-up
    // of failed builds' leftovers (dangling, minpaas.build-layer=true) would take it and the
    // install layer under it. One cache per app: the newest replaced the older ones.
    const caches = (await t.docker.listOwnedImages(app)).filter((i) => i.buildCache);
    expect(caches).toHaveLength(1);
    expect((await t.docker.imageInfo(caches[0]!.id))?.labels['minpaas.build-layer']).toBe('false');
  });
});

describe('lockfiles of yarn and pnpm are honoured', () => {
  const base = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    version: '1.0.0',
    dependencies: { 'left-pad': LEFT_PAD_PINNED },
    ...extra,
  });

  it('yarn classic: the version yarn.lock pins, started by the Procfile web line', async () => {
    const app = uniqueName('yarn');
    const pinned = { 'package.json': JSON.stringify(base('yarn-app')) };
    let lock = await generateLockfile(pinned, 'npx', ['-y', 'yarn@1.22.22', 'install', '--ignore-scripts', '--non-interactive'], 'yarn.lock');
    // The manifest asks for ^1.0.0; the lockfile (a real yarn lockfile, its entry renamed) pins 1.1.0.
    lock = lock.replace(`left-pad@${LEFT_PAD_PINNED}:`, 'left-pad@^1.0.0:');
    const result = await push(app, {
      'package.json': JSON.stringify(base('yarn-app', { dependencies: { 'left-pad': '^1.0.0' } })),
      'yarn.lock': lock,
      Procfile: 'web: node report.js\n',
      'report.js': REPORT_SERVER,
    });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/remote: -----> Using Node \d+\.\d+\.\d+, npm \S+, yarn 1\.\d+\.\d+/);
    expect(result.output).toContain('remote: -----> Procfile: web runs `node report.js`');
    const r = await report(app);
    expect(r.leftPad).toBe(LEFT_PAD_PINNED);
    // bash replaced itself with the app: its parent is the container's init (PID 1), which
    // hands it the SIGTERM of a stop.
    expect(r.ppid).toBe(1);
  });

  it('yarn 4 (berry): immutable install of what yarn.lock pins, devDependencies pruned', async () => {
    const app = uniqueName('berry');
    const yarnrc = 'nodeLinker: node-modules\nenableTelemetry: false\n';
    const manifest = (leftPad: string) =>
      JSON.stringify(base('berry-app', { dependencies: { 'left-pad': leftPad }, devDependencies: { 'is-number': '7.0.0' }, packageManager: 'yarn@4.18.1' }));
    let lock = await generateLockfile(
      { 'package.json': manifest(LEFT_PAD_PINNED), '.yarnrc.yml': yarnrc },
      'npx',
      ['-y', '-p', '@yarnpkg/cli-dist@4.18.1', 'yarn', 'install', '--mode=update-lockfile'],
      'yarn.lock',
    );
    // The entry's key and the workspace's descriptor say ^1.0.0; the resolution stays 1.1.0.
    lock = lock.replace(`"left-pad@npm:${LEFT_PAD_PINNED}":`, '"left-pad@npm:^1.0.0":').replace(`left-pad: "npm:${LEFT_PAD_PINNED}"`, 'left-pad: "npm:^1.0.0"');
    expect(lock).toContain(`resolution: "left-pad@npm:${LEFT_PAD_PINNED}"`);
    const result = await push(app, { 'package.json': manifest('^1.0.0'), '.yarnrc.yml': yarnrc, 'yarn.lock': lock, 'server.js': REPORT_SERVER });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/remote: -----> Using Node \d+\.\d+\.\d+, npm \S+, yarn 4\.18\.1/);
    expect(result.output).toContain('remote: -----> Pruning devDependencies');
    const r = await report(app);
    expect(r.leftPad).toBe(LEFT_PAD_PINNED);
    expect(r.isNumber).toBe(false);
  });

  it('pnpm at the packageManager version, with engines.node selecting a provisioned Node 22', async () => {
    const app = uniqueName('pnpm');
    const pinned = { 'package.json': JSON.stringify(base('pnpm-app')) };
    let lock = await generateLockfile(pinned, 'npx', ['-y', 'pnpm@10.34.9', 'install', '--lockfile-only', '--ignore-scripts'], 'pnpm-lock.yaml');
    lock = lock.replace(`specifier: ${LEFT_PAD_PINNED}`, "specifier: ^1.0.0");
    expect(lock).toContain('specifier: ^1.0.0');
    const result = await push(app, {
      'package.json': JSON.stringify(
        base('pnpm-app', { dependencies: { 'left-pad': '^1.0.0' }, engines: { node: '22.x' }, packageManager: 'pnpm@10.34.9', scripts: { start: 'node server.js' } }),
      ),
      'pnpm-lock.yaml': lock,
      'server.js': REPORT_SERVER,
    });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/remote: -----> Using Node 22\.\d+\.\d+, npm \S+, pnpm 10\.34\.9/);
    const r = await report(app);
    expect(r.node).toMatch(/^v22\./);
    expect(r.leftPad).toBe(LEFT_PAD_PINNED);
  });
});

describe('a Procfile web line is the image command for Python too', () => {
  it('runs the Procfile command, not python app.py', async () => {
    const app = uniqueName('pyproc');
    const py = pythonApp('from the Procfile');
    const result = await push(app, {
      ...py,
      'server.py': py['app.py']!,
      'app.py': 'raise SystemExit("app.py must not run: the Procfile says server.py")\n',
      Procfile: 'web: python server.py\n',
    });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('remote: -----> Procfile: web runs `python server.py`');
    expect((await httpGet(t.server.store.getApp(app)!.port))?.body).toMatch(/^from the Procfile port=8000/);
  });
});

describe('an end-of-life Node', () => {
  it('is honoured, with a warning, on the base image that satisfies it', async () => {
    const app = uniqueName('eol');
    const result = await push(app, {
      'package.json': JSON.stringify({ name: 'x', version: '1.0.0', engines: { node: '18.x' } }),
      'server.js': REPORT_SERVER,
    });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/remote: -----> Using Node 18\.\d+\.\d+, npm \S+/);
    expect(result.output).toContain('remote:  !     Warning: Node 18 reached end-of-life on 2025-04-30');
    // No start script: npm's own default, node server.js.
    expect((await report(app)).node).toMatch(/^v18\./);
  });
});

describe('refusals before any build', () => {
  it('engines.node that no published version satisfies', async () => {
    const app = uniqueName('engines');
    const result = await push(app, {
      'package.json': JSON.stringify({ name: 'x', version: '1.0.0', engines: { node: '>=99' }, scripts: { start: 'node server.js' } }),
      'server.js': REPORT_SERVER,
    });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/remote:  !     no published Node version satisfies engines.node ">=99" \(the registry has \d+ versions, the newest \d+\.\d+\.\d+\); change engines.node/);
    expect(result.output).not.toMatch(/Step \d+\//);
  });
});
