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

-- migration 2: authorization: permissions, role grants, data roles, departments
-- One row per API operation of every surface (type BUTTON, uri = mount + documented path,
-- method), per surface (MODULE, uri = mount) and per admin UI page (MENU, uri = page
-- address). Rows are kept in sync with the code at every start (src/identity/catalogue.rs):
-- new operations are added and granted to the built-in roles their audience names, removed
-- ones are deleted. Grants an administrator changed are never touched again.
CREATE TABLE permission (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    icon             TEXT NOT NULL DEFAULT '',
    type             TEXT NOT NULL CHECK (type IN ('MENU', 'MODULE', 'BUTTON')),
    uri              TEXT NOT NULL,
    method           TEXT NOT NULL DEFAULT '',
    permission_value TEXT NOT NULL,          -- "<surface>:<METHOD>:<uri>", stable across starts
    parent_id        INTEGER NOT NULL DEFAULT 0,
    tree_id          INTEGER NOT NULL DEFAULT 0,
    page_id          INTEGER NOT NULL DEFAULT 0,
    order_num        INTEGER NOT NULL DEFAULT 0,
    enabled          INTEGER NOT NULL DEFAULT 1,
    remark           TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER,
    UNIQUE (permission_value)
);

CREATE TABLE role_permission (
    role_id       INTEGER NOT NULL REFERENCES role(id) ON DELETE CASCADE,
    permission_id INTEGER NOT NULL REFERENCES permission(id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
) WITHOUT ROWID;

-- Data roles restrict which rows an account sees. Scopes are "<kind>:<value>" pairs; see
-- docs/decisions.md ("Data roles") for the kinds and how surfaces apply them.
CREATE TABLE data_role (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    remark     TEXT NOT NULL DEFAULT '',
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER
);

CREATE TABLE data_role_scope (
    data_role_id INTEGER NOT NULL REFERENCES data_role(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,               -- 'transit.area' | 'care.device'
    value        TEXT NOT NULL,
    PRIMARY KEY (data_role_id, kind, value)
) WITHOUT ROWID;

CREATE TABLE account_data_role (
    account_id   INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    data_role_id INTEGER NOT NULL REFERENCES data_role(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, data_role_id)
) WITHOUT ROWID;
CREATE INDEX account_data_role_by_role ON account_data_role(data_role_id);

-- Departments. dept_code is 3 digits per level ("001", "001002"); level = its length / 3.
-- A soft-deleted department (delete_flag 1) keeps its row and frees its code.
CREATE TABLE dept (
    id             INTEGER PRIMARY KEY,
    dept_code      TEXT NOT NULL,
    parent_id      INTEGER REFERENCES dept(id),
    name           TEXT NOT NULL,
    alias_name     TEXT NOT NULL DEFAULT '',
    order_num      INTEGER NOT NULL DEFAULT 0,
    enabled        INTEGER NOT NULL DEFAULT 1,
    delete_flag    INTEGER NOT NULL DEFAULT 0,
    create_user_id INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER
);
CREATE UNIQUE INDEX dept_live_code ON dept(dept_code) WHERE delete_flag = 0;
CREATE INDEX dept_by_parent ON dept(parent_id);

ALTER TABLE account ADD COLUMN dept_id INTEGER REFERENCES dept(id);
CREATE INDEX account_by_dept ON account(dept_id);

-- migration 3: transit
-- Metro ridership (seed 000). Times are the metro's wall-clock times as written in the
-- data (no time zone), stored as seconds since 1970-01-01 00:00 of that clock; a day is
-- time / 86400, an hour of the day (time % 86400) / 3600.
CREATE TABLE transit_station (
    id    INTEGER PRIMARY KEY,              -- station_id, e.g. 1004
    name  TEXT NOT NULL UNIQUE,             -- station_name, e.g. Sta18
    route TEXT NOT NULL DEFAULT '',         -- station_route, e.g. 1号线
    area  TEXT NOT NULL DEFAULT ''          -- admin_area, e.g. Dist1; data roles scope by it
);

-- Every passenger id seen, in a trip or in the passenger list; trips refer to it by number.
CREATE TABLE transit_rider (
    id  INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE                -- the data's 用户ID, e.g. 32 hex digits
);

CREATE TABLE transit_passenger (
    rider_id INTEGER PRIMARY KEY REFERENCES transit_rider(id),
    dist     INTEGER,                       -- area code of the passenger's registration
    birth    INTEGER,                       -- birth year
    gender   INTEGER
);
CREATE INDEX transit_passenger_by_birth ON transit_passenger(birth);

CREATE TABLE transit_workday (
    date       TEXT PRIMARY KEY,            -- yyyy-MM-dd
    date_class INTEGER NOT NULL
);

-- AUTOINCREMENT: a deleted trip's id is never given to another trip.
CREATE TABLE transit_trip (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rider_id    INTEGER NOT NULL REFERENCES transit_rider(id),
    in_station  INTEGER NOT NULL REFERENCES transit_station(id),
    in_time     INTEGER NOT NULL,
    out_station INTEGER NOT NULL REFERENCES transit_station(id),
    out_time    INTEGER NOT NULL,
    channel     INTEGER NOT NULL,
    price       INTEGER NOT NULL
);
-- The bulk import drops and recreates these (src/surfaces/transit/import.rs lists them).
CREATE INDEX transit_trip_by_time ON transit_trip(in_time);
CREATE INDEX transit_trip_by_rider ON transit_trip(rider_id, in_time);
CREATE INDEX transit_trip_by_in ON transit_trip(in_station, in_time);
CREATE INDEX transit_trip_by_out ON transit_trip(out_station, in_time);

-- Rollups kept exact in the same transaction as every trip change, so analytics never
-- scan trips. A trip counts on the day of its in_time; rows that reach 0 are deleted.
CREATE TABLE transit_day_total (
    day INTEGER PRIMARY KEY,
    n   INTEGER NOT NULL
);
-- n_in: trips entering `station` in that hour (by in_time); n_out: trips leaving it (by out_time).
CREATE TABLE transit_station_hour (
    station INTEGER NOT NULL,
    day     INTEGER NOT NULL,
    hour    INTEGER NOT NULL,
    n_in    INTEGER NOT NULL,
    n_out   INTEGER NOT NULL,
    PRIMARY KEY (station, day, hour)
) WITHOUT ROWID;
CREATE TABLE transit_od_day (
    day    INTEGER NOT NULL,
    origin INTEGER NOT NULL,
    dest   INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (day, origin, dest)
) WITHOUT ROWID;
CREATE INDEX transit_od_day_by_dest ON transit_od_day(day, dest);
