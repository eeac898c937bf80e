import path from 'node:path';
import { stringFlag, UsageError, type FlagSpec } from '../args.js';
import { PROJECT_ROOT } from '../../config.js';
import type { Command, CommandContext } from '../command.js';


const DATA_DIR_FLAG: FlagSpec = { name: 'data-dir', value: true, placeholder: 'DIR', description: 'the data dir (else MINPAAS_DATA_DIR, else ./data)' };

export const SERVER_FLAGS: FlagSpec[] = [
  { name: 'unit-dir', value: true, placeholder: 'DIR', description: 'install: where the unit goes (default /etc/systemd/system)' },
  // Not "--env-file": Node 20 reads that flag anywhere on its command line, even after the script.
  { name: 'environment-file', value: true, placeholder: 'FILE', description: 'install: the environment file (default /etc/minpaas/minpaas.env)' },
  DATA_DIR_FLAG,
  { name: 'force', value: false, description: 'install: replace an existing unit and environment file' },
];

function dataDirOf(ctx: CommandContext): string {
  return path.resolve(stringFlag(ctx.flags, 'data-dir') ?? (process.env.MINPAAS_DATA_DIR || './data'));
}

/** `minpaas server install`: a systemd unit for the control plane. */
export async function serverInstall(ctx: CommandContext): Promise<number> {
  const { installService, serviceEnvironment } = await import('../server-install.js');
  const dataDir = dataDirOf(ctx);
  const drain = Number(process.env.MINPAAS_DRAIN_TIMEOUT ?? 30);
  const done = await installService({
    unitDir: path.resolve(stringFlag(ctx.flags, 'unit-dir') ?? '/etc/systemd/system'),
    envFile: path.resolve(stringFlag(ctx.flags, 'environment-file') ?? '/etc/minpaas/minpaas.env'),
    dataDir,
    projectRoot: PROJECT_ROOT,
    nodeBinary: process.execPath,
    env: serviceEnvironment(process.env, dataDir),
    force: ctx.flags.force === true,
    stopTimeoutSeconds: (Number.isFinite(drain) ? drain : 30) + 15,
  });
  ctx.io.out(
    [
      `Wrote ${done.unitFile}`,
      `Wrote ${done.envFile} (mode 0600: the settings the service runs with)`,
      '',
      'Enable and start it:',
      '  systemctl daemon-reload && systemctl enable --now minpaas',
      '',
      'Then: systemctl status minpaas; journalctl -u minpaas -f',
      '',
    ].join('\n'),
  );
  return 0;
}

/** Flags meant for `server install` given to plain `server`: a usage error, not ignored. */
export function refuseInstallFlags(ctx: CommandContext): void {
  for (const f of SERVER_FLAGS) if (ctx.flags[f.name] !== undefined) throw new UsageError(`--${f.name} is an option of "minpaas server install"`);
}

export const backupCommand: Command = {
  name: 'backup',
  args: 'FILE',
  summary: "write a consistent copy of the store, repos, token and certificates to FILE (server may run)",
  flags: [DATA_DIR_FLAG],
  min: 1,
  max: 1,
  local: true,
  async run(ctx) {
    const { backup } = await import('../backup.js');
    const summary = await backup(dataDirOf(ctx), path.resolve(ctx.positionals[0]!));
    ctx.io.out(`Backed up ${summary.entries.join(', ')} to ${summary.file} (${summary.bytes} bytes, mode 0600)\n`);
    return 0;
  },
};

export const restoreCommand: Command = {
  name: 'restore',
  args: 'FILE',
  summary: 'restore a backup into a new or empty data dir (the server stopped)',
  flags: [DATA_DIR_FLAG, { name: 'force', value: false, description: 'restore into a data dir that holds data (its store, repos, token and certificates are replaced)' }],
  min: 1,
  max: 1,
  local: true,
  async run(ctx) {
    const { restore } = await import('../backup.js');
    const dataDir = dataDirOf(ctx);
    const entries = await restore(path.resolve(ctx.positionals[0]!), dataDir, ctx.flags.force === true);
    ctx.io.out(`Restored ${entries.join(', ')} into ${dataDir}. Start the server on it: MINPAAS_DATA_DIR=${dataDir} minpaas server\n`);
    return 0;
  },
};
