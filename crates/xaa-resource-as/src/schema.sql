-- The resource trust domain's state: the authorization server's replay cache and the todo API's todos.
CREATE TABLE IF NOT EXISTS used_jtis (
    issuer     TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at INTEGER NOT NULL,   -- ID-JAG exp + JWT_LEEWAY: the record outlives the token
    reusable   INTEGER NOT NULL DEFAULT 0, -- 1: first used for a resource that allowed re-use until exp
    PRIMARY KEY (issuer, jti)
);
-- Every grant first drops the expired records: without this index that is a scan of them all.
CREATE INDEX IF NOT EXISTS used_jtis_by_expiry ON used_jtis (expires_at);
CREATE TABLE IF NOT EXISTS seeded_users (
    sub TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS todos (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    sub        TEXT NOT NULL,
    title      TEXT NOT NULL,
    completed  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS todos_by_sub ON todos (sub, id);
-- Clients of the authorization server registered at run time (console, admin API, RFC 7591).
-- Lab-only: the secret is kept so the console can show the client's .env again.
CREATE TABLE IF NOT EXISTS clients (
    client_id     TEXT PRIMARY KEY,
    client_secret TEXT NOT NULL,
    grant_types   TEXT NOT NULL DEFAULT '[]', -- JSON array; empty: every grant
    created_at    INTEGER NOT NULL,
    open_registration INTEGER NOT NULL DEFAULT 0 -- 1: open RFC 7591 registration (counts against the cap)
);
-- Each resource's ID-JAG re-use policy (lab decision A2), as IT set it; a resource without a row is
-- single use. `resource` is a configured resource by position ('#0', '#1': its URL follows the
-- lab's ports), or a resource registered at run time by its URI.
CREATE TABLE IF NOT EXISTS reuse_policies (
    resource   TEXT PRIMARY KEY,
    policy     TEXT NOT NULL CHECK (policy IN ('single_use', 'reuse_until_exp')),
    changed_at INTEGER NOT NULL
);
