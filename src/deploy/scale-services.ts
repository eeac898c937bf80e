import { effectiveFormation, WEB_TYPE } from '../domain/processes.js';
import { serviceName } from '../docker/index.js';
import type { DeployLog } from './deploy-log.js';
import { rolloutTimeoutMs, type SwarmRunPorts } from './run-swarm-release.js';
import type { ScalePlan, ScalePorts } from './scale.js';
import { UndoStack } from './undo.js';

/**
 * `ps:scale` of a Swarm app: each changed type's service gets its new replica count (a
 * type scaled up from nothing gets its service). Swarm starts new tasks, which join DNS
 * once they answer, and stops those scaled away after DNS dropped them; the edge and the
 * host's router do not move. A failure scales what changed back.
 */
export async function scaleServices(ports: Omit<SwarmRunPorts, 'edges' | 'store'> & { store: ScalePorts['store'] }, plan: ScalePlan, out: DeployLog): Promise<void> {
  const { swarm, store } = ports;
  const { app, release } = plan;
  const undo = new UndoStack(ports.log.child({ app: app.name, scale: plan.changes, scheduler: 'swarm' }));
  await swarm.assertReady();
  const before = effectiveFormation(release.processTypes, store.getFormation(app.name));
  const target = effectiveFormation(release.processTypes, { ...store.getFormation(app.name), ...plan.changes });
  const existing = new Set(await swarm.typesOf(app.name));
  try {
    for (const type of Object.keys(plan.changes)) {
      const replicas = target[type] ?? 0;
      const timeout = rolloutTimeoutMs(ports.healthTimeoutMs, replicas);
      if (existing.has(type)) {
        await swarm.scale(app.name, type, release.number, replicas, timeout);
        undo.push(`scale ${serviceName(app.name, type)} back`, () => swarm.scale(app.name, type, release.number, before[type] ?? 0, timeout));
      } else {
        const web = type === WEB_TYPE;
        const image = await swarm.publish(release.imageId, release.imageTag);
        const command = web ? null : (release.processTypes[type] ?? null);
        const change = await swarm.deploy({ app: app.name, release: release.number, type, replicas, command, image, env: release.env, appPort: web ? plan.appPort : null, resources: plan.resources }, timeout);
        undo.push(`remove ${serviceName(app.name, type)}`, () => swarm.undo(change, timeout));
      }
      out.step(`${serviceName(app.name, type)}: ${replicas} task(s) running`);
    }
    store.commitScale(app.name, plan.changes, store.listProcesses(app.name), plan.deployId, release.number);
  } catch (err) {
    await undo.runAll();
    throw err;
  }
}
