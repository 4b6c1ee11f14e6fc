-- The notes app's state: sign-ins in progress, sessions (with the tokens the session holds) and notes.
CREATE TABLE IF NOT EXISTS logins (
    state         TEXT PRIMARY KEY,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    return_to     TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash          TEXT PRIMARY KEY,
    sub              TEXT NOT NULL,
    email            TEXT NOT NULL,
    name             TEXT NOT NULL,
    id_token         TEXT NOT NULL,   -- the subject token for the token exchange
    id_token_exp     INTEGER NOT NULL,
    access_token     TEXT,            -- cached todo-API access token
    access_token_exp INTEGER,
    access_scope     TEXT,
    access_reuse     TEXT,            -- the ID-JAG re-use policy the AS published for it (NULL: none)
    expires_at       INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    sub        TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_by_sub ON notes (sub, updated_at);
