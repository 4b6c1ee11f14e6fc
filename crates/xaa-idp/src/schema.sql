-- The IdP's state. Codes, sessions and access tokens are stored as SHA-256 hashes only.
CREATE TABLE IF NOT EXISTS logins (
    id            TEXT PRIMARY KEY,      -- login transaction id (also in the xaa_idp_login cookie)
    csrf          TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    redirect_uri  TEXT NOT NULL,
    state         TEXT,
    nonce         TEXT,
    code_challenge TEXT NOT NULL,
    scope         TEXT NOT NULL,
    email         TEXT,
    created_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash    TEXT PRIMARY KEY,
    email      TEXT NOT NULL,
    auth_time  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS codes (
    code_hash      TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce          TEXT,
    scope          TEXT NOT NULL,
    email          TEXT NOT NULL,
    auth_time      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used           INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS access_tokens (
    token_hash TEXT PRIMARY KEY,
    code_hash  TEXT NOT NULL,      -- the code it was issued for (revoked if that code is replayed)
    client_id  TEXT NOT NULL,
    email      TEXT NOT NULL,
    scope      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
