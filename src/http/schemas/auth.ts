import { z } from './zod.js';

/** Users, tokens, roles per app, the audit log and key rotation (issue 15's routes). */

export const RoleSchema = z.enum(['admin', 'deploy', 'read']).openapi('Role');

export const UserSchema = z.looseObject({ name: z.string(), owner: z.boolean() }).openapi('User');
export const AddUserBody = z.looseObject({ name: z.string(), owner: z.boolean().optional() }).openapi('AddUser');

export const TokenSchema = z
  .looseObject({ id: z.string(), user: z.string(), name: z.string() })
  .openapi('Token', { description: 'A token as listed: never its secret' });
export const CreateTokenBody = z
  .looseObject({ name: z.string().optional(), user: z.string().optional(), expires: z.string().optional().openapi({ description: 'e.g. 90d, 12h' }) })
  .openapi('CreateToken');
export const CreatedTokenSchema = z
  .looseObject({ id: z.string(), token: z.string().openapi({ description: 'Shown once; only a salted hash is stored' }) })
  .openapi('CreatedToken');

export const AccessEntrySchema = z.looseObject({ user: z.string(), role: RoleSchema }).openapi('AccessEntry');
export const GrantBody = z.looseObject({ role: RoleSchema }).openapi('Grant');

export const AuditPageSchema = z
  .looseObject({ entries: z.array(z.looseObject({ action: z.string(), user: z.string().nullable(), status: z.number() })), next: z.unknown() })
  .openapi('AuditPage');
export const AuditQuery = z.object({
  app: z.string().optional(),
  limit: z.string().optional().openapi({ description: '1–500' }),
  before: z.string().optional().openapi({ description: 'An entry id: the page before it' }),
});

export const RotatedSchema = z.looseObject({ keyId: z.string(), resealed: z.number() }).openapi('Rotated');
export const DoneSchema = z.looseObject({}).openapi('Done');
