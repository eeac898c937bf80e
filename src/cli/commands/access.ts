import { stringFlag, UsageError } from '../args.js';
import { appPath } from '../client.js';
import { printJson, type Command } from '../command.js';
import { formatTime, renderTable } from '../table.js';

interface User {
  name: string;
  owner: boolean;
  createdAt: string;
}

interface Token {
  id: string;
  user: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  state: string;
  token?: string;
}

interface Grant {
  app: string;
  user: string;
  role: string;
  grantedAt: string;
}

interface AuditEntry {
  id: number;
  at: string;
  user: string | null;
  tokenName: string | null;
  address: string | null;
  action: string;
  app: string | null;
  detail: Record<string, unknown> | null;
  status: number;
  outcome: string;
}

const ROLES = ['admin', 'deploy', 'read'];

const u = encodeURIComponent;

export const userCommands: Command[] = [
  {
    name: 'users',
    summary: 'list users (owners only)',
    max: 0,
    async run({ api, io, json }) {
      const users = await api().json<User[]>('GET', '/users');
      if (json) printJson(io, users);
      else io.out(renderTable(['USER', 'OWNER', 'CREATED'], users.map((x) => [x.name, x.owner ? 'yes' : '', formatTime(x.createdAt)])));
      return 0;
    },
  },
  {
    name: 'users:add',
    args: 'NAME',
    summary: 'add a user (owners only); give them a token with tokens:create --user NAME',
    flags: [{ name: 'owner', value: false, description: 'make the user an owner (a server-wide admin)' }],
    min: 1,
    max: 1,
    async run({ api, io, json, positionals, flags }) {
      const user = await api().json<User>('POST', '/users', { name: positionals[0], ...(flags.owner === true ? { owner: true } : {}) });
      if (json) printJson(io, user);
      else io.out(`Added ${user.name}${user.owner ? ' (owner)' : ''}. Next: minpaas tokens:create --user ${user.name} --name LAPTOP\n`);
      return 0;
    },
  },
  {
    name: 'users:remove',
    args: 'NAME',
    summary: 'remove a user with their tokens and roles (owners only)',
    min: 1,
    max: 1,
    async run({ api, io, json, positionals }) {
      const answer = await api().json<{ removed: string }>('DELETE', `/users/${u(positionals[0]!)}`);
      if (json) printJson(io, answer);
      else io.out(`Removed ${answer.removed}; their tokens stopped working.\n`);
      return 0;
    },
  },
  {
    name: 'tokens',
    summary: 'list your tokens (owners: everyone\'s)',
    max: 0,
    async run({ api, io, json }) {
      const tokens = await api().json<Token[]>('GET', '/tokens');
      if (json) printJson(io, tokens);
      else io.out(renderTable(['ID', 'USER', 'NAME', 'STATE', 'EXPIRES', 'LAST USED'], tokens.map((t) => [t.id, t.user, t.name, t.state, t.expiresAt ? formatTime(t.expiresAt) : 'never', formatTime(t.lastUsedAt)])));
      return 0;
    },
  },
  {
    name: 'tokens:create',
    summary: 'create a token (shown once): yours, or --user NAME\'s (owners)',
    flags: [
      { name: 'name', value: true, placeholder: 'NAME', description: 'what the token is for, e.g. LAPTOP or ci' },
      { name: 'expires', value: true, placeholder: 'DURATION', description: 'expiry, e.g. 90d, 12h, 4w (default: never)' },
      { name: 'user', value: true, placeholder: 'NAME', description: 'the user the token acts for (owners only; default you)' },
    ],
    max: 0,
    async run({ api, io, json, flags }) {
      const body = { name: stringFlag(flags, 'name'), expires: stringFlag(flags, 'expires'), user: stringFlag(flags, 'user') };
      const token = await api().json<Token>('POST', '/tokens', body);
      if (json) printJson(io, token);
      else {
        io.err(`Created token ${token.id} (${token.name}) for ${token.user}${token.expiresAt ? `, expires ${formatTime(token.expiresAt)}` : ''}. It is shown only now:\n`);
        io.out(`${token.token}\n`);
      }
      return 0;
    },
  },
  {
    name: 'tokens:revoke',
    args: 'ID',
    summary: 'revoke a token: it stops working at once, for the API and git',
    min: 1,
    max: 1,
    async run({ api, io, json, positionals }) {
      const token = await api().json<Token>('DELETE', `/tokens/${u(positionals[0]!)}`);
      if (json) printJson(io, token);
      else io.out(`Revoked token ${token.id} (${token.name}) of ${token.user}.\n`);
      return 0;
    },
  },
  {
    name: 'access',
    args: 'APP',
    summary: "list who may do what on APP (the app's admins and owners)",
    min: 1,
    max: 1,
    async run({ api, io, json, positionals }) {
      const grants = await api().json<Grant[]>('GET', appPath(positionals[0]!, '/access'));
      if (json) printJson(io, grants);
      else if (grants.length === 0) io.out(`Only owners have access to ${positionals[0]}.\n`);
      else io.out(renderTable(['USER', 'ROLE', 'SINCE'], grants.map((g) => [g.user, g.role, formatTime(g.grantedAt)])));
      return 0;
    },
  },
  {
    name: 'access:add',
    args: 'APP USER --role admin|deploy|read',
    summary: 'give USER a role on APP (read: see; deploy: also push, deploy, roll back; admin: also config, resources, access, delete)',
    flags: [{ name: 'role', value: true, placeholder: 'ROLE', description: 'admin, deploy or read' }],
    min: 2,
    max: 2,
    async run({ api, io, json, positionals, flags }) {
      const role = stringFlag(flags, 'role');
      if (!role || !ROLES.includes(role)) throw new UsageError('access:add needs --role admin, deploy or read');
      const [app, user] = positionals as [string, string];
      const grant = await api().json<Grant>('PUT', appPath(app, `/access/${u(user)}`), { role });
      if (json) printJson(io, grant);
      else io.out(`${grant.user} is now ${grant.role} on ${grant.app}.\n`);
      return 0;
    },
  },
  {
    name: 'access:remove',
    args: 'APP USER',
    summary: "take USER's role on APP away",
    min: 2,
    max: 2,
    async run({ api, io, json, positionals }) {
      const [app, user] = positionals as [string, string];
      const answer = await api().json<unknown>('DELETE', appPath(app, `/access/${u(user)}`));
      if (json) printJson(io, answer);
      else io.out(`${user} has no role on ${app} any more.\n`);
      return 0;
    },
  },
  {
    name: 'audit',
    args: '[APP]',
    summary: 'who changed what, when, from where (owners: everything; app admins: their apps)',
    flags: [
      { name: 'limit', value: true, placeholder: 'N', description: 'entries per page (default 50)' },
      { name: 'before', value: true, placeholder: 'ID', description: 'entries older than this id (the next page)' },
    ],
    max: 1,
    async run({ api, io, json, positionals, flags }) {
      const q = new URLSearchParams();
      if (positionals[0]) q.set('app', positionals[0]);
      for (const k of ['limit', 'before']) if (stringFlag(flags, k)) q.set(k, stringFlag(flags, k)!);
      const page = await api().json<{ entries: AuditEntry[]; next: number | null }>('GET', `/audit${q.size ? `?${q}` : ''}`);
      if (json) {
        printJson(io, page);
        return 0;
      }
      io.out(renderTable(['ID', 'WHEN', 'WHO', 'FROM', 'ACTION', 'APP', 'DETAIL', 'OUTCOME'], page.entries.map((e) => [
        String(e.id), formatTime(e.at), `${e.user ?? '?'} (${e.tokenName ?? '?'})`, e.address ?? '', e.action, e.app ?? '', e.detail ? JSON.stringify(e.detail) : '', `${e.outcome} ${e.status}`,
      ])));
      if (page.next !== null) io.err(`more: minpaas audit ${positionals[0] ?? ''} --before ${page.next}\n`.replace('  ', ' '));
      return 0;
    },
  },
  {
    name: 'secrets:rotate-key',
    summary: 're-encrypt every stored secret under a new key (owners; no downtime, nothing redeployed)',
    max: 0,
    async run({ api, io, json }) {
      const answer = await api().json<{ keyId: string; resealed: number }>('POST', '/secrets/rotate-key');
      if (json) printJson(io, answer);
      else io.out(`Re-encrypted ${answer.resealed} value(s) under key ${answer.keyId}; the old key is gone from the key file. Back up the key file again.\n`);
      return 0;
    },
  },
];
