import { errorMessage, isMinPaasError } from '../errors.js';
import { parseArgs, stringFlag, UsageError, type FlagSpec } from './args.js';
import { ApiClient, ApiError, errorCodeLine } from './client.js';
import { processIo, type Command, type CommandContext, type Io } from './command.js';
import { userCommands } from './commands/access.js';
import { appsCommands } from './commands/apps.js';
import { appSetupCommands } from './commands/builder.js';
import { swarmCommands } from './commands/swarm.js';
import { configCommands } from './commands/config.js';
import { deployCommand } from './commands/deploy.js';
import { forgeCommands } from './commands/forges.js';
import { gitRemoteCommand } from './commands/git-remote.js';
import { loginCommand } from './commands/login.js';
import { backupCommand, refuseInstallFlags, restoreCommand, serverInstall, SERVER_FLAGS } from './commands/operator.js';
import { logsCommand } from './commands/logs.js';
import { previewsCommand } from './commands/previews.js';
import { processCommands } from './commands/processes.js';
import { releasesCommands } from './commands/releases.js';
import { resourcesCommands } from './commands/resources.js';
import { domainsCommands } from './commands/domains.js';
import { resolveSettings, type Settings } from './settings.js';

const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', value: false, description: 'show this help' };

/** Flags every API command takes. */
export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'url', value: true, placeholder: 'URL', description: 'MinPaas API URL (else MINPAAS_URL, the login file, http://127.0.0.1:7000)' },
  { name: 'token', value: true, placeholder: 'TOKEN', description: 'admin token (else MINPAAS_TOKEN, the login file, <data>/token)' },
  { name: 'json', value: false, description: "print the API's JSON instead of text" },
  HELP_FLAG,
];

const serverCmd: Command = {
  name: 'server',
  args: '[install]',
  summary: 'start the control plane (git remote + admin API + dashboard); "server install" writes a systemd unit',
  flags: SERVER_FLAGS,
  max: 1,
  local: true,
  // Loaded on demand: the API commands need none of the server's modules (SQLite, Docker).
  run: async (ctx) => {
    if (ctx.positionals[0] === 'install') return serverInstall(ctx);
    if (ctx.positionals[0] !== undefined) throw new UsageError(`unknown server subcommand "${ctx.positionals[0]}" (did you mean "server install"?)`);
    refuseInstallFlags(ctx);
    return (await import('./server-command.js')).serverCommand();
  },
};

export const COMMANDS: Command[] = [
  serverCmd,
  loginCommand,
  ...appsCommands,
  ...appSetupCommands,
  ...swarmCommands,
  deployCommand,
  ...configCommands,
  logsCommand,
  ...releasesCommands,
  ...processCommands,
  ...resourcesCommands,
  ...domainsCommands,
  gitRemoteCommand,
  ...forgeCommands(),
  previewsCommand,
  ...userCommands,
  backupCommand,
  restoreCommand,
];

function synopsis(cmd: Command): string {
  return [cmd.name, cmd.args].filter(Boolean).join(' ');
}

/** The overview: every command with one line each. */
export function usage(): string {
  const lines = COMMANDS.map((c) => `  ${synopsis(c)}\n      ${c.summary}`);
  return [
    'Usage: minpaas <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Options for every command but server:',
    '  --url URL       MinPaas API URL (else MINPAAS_URL, the file "minpaas login" wrote, http://127.0.0.1:7000)',
    '  --token TOKEN   admin token (else MINPAAS_TOKEN, that file, <MINPAAS_DATA_DIR or ./data>/token)',
    "  --json          print the API's JSON, for scripts",
    '',
    'Run "minpaas help COMMAND" for a command\'s options.',
    '',
  ].join('\n');
}

/** One command's usage and options. */
export function commandUsage(cmd: Command): string {
  const flags = [...(cmd.flags ?? []), ...(cmd.local ? [HELP_FLAG] : GLOBAL_FLAGS)];
  const shown = flags.map((f) => [`${f.short ? `-${f.short}, ` : ''}--${f.name}${f.value ? ` ${f.placeholder ?? 'VALUE'}` : ''}`, f.description] as const);
  const width = Math.max(...shown.map(([s]) => s.length));
  return [`Usage: minpaas ${synopsis(cmd)} [options]`, '', `  ${cmd.summary}`, '', 'Options:', ...shown.map(([s, d]) => `  ${s.padEnd(width)}  ${d}`), ''].join('\n');
}

function checkArity(cmd: Command, positionals: string[]): void {
  const min = cmd.min ?? 0;
  const max = cmd.max ?? Infinity;
  if (positionals.length < min) throw new UsageError(`${cmd.name} needs ${cmd.args ?? 'more arguments'}`);
  if (positionals.length > max) throw new UsageError(`${cmd.name} takes ${max === 0 ? 'no arguments' : `${max} argument${max > 1 ? 's' : ''}`}, got "${positionals.slice(max).join(' ')}" too`);
}

function reportError(io: Io, err: unknown, settings: Settings | undefined): number {
  if (err instanceof ApiError || isMinPaasError(err)) {
    const details = err instanceof ApiError ? err.details : (err.details ?? []);
    io.err(`minpaas: ${err.message}\n`);
    for (const line of details) io.err(`  ${line}\n`);
    const codeLine = err instanceof ApiError ? errorCodeLine(err) : null;
    if (codeLine) io.err(`  ${codeLine}\n`);
    if (err instanceof ApiError && err.status === 401 && settings) {
      io.err(settings.token ? `  (token from ${settings.tokenSource}; pass --token, set MINPAAS_TOKEN or run "minpaas login")\n` : '  (no token found: pass --token, set MINPAAS_TOKEN or run "minpaas login")\n');
    }
    return 1;
  }
  io.err(`minpaas: ${errorMessage(err)}\n`);
  return 1;
}

/** Runs one command line; resolves with the exit code (0 ok, 1 failed, 2 usage error). */
export async function runCli(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    if (name === 'help' && rest[0] !== undefined && !topic) {
      io.err(`minpaas: unknown command "${rest[0]}"\n\n${usage()}`);
      return 2;
    }
    io.out(topic ? commandUsage(topic) : usage());
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(`minpaas: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }

  let settings: Settings | undefined;
  try {
    const { positionals, flags } = parseArgs(rest, [...(cmd.flags ?? []), ...(cmd.local ? [HELP_FLAG] : GLOBAL_FLAGS)]);
    if (flags.help) {
      io.out(commandUsage(cmd));
      return 0;
    }
    checkArity(cmd, positionals);
    const getSettings = (): Settings => (settings ??= resolveSettings({ flags: { url: stringFlag(flags, 'url'), token: stringFlag(flags, 'token') } }));
    let client: ApiClient | undefined;
    const ctx: CommandContext = {
      positionals,
      flags,
      json: flags.json === true,
      io,
      settings: getSettings,
      api: () => (client ??= new ApiClient(getSettings().url, getSettings().token)),
    };
    return await cmd.run(ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`minpaas: ${err.message}\nUsage: minpaas ${synopsis(cmd)}  (see "minpaas help ${cmd.name}")\n`);
      return 2;
    }
    return reportError(io, err, settings);
  }
}
