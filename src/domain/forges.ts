import type { ForgeName } from '../forges/events.js';

/** An app's link to a repository on GitHub or GitLab. `secret` and `token` never leave the server. */
export interface ForgeConnection {
  app: string;
  forge: ForgeName;
  repo: string;
  branch: string;
  secret: string;
  token: string | null;
  createdAt: string;
}

export type DeliveryOutcome = 'received' | 'ignored' | 'skipped' | 'refused' | 'deploying' | 'queued' | 'destroying' | 'failed';

export interface DeliveryRecord {
  forge: ForgeName;
  id: string;
  app: string;
  event: string;
  outcome: DeliveryOutcome;
  reason: string | null;
  pr: number | null;
  receivedAt: string;
}

export type PreviewStatus = 'deploying' | 'live' | 'failed' | 'destroying';

export interface PreviewRecord {
  parent: string;
  number: number;
  app: string;
  headRef: string;
  commit: string;
  status: PreviewStatus;
  createdAt: string;
  updatedAt: string;
}
