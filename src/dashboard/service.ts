import type { AppService } from '../apps/app-service.js';
import type { AppRecord, Deploy, EnvVars, ReleaseRecord } from '../domain/types.js';
import { decodeConfigChanges } from '../http/commands.js';

/**
 * What the dashboard asks of the app service, with typed inputs: the dashboard decodes its
 * forms, the service does the work (the dashboard holds no business logic). The one place
 * that knows AppService's signatures.
 */
export interface DashboardApps {
  list(): Promise<AppRecord[]>;
  get(app: string): Promise<AppRecord>;
  releases(app: string): ReleaseRecord[];
  deploys(app: string): Deploy[];
  deployLog(app: string, id: number): string;
  config(app: string): EnvVars;
  /** Sets (string) and unsets (null) vars; the new release's number, or null before the first one. */
  changeConfig(app: string, changes: Record<string, string | null>): Promise<number | null>;
  rollback(app: string, release: number): Promise<AppRecord>;
  logs(app: string, tail: number): Promise<string>;
  followLogs(app: string, tail: number): Promise<{ stream: NodeJS.ReadableStream; stop: () => void }>;
}

export function dashboardApps(apps: AppService): DashboardApps {
  return {
    list: () => apps.list(),
    get: (app) => apps.get(app),
    releases: (app) => apps.releases(app),
    deploys: (app) => apps.deploys(app),
    deployLog: (app, id) => apps.deployLog(app, id),
    config: (app) => apps.getConfig(app),
    changeConfig: async (app, changes) => (await apps.patchConfig(app, decodeConfigChanges(changes))).release,
    rollback: (app, release) => apps.rollback(app, release),
    logs: (app, tail) => apps.logs(app, tail),
    followLogs: (app, tail) => apps.followLogs(app, tail),
  };
}
