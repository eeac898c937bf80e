import { z } from './zod.js';

const forge = z.enum(['github', 'gitlab'], { error: 'forge must be "github" or "gitlab"' });

export const ConnectForgeBody = z
  .object({
    forge,
    repo: z.string({ error: 'repo must be an http(s) URL string' }),
    branch: z.string({ error: 'branch must be a string' }).nullable().optional(),
    token: z.string({ error: 'token must be a string' }).nullable().optional(),
  })
  .openapi('ConnectForge');

export const ConnectionSchema = z
  .object({
    app: z.string(),
    forge: z.enum(['github', 'gitlab']),
    repo: z.string(),
    branch: z.string(),
    hasToken: z.boolean(),
    webhook: z.object({
      url: z.string(),
      contentType: z.literal('application/json'),
      events: z.array(z.string()),
      secret: z.string().optional().openapi({ description: 'Only in the answer that created the connection.' }),
    }),
    createdAt: z.string(),
  })
  .openapi('ForgeConnection');

export const DisconnectedSchema = z.object({ app: z.string(), forge: z.enum(['github', 'gitlab']) }).openapi('ForgeDisconnected');

export const PreviewsSchema = z
  .object({
    previews: z.array(
      z.looseObject({ parent: z.string(), number: z.number().int(), app: z.string(), headRef: z.string(), commit: z.string(), status: z.string(), url: z.string().nullable() }),
    ),
    skipped: z.array(z.object({ pr: z.number().int(), outcome: z.string(), reason: z.string().nullable(), receivedAt: z.string() })),
  })
  .openapi('Previews');

/** A forge's webhook answer: what MinPaas does with the delivery. */
export const WebhookReplySchema = z
  .looseObject({ status: z.string().optional(), app: z.string().optional(), commit: z.string().optional(), pr: z.number().int().optional(), reason: z.string().optional() })
  .openapi('WebhookReply');
