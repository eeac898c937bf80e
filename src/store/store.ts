import Database from 'better-sqlite3';
import type { Address, AppRow, BuilderName, SchedulerName, Deploy, DeploySource, DeployStatus, EnvVars, Placement, ProcessTypes, Release, ReleaseKind, RuntimeName } from '../domain/types.js';
import type { Formation, ProcessPlacement } from '../domain/processes.js';
import { redactUrlsIn } from '../domain/repo-url.js';
import { PLAINTEXT, type ValueCipher } from '../secrets/cipher.js';
import { AuthStore } from './auth-store.js';
import { DomainStore } from './domain-store.js';
import { ForgeStore } from './forge-store.js';
import { ReadCache } from './read-cache.js';
import { resealAll } from './sealed-columns.js';
import { MIGRATIONS } from './migrations.js';

type Row = Record<string, unknown>;

const now = (): string => new Date().toISOString();

function toApp(r: Row): AppRow {
  return {
    name: r.name as string,
    runtime: r.runtime as RuntimeName,
    repo: (r.repo as string | null) ?? null,
    branch: (r.branch as string | null) ?? null,
    port: r.port as number,
    release: (r.release as number | null) ?? null,
    container: (r.container as string | null) ?? null,
    address: r.container_host && r.container_port ? { host: r.container_host as string, port: r.container_port as number } : null,
    memoryLimit: (r.memory_limit as number | null) ?? null,
    cpuLimit: (r.cpu_limit as number | null) ?? null,
    builder: (r.builder as BuilderName | undefined) ?? 'platform',
    scheduler: (r.scheduler as SchedulerName | undefined) ?? 'docker-local',
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}

function toRelease(r: Row, cipher: ValueCipher): Release {
  return {
    app: r.app as string,
    number: r.number as number,
    imageTag: r.image as string,
    imageId: r.image_id as string,
    env: JSON.parse(cipher.open(r.env_json as string)) as EnvVars,
    commit: (r.commit_sha as string | null) ?? null,
    kind: r.kind as ReleaseKind,
    description: r.description as string,
    processTypes: JSON.parse((r.process_types as string | undefined) ?? '{}') as ProcessTypes,
    listenPort: (r.listen_port as number | null | undefined) ?? null,
    createdAt: r.created_at as string,
  };
}

function toDeploy(r: Row): Deploy {
  return {
    id: r.id as number,
    app: r.app as string,
    source: r.source as DeploySource,
    status: r.status as Deploy['status'],
    commit: (r.commit_sha as string | null) ?? null,
    release: (r.release as number | null) ?? null,
    error: (r.error as string | null) ?? null,
    startedAt: r.started_at as string,
    finishedAt: (r.finished_at as string | null) ?? null,
  };
}

export interface NewApp {
  name: string;
  runtime: RuntimeName;
  repo: string | null;
  branch: string | null;
  port: number;
  builder?: BuilderName;
  scheduler?: SchedulerName;
}

/** A release row before the store stamps it. */
export type NewRelease = Omit<Release, 'createdAt'>;

/** What a build learned about the app's source, stored with its release. */
export interface SourceInfo {
  runtime: RuntimeName;
  repo: string | null;
  branch: string | null;
}

/** The commit point of a deploy, written in one transaction. */
export interface ReleaseCommit {
  release: NewRelease;
  /** Every process of the release; the app row keeps the first (web.1) as its container. */
  processes: ProcessPlacement[];
  deployId: number;
  /** Null for releases of an existing image (config changes, rollbacks). */
  source: SourceInfo | null;
  /** Where the release runs: a move between schedulers is committed with the release. */
  scheduler?: SchedulerName;
}

type MainPlacement = { container: string; address: Address | null };

const placementParams = (p: MainPlacement | null): Record<string, unknown> => ({
  container: p?.container ?? null,
  containerHost: p?.address?.host ?? null,
  containerPort: p?.address?.port ?? null,
});

/** The process the app row names as its container: web.1, else the first one. */
function mainPlacement(processes: ProcessPlacement[]): MainPlacement | null {
  const main = processes.find((p) => p.address !== null) ?? processes[0];
  return main ? { container: main.container, address: main.address } : null;
}

function toProcess(r: Row): ProcessPlacement & { app: string } {
  return {
    app: r.app as string,
    type: r.type as string,
    replica: r.replica as number,
    container: r.container as string,
    address: r.host && r.port ? { host: r.host as string, port: r.port as number } : null,
  };
}

/**
 * The only user of SQLite. WAL mode, every multi-row write in one transaction, so a
 * kill -9 at any point leaves either the old state or the new one.
 */
export class Store {
  private readonly db: Database.Database;
  /** Forge connections, webhook deliveries, preview apps. */
  readonly forges: ForgeStore;
  /** Users, tokens, roles per app, the audit log. */
  readonly auth: AuthStore;
  /** Host names and certificate status (issue 11). */
  readonly domains: DomainStore;
  /** listApps, envOfAll and the per-app facts of GET /apps, until the next write. */
  private readonly cache: ReadCache;

  /**
   * `cipher` seals the secret columns (sealed-columns.ts); the server always passes one
   * (tests of other modules may not). Plaintext rows are sealed here, at open.
   */
  constructor(
    file: string,
    private readonly cipher: ValueCipher = PLAINTEXT,
  ) {
    this.db = new Database(file);
    // Freed space is zeroed: a value once stored in clear (or under an old key) leaves no trace in the file.
    this.db.pragma('secure_delete = ON');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.cache = new ReadCache(this.db);
    this.forges = new ForgeStore(this.db, cipher);
    this.auth = new AuthStore(this.db);
    this.domains = new DomainStore(this.db);
    this.redactStoredCredentials();
    try {
      if (this.resealSecrets() > 0) this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      // A key file that does not match the database: refuse to start rather than serve undecryptable config.
      this.db.close();
      throw err;
    }
  }

  /**
   * Seals plaintext secrets and re-seals those under an old key (a rotation, or one a crash
   * interrupted). Returns how many values changed.
   */
  resealSecrets(): number {
    return resealAll(this.db, this.cipher);
  }

  /** Copies the WAL into the database file and empties it (after a rotation: no old ciphertext left in it). */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /**
   * Installations from before credentials were kept out of repo URLs stored them in the
   * app row and the deploy log; redact them there (cheap: only rows with user-info).
   */
  private redactStoredCredentials(): void {
    this.tx(() => {
      for (const [table, key, column] of [['apps', 'name', 'repo'], ['deploys', 'id', 'log'], ['deploys', 'id', 'error']] as const) {
        const rows = this.db.prepare(`SELECT ${key} AS k, ${column} AS v FROM ${table} WHERE ${column} LIKE '%://%@%'`).all() as Row[];
        const update = this.db.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${key} = ?`);
        for (const row of rows) {
          const redacted = redactUrlsIn(row.v as string);
          if (redacted !== row.v) update.run(redacted, row.k);
        }
      }
    });
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let i = version; i < MIGRATIONS.length; i++) {
      this.tx(() => {
        this.db.exec(MIGRATIONS[i]!);
        this.db.pragma(`user_version = ${i + 1}`);
      });
    }
  }

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }

  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }

  // apps

  /** Every app by name; cached until the next write (each call gets its own copies). */
  listApps(): AppRow[] {
    return this.sharedApps().map((a) => ({ ...a, address: a.address && { ...a.address } }));
  }

  /**
   * The cached rows themselves, frozen (changing one throws): for listings that only read
   * them, so GET /apps over 1,000 apps does not copy 1,000 rows per request.
   */
  sharedApps(): readonly Readonly<AppRow>[] {
    return this.cache.get('apps', () => (this.db.prepare('SELECT * FROM apps ORDER BY name').all() as Row[]).map((r) => deepFreeze(toApp(r))));
  }

  /** The name of the app on a host port (ports are unique per app), without a scan per call. */
  appOnPort(port: number): string | undefined {
    return this.cache.get('appsByPort', () => new Map(this.listApps().map((a) => [a.port, a.name]))).get(port);
  }

  /**
   * Every app's config in one query (GET /apps over 1,000 apps must not ask 1,000 times),
   * decrypted once and cached until the next write.
   */
  envOfAll(): ReadonlyMap<string, Readonly<EnvVars>> {
    return this.cache.get('envs', () => {
      const opened = new Map<string, EnvVars>();
      for (const r of this.db.prepare('SELECT app, key, value FROM env ORDER BY app, key').all() as Row[]) {
        let env = opened.get(r.app as string);
        if (!env) opened.set(r.app as string, (env = {}));
        env[r.key as string] = this.cipher.open(r.value as string);
      }
      for (const env of opened.values()) Object.freeze(env);
      return opened;
    });
  }

  /** The image of each app's current release, in one query (cached until the next write). */
  currentImages(): ReadonlyMap<string, string> {
    return this.cache.get('images', () => {
      const rows = this.db.prepare('SELECT r.app AS app, r.image AS image FROM apps a JOIN releases r ON r.app = a.name AND r.number = a.release').all() as Row[];
      return new Map(rows.map((r) => [r.app as string, r.image as string]));
    });
  }

  /** The status of each app's newest deploy, in one query (cached until the next write). */
  lastDeployStatuses(): ReadonlyMap<string, DeployStatus> {
    return this.cache.get('lastDeploys', () => {
      const rows = this.db.prepare('SELECT d.app AS app, d.status AS status FROM deploys d JOIN (SELECT app, MAX(id) AS id FROM deploys GROUP BY app) m ON m.id = d.id').all() as Row[];
      return new Map(rows.map((r) => [r.app as string, r.status as DeployStatus]));
    });
  }

  getApp(name: string): AppRow | undefined {
    const row = this.db.prepare('SELECT * FROM apps WHERE name = ?').get(name) as Row | undefined;
    return row ? toApp(row) : undefined;
  }

  usedPorts(): Set<number> {
    return new Set((this.db.prepare('SELECT port FROM apps').all() as Row[]).map((r) => r.port as number));
  }

  createApp(app: NewApp): AppRow {
    const t = now();
    this.db
      .prepare(
        `INSERT INTO apps (name, runtime, repo, branch, port, builder, scheduler, created_at, updated_at)
         VALUES (@name, @runtime, @repo, @branch, @port, @builder, @scheduler, @t, @t)`,
      )
      .run({ builder: 'platform', scheduler: 'docker-local', ...app, t });
    return this.getApp(app.name)!;
  }

  updateSource(name: string, fields: SourceInfo): void {
    this.db
      .prepare('UPDATE apps SET runtime = @runtime, repo = @repo, branch = @branch, updated_at = @t WHERE name = @name')
      .run({ ...fields, name, t: now() });
  }

  /** Records where the app's current release runs (e.g. after a restart gave it a new address). */
  setPlacement(name: string, placement: Placement): void {
    this.db
      .prepare(
        `UPDATE apps SET container = @container, container_host = @containerHost, container_port = @containerPort,
         updated_at = @t WHERE name = @name`,
      )
      .run({ ...placementParams(placement), name, t: now() });
  }

  setBuilder(name: string, builder: BuilderName): void {
    this.db.prepare('UPDATE apps SET builder = ?, updated_at = ? WHERE name = ?').run(builder, now(), name);
  }

  setScheduler(name: string, scheduler: SchedulerName): void {
    this.db.prepare('UPDATE apps SET scheduler = ?, updated_at = ? WHERE name = ?').run(scheduler, now(), name);
  }

  /** null = back to the default, 0 = no limit. */
  setLimits(name: string, limits: { memoryLimit: number | null; cpuLimit: number | null }): void {
    this.db
      .prepare('UPDATE apps SET memory_limit = @memoryLimit, cpu_limit = @cpuLimit, updated_at = @t WHERE name = @name')
      .run({ ...limits, name, t: now() });
  }

  deleteApp(name: string): void {
    this.db.prepare('DELETE FROM apps WHERE name = ?').run(name);
  }

  // env

  getEnv(app: string): EnvVars {
    const rows = this.db.prepare('SELECT key, value FROM env WHERE app = ? ORDER BY key').all(app) as Row[];
    return Object.fromEntries(rows.map((r) => [r.key as string, this.cipher.open(r.value as string)]));
  }

  /** Replaces the app's whole config. */
  setEnv(app: string, env: EnvVars): void {
    this.tx(() => {
      this.replaceEnv(app, env);
      this.db.prepare('UPDATE apps SET updated_at = ? WHERE name = ?').run(now(), app);
    });
  }

  /** The app's whole config, each value sealed (encrypted) on its way in. */
  private replaceEnv(app: string, env: EnvVars): void {
    this.db.prepare('DELETE FROM env WHERE app = ?').run(app);
    const insert = this.db.prepare('INSERT INTO env (app, key, value) VALUES (?, ?, ?)');
    for (const [key, value] of Object.entries(env)) insert.run(app, key, this.cipher.seal(value));
  }

  // releases

  listReleases(app: string): Release[] {
    return (this.db.prepare('SELECT * FROM releases WHERE app = ? ORDER BY number DESC').all(app) as Row[]).map((r) =>
      toRelease(r, this.cipher),
    );
  }

  /** The image id of every release of every app (without opening each release's sealed config). */
  releaseImageIds(): Set<string> {
    return new Set((this.db.prepare('SELECT DISTINCT image_id FROM releases').all() as Row[]).map((r) => r.image_id as string));
  }

  getRelease(app: string, number: number): Release | undefined {
    const row = this.db.prepare('SELECT * FROM releases WHERE app = ? AND number = ?').get(app, number) as
      | Row
      | undefined;
    return row ? toRelease(row, this.cipher) : undefined;
  }

  nextReleaseNumber(app: string): number {
    const row = this.db.prepare('SELECT MAX(number) AS n FROM releases WHERE app = ?').get(app) as Row;
    return ((row.n as number | null) ?? 0) + 1;
  }

  /**
   * The commit point of a deploy: the release row, the app's config, where it runs, what
   * the build learned and the deploy's success, in one transaction: a crash cannot leave
   * a live release whose deploy is recorded as failed.
   */
  commitRelease(commit: ReleaseCommit): Release {
    const { release } = commit;
    const placement = mainPlacement(commit.processes);
    this.tx(() => {
      const t = now();
      this.db
        .prepare(
          `INSERT INTO releases (app, number, image, image_id, env_json, commit_sha, kind, description,
             process_types, listen_port, created_at)
           VALUES (@app, @number, @imageTag, @imageId, @envJson, @commit, @kind, @description, @processTypes, @listenPort, @t)`,
        )
        .run({ ...release, envJson: this.cipher.seal(JSON.stringify(release.env)), processTypes: JSON.stringify(release.processTypes), t });
      this.replaceEnv(release.app, release.env);
      this.db
        .prepare(
          `UPDATE apps SET release = @number, container = @container, container_host = @containerHost,
           container_port = @containerPort, updated_at = @t WHERE name = @app`,
        )
        .run({ ...placementParams(placement), number: release.number, app: release.app, t });
      this.replaceProcesses(release.app, commit.processes);
      if (commit.scheduler) this.setScheduler(release.app, commit.scheduler);
      if (commit.source) this.updateSource(release.app, commit.source);
      this.finishDeploy(commit.deployId, release.number, release.commit);
    });
    return this.getRelease(release.app, release.number)!;
  }

  // processes

  /** The counts stored by scaling (types never scaled have no entry: they run 1). */
  getFormation(app: string): Formation {
    const rows = this.db.prepare('SELECT type, count FROM formation WHERE app = ? ORDER BY type').all(app) as Row[];
    return Object.fromEntries(rows.map((r) => [r.type as string, r.count as number]));
  }

  /** Where each process of the serving release runs, web first, by replica. */
  listProcesses(app?: string): Array<ProcessPlacement & { app: string }> {
    const sql = `SELECT * FROM processes ${app ? 'WHERE app = ?' : ''} ORDER BY app, type != 'web', type, replica`;
    return (this.db.prepare(sql).all(...(app ? [app] : [])) as Row[]).map(toProcess);
  }

  /**
   * A scale's commit point: the new counts and the processes that run now, in one
   * transaction (a deploy in a scale's deploy record is finished with it).
   */
  commitScale(app: string, formation: Formation, processes: ProcessPlacement[], deployId: number, release: number): void {
    this.tx(() => {
      const upsert = this.db.prepare('INSERT INTO formation (app, type, count) VALUES (?, ?, ?) ON CONFLICT (app, type) DO UPDATE SET count = excluded.count');
      for (const [type, count] of Object.entries(formation)) upsert.run(app, type, count);
      this.replaceProcesses(app, processes);
      this.db
        .prepare(`UPDATE apps SET container = @container, container_host = @containerHost, container_port = @containerPort, updated_at = @t WHERE name = @app`)
        .run({ ...placementParams(mainPlacement(processes)), app, t: now() });
      this.finishDeploy(deployId, release, this.getRelease(app, release)?.commit ?? null);
    });
  }

  /** Counts set before the app has a release: applied by its first deploy. */
  setFormation(app: string, formation: Formation): void {
    const upsert = this.db.prepare('INSERT INTO formation (app, type, count) VALUES (?, ?, ?) ON CONFLICT (app, type) DO UPDATE SET count = excluded.count');
    this.tx(() => {
      for (const [type, count] of Object.entries(formation)) upsert.run(app, type, count);
    });
  }

  /** A process came back at another address (a restart): its row and, for the main one, the app's. */
  setProcessAddress(app: string, container: string, address: Address): void {
    this.tx(() => {
      this.db.prepare('UPDATE processes SET host = ?, port = ? WHERE app = ? AND container = ?').run(address.host, address.port, app, container);
      this.db
        .prepare('UPDATE apps SET container_host = ?, container_port = ?, updated_at = ? WHERE name = ? AND container = ?')
        .run(address.host, address.port, now(), app, container);
    });
  }

  private replaceProcesses(app: string, processes: ProcessPlacement[]): void {
    this.db.prepare('DELETE FROM processes WHERE app = ?').run(app);
    const insert = this.db.prepare('INSERT INTO processes (app, type, replica, container, host, port) VALUES (?, ?, ?, ?, ?, ?)');
    for (const p of processes) insert.run(app, p.type, p.replica, p.container, p.address?.host ?? null, p.address?.port ?? null);
  }

  // deploys

  startDeploy(app: string, source: DeploySource, commit: string | null): Deploy {
    const info = this.db
      .prepare(`INSERT INTO deploys (app, source, status, commit_sha, started_at) VALUES (?, ?, 'running', ?, ?)`)
      .run(app, source, commit, now());
    return this.getDeploy(app, Number(info.lastInsertRowid))!;
  }

  finishDeploy(id: number, release: number, commit: string | null): void {
    this.db
      .prepare(`UPDATE deploys SET status = 'succeeded', release = ?, commit_sha = ?, finished_at = ? WHERE id = ?`)
      .run(release, commit, now(), id);
  }

  failDeploy(id: number, error: string): void {
    this.db
      .prepare(`UPDATE deploys SET status = 'failed', error = ?, finished_at = ? WHERE id = ? AND status = 'running'`)
      .run(error, now(), id);
  }

  saveDeployLog(id: number, text: string): void {
    this.db.prepare('UPDATE deploys SET log = ? WHERE id = ?').run(text, id);
  }

  getDeploy(app: string, id: number): Deploy | undefined {
    const row = this.db.prepare('SELECT * FROM deploys WHERE app = ? AND id = ?').get(app, id) as Row | undefined;
    return row ? toDeploy(row) : undefined;
  }

  getDeployLog(app: string, id: number): string | undefined {
    const row = this.db.prepare('SELECT log FROM deploys WHERE app = ? AND id = ?').get(app, id) as Row | undefined;
    return row ? (row.log as string) : undefined;
  }

  listDeploys(app: string, limit = 50): Deploy[] {
    return (
      this.db.prepare('SELECT * FROM deploys WHERE app = ? ORDER BY id DESC LIMIT ?').all(app, limit) as Row[]
    ).map(toDeploy);
  }

  /** Deploys a crash left "running": marks them failed. Returns how many. */
  failInterruptedDeploys(reason: string): number {
    return this.db
      .prepare(`UPDATE deploys SET status = 'failed', error = ?, finished_at = ? WHERE status = 'running'`)
      .run(reason, now()).changes;
  }
}

/** A row and the objects in it, frozen: cached rows are shared by every caller. */
function deepFreeze<T extends object>(row: T): T {
  for (const value of Object.values(row)) if (typeof value === 'object' && value !== null) Object.freeze(value);
  return Object.freeze(row);
}
