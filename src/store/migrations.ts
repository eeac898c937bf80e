/**
 * Numbered schema migrations. Migration i brings PRAGMA user_version from i to i + 1;
 * append new ones, never edit an applied one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE apps (
    name            TEXT PRIMARY KEY,
    runtime         TEXT NOT NULL,
    repo            TEXT,
    branch          TEXT,
    port            INTEGER NOT NULL UNIQUE,
    scheduler       TEXT NOT NULL DEFAULT 'docker-local',
    release         INTEGER,
    container       TEXT,
    container_port  INTEGER,
    route_slot      TEXT NOT NULL DEFAULT 'blue' CHECK (route_slot IN ('blue', 'green')),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
  );
  CREATE TABLE env (
    app    TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (app, key)
  );
  CREATE TABLE releases (
    app          TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    number       INTEGER NOT NULL,
    image        TEXT NOT NULL,
    image_id     TEXT NOT NULL,
    env_json     TEXT NOT NULL,
    commit_sha   TEXT,
    kind         TEXT NOT NULL CHECK (kind IN ('build', 'config', 'rollback')),
    description  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (app, number)
  );
  CREATE TABLE deploys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    app          TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    source       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    commit_sha   TEXT,
    release      INTEGER,
    error        TEXT,
    log          TEXT NOT NULL DEFAULT '',
    started_at   TEXT NOT NULL,
    finished_at  TEXT
  );
  CREATE INDEX deploys_by_app ON deploys (app, id);
  `,
  // Per-app container limits: NULL = the installation's default, 0 = no limit.
  `
  ALTER TABLE apps ADD COLUMN memory_limit INTEGER;
  ALTER TABLE apps ADD COLUMN cpu_limit REAL;
  `,
  // Containers are reached at their own network address: container_host is its IP,
  // container_port now the port inside the container (was a published loopback port).
  // route_slot is no longer read: blue/green is the router's own business.
  `
  ALTER TABLE apps ADD COLUMN container_host TEXT;
  `,
];
