import fs from 'node:fs/promises';
import { stringFlag, UsageError } from '../args.js';
import { appPath } from '../client.js';
import { printJson, type Command } from '../command.js';
import { renderTable } from '../table.js';

interface DomainView {
  host: string;
  kind: string;
  url: string;
  certificate: { status: string; source: string | null; expiresAt: string | null; error: string | null; nextRetryAt: string | null };
}

interface DomainList {
  app: string;
  httpsRedirect: boolean;
  domains: DomainView[];
}

/** One status cell: "issued (acme) until …", "failed: … (retry at …)", "pending". */
export function certificateCell(c: DomainView['certificate']): string {
  if (c.status === 'issued') {
    const base = `issued${c.source ? ` (${c.source})` : ''} until ${c.expiresAt ?? '?'}`;
    return c.error ? `${base}; renewal failed: ${c.error} (retry at ${c.nextRetryAt ?? '?'})` : base;
  }
  if (c.status === 'failed') return `failed: ${c.error ?? 'unknown error'} (retry at ${c.nextRetryAt ?? '?'})`;
  return c.status;
}

function domainsText(list: DomainList): string {
  const rows = list.domains.map((d) => [d.host, d.kind, d.url, certificateCell(d.certificate)]);
  return `${renderTable(['HOST', 'KIND', 'URL', 'CERTIFICATE'], rows)}\nHTTP→HTTPS redirect: ${list.httpsRedirect ? 'on' : 'off'}`;
}

async function readPem(file: string, what: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

export const domainsCommands: Command[] = [
  {
    name: 'domains',
    args: 'APP',
    summary: "list an app's host names with their certificate status",
    min: 1,
    max: 1,
    async run({ api, io, json, positionals }) {
      const list = await api().json<DomainList>('GET', appPath(positionals[0]!, '/domains'));
      if (json) printJson(io, list);
      else io.out(domainsText(list));
      return 0;
    },
  },
  {
    name: 'domains:add',
    args: 'APP HOST',
    summary: 'serve the app at HOST too; a certificate is requested by ACME (HTTP-01)',
    min: 2,
    max: 2,
    async run({ api, io, json, positionals }) {
      const added = await api().json<DomainView>('POST', appPath(positionals[0]!, '/domains'), { host: positionals[1] });
      if (json) printJson(io, added);
      else io.out(`Added ${added.host}; certificate ${certificateCell(added.certificate)} (see: minpaas domains ${positionals[0]})`);
      return 0;
    },
  },
  {
    name: 'domains:remove',
    args: 'APP HOST',
    summary: 'stop serving the app at HOST (its certificate is removed)',
    min: 2,
    max: 2,
    async run({ api, io, json, positionals }) {
      await api().json<{ removed: string }>('DELETE', appPath(positionals[0]!, `/domains/${encodeURIComponent(positionals[1]!)}`));
      if (json) printJson(io, { removed: positionals[1] });
      else io.out(`Removed ${positionals[1]}`);
      return 0;
    },
  },
  {
    name: 'domains:redirect',
    args: 'APP on|off',
    summary: 'turn the HTTP→HTTPS redirect of the app on (default) or off',
    min: 2,
    max: 2,
    async run({ api, io, json, positionals }) {
      const mode = positionals[1];
      if (mode !== 'on' && mode !== 'off') throw new UsageError('domains:redirect takes on or off');
      const list = await api().json<DomainList>('PUT', appPath(positionals[0]!, '/https-redirect'), { enabled: mode === 'on' });
      if (json) printJson(io, list);
      else io.out(domainsText(list));
      return 0;
    },
  },
  {
    name: 'certs:add',
    args: 'APP --cert FILE --key FILE',
    summary: 'install your own certificate (PEM chain, server certificate first) for the hosts it covers',
    flags: [
      { name: 'cert', value: true, placeholder: 'FILE', description: 'PEM certificate chain, server certificate first' },
      { name: 'key', value: true, placeholder: 'FILE', description: 'PEM private key (unencrypted)' },
    ],
    min: 1,
    max: 1,
    async run({ api, io, json, positionals, flags }) {
      const certFile = stringFlag(flags, 'cert');
      const keyFile = stringFlag(flags, 'key');
      if (!certFile || !keyFile) throw new UsageError('certs:add needs --cert FILE and --key FILE');
      const body = { cert: await readPem(certFile, 'certificate'), key: await readPem(keyFile, 'key') };
      const result = await api().json<{ hosts: string[]; expiresAt: string }>('POST', appPath(positionals[0]!, '/certs'), body);
      if (json) printJson(io, result);
      else io.out(`Installed for ${result.hosts.join(', ')}; valid until ${result.expiresAt}`);
      return 0;
    },
  },
];
