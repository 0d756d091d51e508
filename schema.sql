-- The whole hearth schema. Each "-- migration N: title" part is applied once, in order, by
-- src/db.rs, and PRAGMA user_version records the last one applied. Never edit a part that
-- has shipped: add a new one below it. Times are Unix seconds unless a column says otherwise.

-- migration 1: identity core
CREATE TABLE account (
    id            INTEGER PRIMARY KEY,
    username      TEXT UNIQUE,           -- login name for music, transit, system
    phone         TEXT UNIQUE,           -- 11-digit mobile, login for care
    password_hash TEXT NOT NULL,         -- Argon2id PHC string
    name          TEXT NOT NULL DEFAULT '',
    nickname      TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    sex           TEXT NOT NULL DEFAULT '',
    remark        TEXT NOT NULL DEFAULT '',
    avatar        TEXT,                  -- stored file name or URL
    enabled       INTEGER NOT NULL DEFAULT 1,
    banned        INTEGER NOT NULL DEFAULT 0,
    care_level    INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CHECK (username IS NOT NULL OR phone IS NOT NULL)
);

CREATE TABLE role (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    remark     TEXT NOT NULL DEFAULT '',
    enabled    INTEGER NOT NULL DEFAULT 1,
    builtin    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER
);
INSERT INTO role (id, name, remark, builtin, created_at) VALUES
    (1, '超级管理员', 'Super administrator: every operation', 1, strftime('%s','now')),
    (2, '管理员', 'Administrator', 1, strftime('%s','now')),
    (3, '普通用户', 'Ordinary user (default for self-registered accounts)', 1, strftime('%s','now')),
    (4, '创作者', 'Creator: may upload music', 1, strftime('%s','now')),
    (5, '分析员', 'Analyst: transit analytics', 1, strftime('%s','now'));

CREATE TABLE account_role (
    account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    role_id    INTEGER NOT NULL REFERENCES role(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, role_id)
) WITHOUT ROWID;
CREATE INDEX account_role_by_role ON account_role(role_id);

-- Sessions of every surface. Only the SHA-256 of a token is kept. A session is valid while
-- now < expires_at and, when idle_secs is set, now - last_used_at < idle_secs.
CREATE TABLE session (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    surface      TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    idle_secs    INTEGER,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX session_by_account ON session(account_id, surface, created_at);

-- Image captchas (CONTRACT §4): code is lowercase; single use, so a checked row is deleted.
CREATE TABLE captcha (
    rand       TEXT PRIMARY KEY,
    code       TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

-- SMS codes waiting to be checked, bound to phone and command_type (1 register, 2 forgotten
-- password). Expired rows are kept a day so a late check can say "expired".
CREATE TABLE sms_code (
    rand         TEXT PRIMARY KEY,
    phone        TEXT NOT NULL,
    code         TEXT NOT NULL,
    command_type INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sms_code_by_phone ON sms_code(phone, command_type);

-- What the default SMS sender "sent": administrators read it in the admin UI.
CREATE TABLE sms_outbox (
    id           INTEGER PRIMARY KEY,
    phone        TEXT NOT NULL,
    code         TEXT NOT NULL,
    rand         TEXT NOT NULL,
    command_type INTEGER NOT NULL,
    text         TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);

-- One-time links that let the first administrator be created from a browser.
CREATE TABLE setup_token (
    token_hash BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
