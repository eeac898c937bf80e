import type { UserService } from '../auth/users.js';
import type { KeyRotation } from '../secrets/rotation.js';
import type { Route } from './api-routes.js';
import { fieldsOf } from './api-guard.js';
import { readJsonObject, sendJson } from './respond.js';

const NAME = '([^/]+)';

/** Users, tokens, roles per app, the audit log and key rotation. */
export function authRoutes(users: UserService, rotation: KeyRotation): Route[] {
  return [
    { method: 'GET', path: /^\/users$/, access: { need: 'owner' }, handle: async ({ res }) => sendJson(res, 200, users.listUsers()) },
    {
      method: 'POST',
      path: /^\/users$/,
      access: { need: 'owner' },
      audit: { action: 'user.add', detail: fieldsOf('name', 'owner') },
      handle: async ({ req, res }) => sendJson(res, 201, users.addUser(await readJsonObject(req))),
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/users/${NAME}$`),
      access: { need: 'owner' },
      audit: { action: 'user.remove', detail: (_b, params) => ({ name: params[0] }) },
      handle: async ({ res, params }) => sendJson(res, 200, users.removeUser(params[0]!)),
    },
    { method: 'GET', path: /^\/tokens$/, access: { need: 'user' }, handle: async ({ res, viewer }) => sendJson(res, 200, users.listTokens(viewer)) },
    {
      method: 'POST',
      path: /^\/tokens$/,
      access: { need: 'user' },
      audit: { action: 'token.create', detail: fieldsOf('name', 'user', 'expires') },
      handle: async ({ req, res, viewer }) => sendJson(res, 201, await users.createToken(viewer, await readJsonObject(req))),
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/tokens/${NAME}$`),
      access: { need: 'user' },
      audit: { action: 'token.revoke', detail: (_b, params) => ({ id: params[0] }) },
      handle: async ({ res, params, viewer }) => sendJson(res, 200, users.revokeToken(viewer, params[0]!)),
    },
    { method: 'GET', path: new RegExp(`^/apps/${NAME}/access$`), access: { need: 'admin' }, handle: async ({ res, params }) => sendJson(res, 200, users.listAccess(params[0]!)) },
    {
      method: 'PUT',
      path: new RegExp(`^/apps/${NAME}/access/${NAME}$`),
      access: { need: 'admin' },
      audit: { action: 'access.add', detail: (body, params) => ({ user: params[1], ...fieldsOf('role')(body) }) },
      handle: async ({ req, res, params }) => sendJson(res, 200, users.grant(params[0]!, params[1]!, await readJsonObject(req))),
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/apps/${NAME}/access/${NAME}$`),
      access: { need: 'admin' },
      audit: { action: 'access.remove', detail: (_b, params) => ({ user: params[1] }) },
      handle: async ({ res, params }) => sendJson(res, 200, users.revokeAccess(params[0]!, params[1]!)),
    },
    { method: 'GET', path: /^\/audit$/, access: { need: 'user' }, handle: async ({ res, query, viewer }) => sendJson(res, 200, users.audit(viewer, query)) },
    {
      method: 'POST',
      path: /^\/secrets\/rotate-key$/,
      access: { need: 'owner' },
      audit: { action: 'secrets.rotate-key' },
      handle: async ({ res }) => sendJson(res, 200, rotation.rotate()),
    },
  ];
}
