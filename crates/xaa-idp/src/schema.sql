-- The IdP's state. Codes, sessions, access and refresh tokens are stored as SHA-256 hashes only.
CREATE TABLE IF NOT EXISTS logins (
    id            TEXT PRIMARY KEY,      -- login transaction id (also in the xaa_idp_login cookie)
    client_id     TEXT NOT NULL,
    redirect_uri  TEXT NOT NULL,
    state         TEXT,
    nonce         TEXT,
    code_challenge TEXT NOT NULL,
    scope         TEXT NOT NULL,
    email         TEXT,
    created_at    INTEGER NOT NULL,
    consent_prompt INTEGER NOT NULL DEFAULT 0   -- the request said prompt=consent
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
-- Refresh tokens (`offline_access`), rotated on every refresh grant. `code_hash` names the family:
-- every token descended from one authorization code. Reuse of a rotated token revokes the family.
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    code_hash  TEXT NOT NULL,      -- the family: the code the first token was issued for
    client_id  TEXT NOT NULL,
    email      TEXT NOT NULL,
    scope      TEXT NOT NULL,
    auth_time  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,   -- the family's end: rotation does not extend it
    used       INTEGER NOT NULL DEFAULT 0   -- 1: rotated (presenting it again is reuse)
);
-- Clients registered at run time (console, admin API, RFC 7591). Only the SHA-256 of the secret
-- is kept (xaa_core::secret::ClientSecret): it is shown once, at registration. A database from
-- before had the secret itself in `client_secret`; opening it hashes those (store.rs).
CREATE TABLE IF NOT EXISTS clients (
    client_id     TEXT PRIMARY KEY,
    client_secret_sha256 TEXT NOT NULL,  -- base64url
    name          TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,         -- JSON array
    post_logout_redirect_uris TEXT NOT NULL, -- JSON array
    grant_types   TEXT NOT NULL DEFAULT '[]', -- JSON array; empty: every grant
    created_at    INTEGER NOT NULL,
    -- 1: open RFC 7591 registration (counts against the cap; its users are asked for consent);
    -- 0: registered by IT in the console or admin API (no consent screen)
    open_registration INTEGER NOT NULL DEFAULT 0
);
-- The connection policy as IT last set it, per tenant. `seed` records which fixture policy it
-- started from: a different fixture policy (other URLs or edited policy.json) reseeds the fixture
-- connections. `tenant` is '' only in rows moved from a lab before tenants (the default tenant's).
CREATE TABLE IF NOT EXISTS connections (
    tenant               TEXT NOT NULL,
    client_id            TEXT NOT NULL,
    authorization_server TEXT NOT NULL,
    resource             TEXT NOT NULL,
    scopes               TEXT NOT NULL,   -- JSON array
    resource_client_id   TEXT NOT NULL,
    users                TEXT NOT NULL,   -- JSON array
    PRIMARY KEY (tenant, client_id, authorization_server, resource)
);
-- A user's Allow for an openly registered client, with the scopes it covers (space-separated).
CREATE TABLE IF NOT EXISTS consents (
    sub        TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (sub, client_id)
);
-- A sign-out waiting for the user's confirmation (RP-Initiated Logout without a matching
-- id_token_hint). It ends only the session it was asked in, and only from a form with the CSRF token.
CREATE TABLE IF NOT EXISTS logouts (
    id           TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    redirect_to  TEXT,              -- the checked post_logout_redirect_uri, with state
    created_at   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- Every token exchange, issued or refused (the IdP's audit log).
CREATE TABLE IF NOT EXISTS audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    client_id  TEXT NOT NULL,
    user       TEXT NOT NULL,
    audience   TEXT NOT NULL,
    resource   TEXT NOT NULL,
    scope      TEXT NOT NULL,
    outcome    TEXT NOT NULL,             -- issued | refused
    error      TEXT NOT NULL,
    reason     TEXT NOT NULL,
    jti        TEXT NOT NULL,
    tenant     TEXT NOT NULL DEFAULT ''   -- the user's tenant ('' before the subject was known)
);
-- Housekeeping drops expired rows on every login: indexes keep that from scanning the tables.
CREATE INDEX IF NOT EXISTS logins_by_age ON logins (created_at);
CREATE INDEX IF NOT EXISTS logouts_by_age ON logouts (created_at);
CREATE INDEX IF NOT EXISTS codes_by_expiry ON codes (expires_at);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
CREATE INDEX IF NOT EXISTS access_tokens_by_expiry ON access_tokens (expires_at);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_expiry ON refresh_tokens (expires_at);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_family ON refresh_tokens (code_hash);
-- Every audit append drops the entries past the retention age (by id for the count: the key).
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at);
-- A login started by a SAML AuthnRequest (its row in `logins` holds the SP's client and ACS URL).
CREATE TABLE IF NOT EXISTS saml_logins (
    login_id     TEXT PRIMARY KEY,
    sp_entity_id TEXT NOT NULL,
    request_id   TEXT NOT NULL,       -- the AuthnRequest's ID (the response's InResponseTo)
    relay_state  TEXT,
    created_at   INTEGER NOT NULL
);
-- Every SAML assertion the IdP issued: token exchange accepts only these (positive identification).
CREATE TABLE IF NOT EXISTS saml_assertions (
    id           TEXT PRIMARY KEY,    -- the assertion's ID
    sp_entity_id TEXT NOT NULL,
    email        TEXT NOT NULL,
    name_id      TEXT NOT NULL,
    auth_time    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS saml_assertions_by_expiry ON saml_assertions (expires_at);
-- SAML service providers registered at run time (admin API), one per client; fixture SPs live in saml.json.
CREATE TABLE IF NOT EXISTS saml_service_providers (
    entity_id      TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL UNIQUE,
    acs_url        TEXT NOT NULL,
    name_id_format TEXT NOT NULL
);
