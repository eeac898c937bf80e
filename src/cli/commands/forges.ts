import { stringFlag, UsageError } from '../args.js';
import { appPath } from '../client.js';
import { printJson, type Command, type CommandContext } from '../command.js';
import { renderPairs } from '../table.js';

type Forge = 'github' | 'gitlab';

interface ConnectAnswer {
  app: string;
  forge: Forge;
  repo: string;
  branch: string;
  hasToken: boolean;
  webhook: { url: string; contentType: string; events: string[]; secret?: string };
}

const FORGE_NAMES: Record<Forge, string> = { github: 'GitHub', gitlab: 'GitLab' };

/** Where the settings go on each forge, and how it names them. */
export function webhookInstructions(answer: ConnectAnswer): string {
  const { webhook } = answer;
  const secret = webhook.secret ?? '(not shown again: connect again for a new one)';
  if (answer.forge === 'github') {
    return [
      `Connected ${answer.app} to GitHub: ${answer.repo}, branch ${answer.branch}${answer.hasToken ? ', with a deploy token' : ''}.`,
      '',
      'On GitHub: the repository → Settings → Webhooks → Add webhook:',
      renderPairs([
        ['Payload URL', webhook.url],
        ['Content type', webhook.contentType],
        ['Secret', secret],
        ['Events', 'Let me select individual events: Pushes, Pull requests'],
      ]).replace(/^/gm, '  '),
      'The secret is shown only now. The payload URL must be reachable from GitHub (MINPAAS_PUBLIC_URL).',
      '',
    ].join('\n');
  }
  return [
    `Connected ${answer.app} to GitLab: ${answer.repo}, branch ${answer.branch}${answer.hasToken ? ', with a deploy token' : ''}.`,
    '',
    'On GitLab: the project → Settings → Webhooks → Add new webhook:',
    renderPairs([
      ['URL', webhook.url],
      ['Secret token', secret],
      ['Trigger', webhook.events.join(', ')],
    ]).replace(/^/gm, '  '),
    'The secret is shown only now. The URL must be reachable from GitLab (MINPAAS_PUBLIC_URL).',
    '',
  ].join('\n');
}

/** The deploy token, from stdin or MINPAAS_DEPLOY_TOKEN: never from the command line. */
async function readDeployToken(fromStdin: boolean, stdin: () => NodeJS.ReadableStream): Promise<string | undefined> {
  if (!fromStdin) return process.env.MINPAAS_DEPLOY_TOKEN || undefined;
  let text = '';
  for await (const chunk of stdin()) text += String(chunk);
  const token = text.split(/\r?\n/)[0]!.trim();
  if (!token) throw new UsageError('--deploy-token-stdin: stdin held no token');
  return token;
}

function connectCommand(forge: Forge, stdin: () => NodeJS.ReadableStream): Command {
  const name = FORGE_NAMES[forge];
  return {
    name: `${forge}:connect`,
    args: 'APP --repo URL [--branch B]',
    summary: `deploy APP on every push to a ${name} branch, with preview apps for ${forge === 'github' ? 'pull' : 'merge'} requests; prints the webhook settings`,
    flags: [
      { name: 'repo', value: true, placeholder: 'URL', description: `https URL of the ${name} repository (no credentials in it)` },
      { name: 'branch', value: true, placeholder: 'BRANCH', description: 'the branch that deploys (default main)' },
      { name: 'deploy-token-stdin', value: false, description: 'read a deploy token for a private repo (and commit statuses) from stdin; else MINPAAS_DEPLOY_TOKEN' },
    ],
    min: 1,
    max: 1,
    async run({ api, io, json, positionals, flags }: CommandContext) {
      const repo = stringFlag(flags, 'repo');
      if (!repo) throw new UsageError(`${forge}:connect needs --repo URL`);
      const branch = stringFlag(flags, 'branch');
      const token = await readDeployToken(flags['deploy-token-stdin'] === true, stdin);
      const body = { forge, repo, ...(branch ? { branch } : {}), ...(token ? { token } : {}) };
      const answer = await api().json<ConnectAnswer>('PUT', appPath(positionals[0]!, '/forge'), body);
      if (json) printJson(io, answer);
      else io.out(webhookInstructions(answer));
      return 0;
    },
  };
}

function disconnectCommand(forge: Forge): Command {
  return {
    name: `${forge}:disconnect`,
    args: 'APP',
    summary: `stop deploying APP from ${FORGE_NAMES[forge]} (its webhook is refused from now on)`,
    min: 1,
    max: 1,
    async run({ api, io, json, positionals }) {
      const answer = await api().json<{ app: string }>('DELETE', appPath(positionals[0]!, `/forge?forge=${forge}`));
      if (json) printJson(io, answer);
      else io.out(`Disconnected ${answer.app} from ${FORGE_NAMES[forge]}; remove the webhook there too.\n`);
      return 0;
    },
  };
}

/** `stdin` is read only by `--deploy-token-stdin` (a getter: nothing touches process.stdin at import). */
export function forgeCommands(stdin: () => NodeJS.ReadableStream = () => process.stdin): Command[] {
  return [connectCommand('github', stdin), disconnectCommand('github'), connectCommand('gitlab', stdin), disconnectCommand('gitlab')];
}
