import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppRepo, run } from '../helpers/git.js';
import { eventually, httpGet } from '../helpers/http.js';
import { startRegistry, type LocalRegistry } from '../helpers/registry.js';
import { startTestServer, uniqueName, type TestServer } from '../helpers/server.js';
import { servicesNamed, singleNodeSwarm } from '../helpers/swarm.js';

/**
 * MINPAAS_REGISTRY with a real registry (Debian's docker-registry, run by the test): the
 * services run the pushed reference every node can pull, retention deletes old tags in
 * the registry as it removes the local images, and a rollback to a pruned release is
 * refused as on docker-local.
 */

function webApp(version: string): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name: 'reg-app', version: '1.0.0', scripts: { start: 'node server.js' } }),
    'server.js': `require('http').createServer((req, res) => res.end('${version}\\n')).listen(Number(process.env.PORT));\n`,
  };
}

describe('swarm apps with MINPAAS_REGISTRY', () => {
  let registry: LocalRegistry;
  let t: TestServer;
  let repo: AppRepo;
  let swarm: Awaited<ReturnType<typeof singleNodeSwarm>>;
  const app = uniqueName('reg');

  beforeAll(async () => {
    swarm = await singleNodeSwarm();
    registry = await startRegistry();
    t = await startTestServer({ MINPAAS_REGISTRY: registry.address, MINPAAS_DEFAULT_SCHEDULER: 'swarm', MINPAAS_KEEP_RELEASES: '1' });
    repo = await AppRepo.create(webApp('v1'));
  }, 120_000);

  afterAll(async () => {
    await t?.cleanup();
    await repo?.remove();
    expect(await servicesNamed(`${app}-`)).toEqual([]);
    await registry?.stop();
    await swarm?.restore();
  }, 180_000);

  it('pushes each build to the registry and runs the pushed reference', async () => {
    const push = await repo.push(t.remote(app));
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toContain(`Pushed ${registry.address}/minpaas/${app}:v1`);
    const record = (await t.api('GET', `/apps/${app}`)).json;
    expect(record.scheduler).toBe('swarm');
    expect((await httpGet(record.port as number, '/'))?.body).toBe('v1\n');
    const image = await run('docker', ['service', 'inspect', `${app}-web`, '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}']);
    // Pinned to the pushed digest: every node runs exactly that image.
    expect(image.stdout.trim()).toMatch(new RegExp(`^${registry.address}/minpaas/${app}:v1@sha256:[0-9a-f]{64}$`));
    expect(await registry.tags(`minpaas/${app}`)).toEqual(['v1']);
  }, 300_000);

  it('retention drops the old tag from the registry too; a rollback pushes the image again', async () => {
    await repo.commit(webApp('v2'), 'v2');
    const push = await repo.push(t.remote(app));
    if (push.code !== 0) console.log((await run('docker', ['service', 'ps', '--no-trunc', `${app}-web`])).stdout);
    expect(push.code, push.stderr).toBe(0);
    const port = (await t.api('GET', `/apps/${app}`)).json.port as number;
    expect((await httpGet(port, '/'))?.body).toBe('v2\n');
    // Retention runs once the deploy settled, right after the push is answered.
    await eventually(async () => expect(await registry.tags(`minpaas/${app}`)).toEqual(['v2']), 30_000, 250);
    // v1's image outlives its tags while Swarm's task history holds its stopped container:
    // a rollback to it publishes it again, for every node to pull.
    const back = await t.api('POST', `/apps/${app}/rollback`, { release: 1 });
    expect(back.status, JSON.stringify(back.json)).toBe(200);
    expect((await httpGet(port, '/'))?.body).toBe('v1\n');
    expect(await registry.tags(`minpaas/${app}`)).toEqual(['v1', 'v2']);
  }, 300_000);
});
