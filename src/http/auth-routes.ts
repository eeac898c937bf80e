import type { UserService } from '../auth/users.js';
import type { KeyRotation } from '../secrets/rotation.js';
import type { Route } from './api-routes.js';
import { fieldsOf } from './api-guard.js';
import { readJsonObject, sendJson } from './respond.js';
import {
  AccessEntrySchema,
  AddUserBody,
  AuditPageSchema,
  AuditQuery,
  CreatedTokenSchema,
  CreateTokenBody,
  DoneSchema,
  GrantBody,
  RotatedSchema,
  TokenSchema,
  UserSchema,
} from './schemas/auth.js';
import { jsonAnswer } from './schemas/route-doc.js';
import { z } from './schemas/zod.js';


const NAME = '([^/]+)';

/** Users, tokens, roles per app, the audit log and key rotation. */
export function authRoutes(users: UserService, rotation: KeyRotation): Route[] {
  return [
    {
      method: 'GET',
      path: /^\/users$/,
      access: { need: 'owner' },
      handle: async ({ res }) => sendJson(res, 200, users.listUsers()),
      doc: { path: '/users', summary: 'Users (owners only)', responses: jsonAnswer('Users', z.array(UserSchema)), errors: [403] },
    },
    {
      method: 'POST',
      path: /^\/users$/,
      access: { need: 'owner' },
      audit: { action: 'user.add', detail: fieldsOf('name', 'owner') },
      handle: async ({ req, res }) => sendJson(res, 201, users.addUser(await readJsonObject(req))),
      doc: { path: '/users', summary: 'Add a user', body: AddUserBody, responses: jsonAnswer('The user', UserSchema, 201), errors: [400, 403, 409] },
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/users/${NAME}$`),
      access: { need: 'owner' },
      audit: { action: 'user.remove', detail: (_b, params) => ({ name: params[0] }) },
      handle: async ({ res, params }) => sendJson(res, 200, users.removeUser(params[0]!)),
      doc: { path: '/users/{name}', summary: 'Remove a user and their tokens', responses: jsonAnswer('Removed', DoneSchema), errors: [400, 403, 404] },
    },
    {
      method: 'GET',
      path: /^\/tokens$/,
      access: { need: 'user' },
      handle: async ({ res, viewer }) => sendJson(res, 200, users.listTokens(viewer)),
      doc: { path: '/tokens', summary: 'Your tokens (owners: all)', responses: jsonAnswer('Tokens', z.array(TokenSchema)), errors: [] },
    },
    {
      method: 'POST',
      path: /^\/tokens$/,
      access: { need: 'user' },
      audit: { action: 'token.create', detail: fieldsOf('name', 'user', 'expires') },
      handle: async ({ req, res, viewer }) => sendJson(res, 201, await users.createToken(viewer, await readJsonObject(req))),
      doc: { path: '/tokens', summary: 'Create a token (shown once)', body: CreateTokenBody, responses: jsonAnswer('The new token', CreatedTokenSchema, 201), errors: [400, 403, 404] },
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/tokens/${NAME}$`),
      access: { need: 'user' },
      audit: { action: 'token.revoke', detail: (_b, params) => ({ id: params[0] }) },
      handle: async ({ res, params, viewer }) => sendJson(res, 200, users.revokeToken(viewer, params[0]!)),
      doc: { path: '/tokens/{id}', summary: 'Revoke a token (at once, for the API and git)', responses: jsonAnswer('Revoked', DoneSchema), errors: [400, 403, 404] },
    },
    {
      method: 'GET',
      path: new RegExp(`^/apps/${NAME}/access$`),
      access: { need: 'admin' },
      handle: async ({ res, params }) => sendJson(res, 200, users.listAccess(params[0]!)),
      doc: { path: '/apps/{name}/access', summary: 'Who has which role on the app', responses: jsonAnswer('Roles', z.array(AccessEntrySchema)), errors: [400, 403, 404] },
    },
    {
      method: 'PUT',
      path: new RegExp(`^/apps/${NAME}/access/${NAME}$`),
      access: { need: 'admin' },
      audit: { action: 'access.add', detail: (body, params) => ({ user: params[1], ...fieldsOf('role')(body) }) },
      handle: async ({ req, res, params }) => sendJson(res, 200, users.grant(params[0]!, params[1]!, await readJsonObject(req))),
      doc: { path: '/apps/{name}/access/{user}', summary: 'Give a user a role on the app', body: GrantBody, responses: jsonAnswer('The role', AccessEntrySchema), errors: [400, 403, 404] },
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/apps/${NAME}/access/${NAME}$`),
      access: { need: 'admin' },
      audit: { action: 'access.remove', detail: (_b, params) => ({ user: params[1] }) },
      handle: async ({ res, params }) => sendJson(res, 200, users.revokeAccess(params[0]!, params[1]!)),
      doc: { path: '/apps/{name}/access/{user}', summary: "Take a user's role on the app away", responses: jsonAnswer('Removed', DoneSchema), errors: [400, 403, 404] },
    },
    {
      method: 'GET',
      path: /^\/audit$/,
      access: { need: 'user' },
      handle: async ({ res, query, viewer }) => sendJson(res, 200, users.audit(viewer, query)),
      doc: { path: '/audit', summary: 'The audit log, newest first (owners: all; app admins: their apps)', query: AuditQuery, responses: jsonAnswer('A page', AuditPageSchema), errors: [400] },
    },
    {
      method: 'POST',
      path: /^\/secrets\/rotate-key$/,
      access: { need: 'owner' },
      audit: { action: 'secrets.rotate-key' },
      handle: async ({ res }) => sendJson(res, 200, rotation.rotate()),
      doc: { path: '/secrets/rotate-key', summary: 'Re-encrypt every secret under a new key (no redeploy)', responses: jsonAnswer('The new key', RotatedSchema), errors: [403] },
    },
  ];
}
