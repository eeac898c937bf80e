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
  // How an app builds (issue 8), and what each build release learned: its Procfile's
  // process types and the port its app listens on inside the container.
  `
  ALTER TABLE apps ADD COLUMN builder TEXT NOT NULL DEFAULT 'platform' CHECK (builder IN ('platform', 'dockerfile'));
  ALTER TABLE releases ADD COLUMN process_types TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE releases ADD COLUMN listen_port INTEGER;
  `,
  // Forge connections (webhook secret and optional deploy token: readable only through the
  // owner-only database file), webhook deliveries seen (de-duplication), preview apps, and
  // the newest webhook job per app not yet done (resumed after a restart).
  `
  CREATE TABLE forge_connections (
    app         TEXT PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
    forge       TEXT NOT NULL CHECK (forge IN ('github', 'gitlab')),
    repo        TEXT NOT NULL,
    branch      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    token       TEXT,
    created_at  TEXT NOT NULL
  );
  CREATE TABLE forge_deliveries (
    forge        TEXT NOT NULL,
    id           TEXT NOT NULL,
    app          TEXT NOT NULL,
    event        TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    reason       TEXT,
    pr           INTEGER,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (forge, id)
  );
  CREATE INDEX forge_deliveries_by_app ON forge_deliveries (app, received_at);
  CREATE TABLE previews (
    parent      TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    app         TEXT NOT NULL UNIQUE,
    head_ref    TEXT NOT NULL,
    commit_sha  TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (parent, number)
  );
  CREATE TABLE forge_pending (
    key          TEXT PRIMARY KEY,
    parent       TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    event_json   TEXT NOT NULL,
    received_at  TEXT NOT NULL
  );
  `,
  // Containers are reached at their own network address: container_host is its IP,
  // container_port now the port inside the container (was a published loopback port).
  // route_slot is no longer read: blue/green is the router's own business.
  `
  ALTER TABLE apps ADD COLUMN container_host TEXT;
  `,
  // Users, their tokens (only a salted scrypt hash of each), roles per app, and the audit
  // log (issue 15). The owner user holds the token generated at first start.
  `
  CREATE TABLE users (
    name        TEXT PRIMARY KEY,
    owner       INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
  );
  INSERT INTO users (name, owner, created_at) VALUES ('owner', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
  CREATE TABLE tokens (
    id            TEXT PRIMARY KEY,
    user          TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    salt          BLOB NOT NULL,
    hash          BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    revoked_at    TEXT,
    last_used_at  TEXT
  );
  CREATE TABLE app_access (
    app         TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    user        TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'deploy', 'read')),
    granted_at  TEXT NOT NULL,
    PRIMARY KEY (app, user)
  );
  CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    user        TEXT,
    token_name  TEXT,
    address     TEXT,
    action      TEXT NOT NULL,
    app         TEXT,
    detail      TEXT,
    status      INTEGER NOT NULL,
    outcome     TEXT NOT NULL
  );
  CREATE INDEX audit_by_app ON audit (app, id);
  `,
  // Processes (issue 10): each app's formation (how many of each process type; a type
  // without a row runs 1) and where every process of the serving release runs. Apps that
  // ran one container keep it as web.1.
  `
  CREATE TABLE formation (
    app    TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    type   TEXT NOT NULL,
    count  INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (app, type)
  );
  CREATE TABLE processes (
    app        TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    replica    INTEGER NOT NULL,
    container  TEXT NOT NULL UNIQUE,
    host       TEXT,
    port       INTEGER,
    PRIMARY KEY (app, type, replica)
  );
  INSERT INTO processes (app, type, replica, container, host, port)
    SELECT name, 'web', 1, container, container_host, container_port FROM apps WHERE container IS NOT NULL;
  `,
  // Host names and their certificates (issue 11). app NULL = the control plane's own host.
  `
  CREATE TABLE domains (
    host           TEXT PRIMARY KEY,
    app            TEXT REFERENCES apps(name) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    cert_source    TEXT,
    cert_status    TEXT NOT NULL,
    expires_at     TEXT,
    error          TEXT,
    next_retry_at  TEXT,
    failures       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL
  );
  CREATE INDEX domains_by_app ON domains (app);
  CREATE TABLE app_tls (
    app             TEXT PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
    https_redirect  INTEGER NOT NULL
  );
  `,
];
