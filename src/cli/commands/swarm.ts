import type { AppRecord } from '../../domain/types.js';
import type { SwarmNode } from '../../runner/swarm-types.js';
import { appPath } from '../client.js';
import { printJson, type Command } from '../command.js';
import { renderTable } from '../table.js';

function nodeChange(verb: 'drain' | 'activate', summary: string, done: string): Command {
  return {
    name: `nodes:${verb}`,
    args: 'NODE',
    summary,
    min: 1,
    max: 1,
    async run({ api, io, json, positionals }) {
      const node = await api().json<SwarmNode>('POST', `/nodes/${encodeURIComponent(positionals[0]!)}/${verb}`);
      if (json) printJson(io, node);
      else io.out(`${node.hostname} (${node.id.slice(0, 12)}) ${done}: availability ${node.availability}, ${node.tasks} task(s) running\n`);
      return 0;
    },
  };
}

/** Where apps run (issue 14): the scheduler of an app, and the swarm's nodes. */
export const swarmCommands: Command[] = [
  {
    name: 'scheduler:set',
    args: 'APP docker-local|swarm',
    summary: 'run the app on this engine (docker-local, the default) or on the Docker Swarm; a running app moves with no failed request',
    min: 2,
    max: 2,
    async run({ api, io, json, positionals }) {
      const [name, scheduler] = positionals as [string, string];
      const app = await api().json<AppRecord>('PUT', `${appPath(name)}/scheduler`, { scheduler });
      if (json) printJson(io, app);
      else io.out(app.release === null ? `${app.name} will run on ${app.scheduler} (from its first deploy).\n` : `${app.name} runs on ${app.scheduler} now (v${app.release}).\n`);
      return 0;
    },
  },
  {
    name: 'nodes',
    args: '',
    summary: "the swarm's nodes: role, availability, state and running tasks",
    min: 0,
    max: 0,
    async run({ api, io, json }) {
      const nodes = await api().json<SwarmNode[]>('GET', '/nodes');
      if (json) printJson(io, nodes);
      else {
        const rows = nodes.map((n) => [n.id.slice(0, 12), n.hostname, n.role + (n.leader ? ' (leader)' : ''), n.availability, n.state, String(n.tasks), n.address ?? '']);
        io.out(renderTable(['ID', 'HOSTNAME', 'ROLE', 'AVAILABILITY', 'STATE', 'TASKS', 'ADDRESS'], rows));
      }
      return 0;
    },
  },
  nodeChange('drain', "move this installation's tasks off a node (rolling, no failed request), then drain it", 'drained'),
  nodeChange('activate', 'let a drained node take tasks again', 'is active'),
];
