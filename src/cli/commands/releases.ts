import type { AppRecord, ReleaseRecord } from '../../domain/types.js';
import { parseReleaseNumber } from '../args.js';
import { appPath } from '../client.js';
import { printJson, type Command } from '../command.js';
import { formatRelease, formatTime, renderTable } from '../table.js';

/** The `releases` table, in the API's order (newest first). */
export function releasesTable(releases: readonly ReleaseRecord[]): string {
  return renderTable(
    ['VERSION', 'KIND', 'DESCRIPTION', 'CREATED'],
    releases.map((r) => [formatRelease(r.number), r.kind, r.description, formatTime(r.createdAt)]),
  );
}

export const releasesCommands: Command[] = [
  {
    name: 'releases',
    args: 'APP',
    summary: "list an app's releases, newest first",
    min: 1,
    max: 1,
    async run({ api, io, json, positionals }) {
      const app = positionals[0]!;
      const releases = await api().json<ReleaseRecord[]>('GET', appPath(app, '/releases'));
      if (json) printJson(io, releases);
      else if (releases.length === 0) io.out(`${app} has no releases yet.\n`);
      else io.out(releasesTable(releases));
      return 0;
    },
  },
  {
    name: 'rollback',
    args: 'APP vN',
    summary: "run release N's image with release N's config, as a new release",
    min: 2,
    max: 2,
    async run({ api, io, json, positionals }) {
      const app = positionals[0]!;
      const release = parseReleaseNumber(positionals[1]!);
      io.err(`Rolling back ${app} to v${release}…\n`);
      const record = await api().json<AppRecord>('POST', appPath(app, '/rollback'), { release });
      if (json) printJson(io, record);
      else io.out(`Rolled back ${app} to v${release}; it now runs ${formatRelease(record.release)}: ${record.url}\n`);
      return 0;
    },
  },
];
