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

-- migration 3: open platform
-- Partner apps. app_secret_hash is the SHA-256 of the secret shown once at creation or
-- rotation (a 160-bit random value, so a fast hash suffices). webhook_secret signs webhook
-- bodies and must be readable to do so; it is never used to authenticate the app.
CREATE TABLE open_app (
    id              INTEGER PRIMARY KEY,
    app_id          TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    app_secret_hash BLOB NOT NULL,
    scopes          TEXT NOT NULL DEFAULT '',   -- space-separated: care:read transit:read music:read
    webhook_url     TEXT,
    webhook_secret  TEXT NOT NULL,
    enabled         INTEGER NOT NULL DEFAULT 1,
    created_by      INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER
);

-- App tokens (JWTs whose subject is open_app.id), stored as SHA-256 so that rotating the
-- secret, disabling or deleting the app revokes them.
CREATE TABLE open_token (
    id         INTEGER PRIMARY KEY,
    app        INTEGER NOT NULL REFERENCES open_app(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX open_token_by_app ON open_token(app);

-- The webhook queue: one row per event and app, delivered by a background worker with
-- retries; rows survive restarts. status: pending | delivered | failed.
CREATE TABLE webhook_event (
    id              INTEGER PRIMARY KEY,
    app             INTEGER NOT NULL REFERENCES open_app(id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT
);
CREATE INDEX webhook_event_due ON webhook_event(status, next_attempt_at);
CREATE INDEX webhook_event_by_app ON webhook_event(app, id);

CREATE TABLE webhook_attempt (
    id          INTEGER PRIMARY KEY,
    event       INTEGER NOT NULL REFERENCES webhook_event(id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    http_status INTEGER,
    error       TEXT,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX webhook_attempt_by_event ON webhook_attempt(event);

-- migration 4: backups
-- Every backup attempt, scheduled or asked for, so failures show on the dashboard.
CREATE TABLE backup_run (
    id          INTEGER PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    trigger     TEXT NOT NULL,            -- scheduled | admin | cli
    file        TEXT,                     -- archive name in <data>/backups, on success
    bytes       INTEGER,
    error       TEXT                      -- on failure
);
-- migration 5: care
-- Camera devices. The device token (the `device_id` of the care document) is kept only as
-- its SHA-256, like session tokens; `last_seen` is moved by heartbeats and uploads.
CREATE TABLE device (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    owner_id   INTEGER REFERENCES account(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER
);
CREATE INDEX device_by_owner ON device(owner_id, name);

-- Which accounts see a device's fall notices.
CREATE TABLE device_binding (
    account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    device_id  INTEGER NOT NULL REFERENCES device(id) ON DELETE CASCADE,
    bound_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, device_id)
) WITHOUT ROWID;
CREATE INDEX device_binding_by_device ON device_binding(device_id);

-- One row per fall notice; the snapshot is uploads/notices/<file> (file = pic_name + ext).
-- Rows older than the retention are deleted with their files unless `keep` is set.
CREATE TABLE notice (
    id         INTEGER PRIMARY KEY,
    event_id   TEXT NOT NULL UNIQUE,
    pic_name   TEXT NOT NULL UNIQUE,
    file       TEXT NOT NULL,
    device_id  INTEGER NOT NULL REFERENCES device(id) ON DELETE CASCADE,
    content    TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    keep       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notice_by_device ON notice(device_id, id);
CREATE INDEX notice_by_age ON notice(created_at) WHERE keep = 0;

-- Read state is per account.
CREATE TABLE notice_read (
    account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    notice_id  INTEGER NOT NULL REFERENCES notice(id) ON DELETE CASCADE,
    read_at    INTEGER NOT NULL,
    PRIMARY KEY (account_id, notice_id)
) WITHOUT ROWID;
CREATE INDEX notice_read_by_notice ON notice_read(notice_id);

-- The care portrait: a file in uploads/portraits, re-encoded to JPEG.
ALTER TABLE account ADD COLUMN care_portrait TEXT;
-- migration 6: music
-- Per-account music fields. The user detail's phoneNumber is a free contact number (up to 20
-- digits), kept apart from account.phone, which is the care login. banned_start/banned_end
-- record the last ban and lifting of it.
ALTER TABLE account ADD COLUMN music_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE account ADD COLUMN music_profile TEXT NOT NULL DEFAULT '{}';
ALTER TABLE account ADD COLUMN banned_start INTEGER;
ALTER TABLE account ADD COLUMN banned_end INTEGER;

-- Songs. creator and album are JSON arrays of integers as sent; music_song_creator indexes
-- the creators for filtering and recommendations. on_shelf 0 = temporarily unshelved
-- (hidden from everyone but the owner and administrators). res_file/cover_file are names in
-- the file store's songs/covers buckets. fav_count follows music_song_fav.
CREATE TABLE music_song (
    id           INTEGER PRIMARY KEY,
    owner_id     INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    creator      TEXT NOT NULL DEFAULT '[]',
    album        TEXT NOT NULL DEFAULT '[]',
    introduction TEXT NOT NULL DEFAULT '',
    lyric        TEXT NOT NULL DEFAULT '',
    res_file     TEXT NOT NULL,
    cover_file   TEXT,
    published_at INTEGER NOT NULL,
    on_shelf     INTEGER NOT NULL DEFAULT 1,
    fav_count    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX music_song_by_owner ON music_song(owner_id);
CREATE INDEX music_song_newest ON music_song(on_shelf, created_at DESC, id DESC);
CREATE UNIQUE INDEX music_song_by_res ON music_song(res_file);
CREATE INDEX music_song_by_cover ON music_song(cover_file);

CREATE TABLE music_song_creator (
    song_id    INTEGER NOT NULL REFERENCES music_song(id) ON DELETE CASCADE,
    creator_id INTEGER NOT NULL,
    PRIMARY KEY (song_id, creator_id)
) WITHOUT ROWID;
CREATE INDEX music_song_creator_by_creator ON music_song_creator(creator_id, song_id);

CREATE TABLE music_song_fav (
    account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    song_id    INTEGER NOT NULL REFERENCES music_song(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, song_id)
) WITHOUT ROWID;
CREATE INDEX music_song_fav_by_song ON music_song_fav(song_id, account_id);

CREATE TABLE music_playlist (
    id           INTEGER PRIMARY KEY,
    owner_id     INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    cover_file   TEXT,
    introduction TEXT NOT NULL DEFAULT '',
    style        TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX music_playlist_by_owner ON music_playlist(owner_id);

CREATE TABLE music_playlist_song (
    playlist_id INTEGER NOT NULL REFERENCES music_playlist(id) ON DELETE CASCADE,
    song_id     INTEGER NOT NULL REFERENCES music_song(id) ON DELETE CASCADE,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (playlist_id, song_id)
) WITHOUT ROWID;
CREATE INDEX music_playlist_song_by_song ON music_playlist_song(song_id, playlist_id);

CREATE TABLE music_playlist_fav (
    account_id  INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    playlist_id INTEGER NOT NULL REFERENCES music_playlist(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, playlist_id)
) WITHOUT ROWID;
CREATE INDEX music_playlist_fav_by_playlist ON music_playlist_fav(playlist_id, account_id);

-- Permission and ban requests awaiting an administrator. operation 'updatePermission'
-- (update_to = admin | creator | user) or 'banUser' (update_to = 'true' | 'false').
CREATE TABLE music_task (
    id           INTEGER PRIMARY KEY,
    requester_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    target_id    INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    operation    TEXT NOT NULL CHECK (operation IN ('updatePermission', 'banUser')),
    update_to    TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'TOC' CHECK (status IN ('TOC', 'DONE', 'REJECTED')),
    operator_id  INTEGER REFERENCES account(id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,   -- milliseconds, as the document prints them
    updated_at   INTEGER,
    finished_at  INTEGER
);
CREATE INDEX music_task_by_target ON music_task(target_id);
CREATE INDEX music_task_by_requester ON music_task(requester_id);
-- migration 7: transit
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
-- The bulk import drops and recreates these (src/surfaces/transit/import/bulk.rs lists them).
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

-- migration 8: identity invariants
-- Login names are unique whatever their case: `Admin0` is the account `admin0`. A box that
-- already holds names differing only in case keeps the oldest as it is and renames the
-- others to `<name>_<id>`.
UPDATE account SET username = username || '_' || id
 WHERE username IS NOT NULL
   AND id NOT IN (SELECT min(id) FROM account WHERE username IS NOT NULL GROUP BY username COLLATE NOCASE);
CREATE UNIQUE INDEX account_username_nocase ON account(username COLLATE NOCASE);
-- A session opened on behalf of another (the console's care session for its system
-- session) ends with it: logout, expiry and revocation alike.
ALTER TABLE session ADD COLUMN issued_by INTEGER REFERENCES session(id) ON DELETE CASCADE;
CREATE INDEX session_by_issuer ON session(issued_by) WHERE issued_by IS NOT NULL;

-- migration 9: care alerts
-- The online state last reported for each camera, so a camera that went silent while
-- hearth was stopped is reported once at the next start, and never twice.
CREATE TABLE alert_device_state (
    device_id INTEGER PRIMARY KEY REFERENCES device(id) ON DELETE CASCADE,
    online    INTEGER NOT NULL,
    since     INTEGER NOT NULL
);

-- migration 10: music library
-- Artists and albums as rows. Uploaded songs name their albums by integer (the music
-- document's `album` array): every integer a song names is an album row with that id,
-- nameless until a scan names it. music_song_album and music_song_artist link songs to them;
-- the song's `album` JSON stays as the document's view.
CREATE TABLE music_artist (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX music_artist_by_name ON music_artist(name COLLATE NOCASE);
CREATE TABLE music_album (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    artist_id  INTEGER REFERENCES music_artist(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX music_album_by_name ON music_album(name COLLATE NOCASE, artist_id);
CREATE TABLE music_song_album (
    song_id  INTEGER NOT NULL REFERENCES music_song(id) ON DELETE CASCADE,
    album_id INTEGER NOT NULL REFERENCES music_album(id) ON DELETE CASCADE,
    PRIMARY KEY (song_id, album_id)
) WITHOUT ROWID;
CREATE INDEX music_song_album_by_album ON music_song_album(album_id, song_id);
CREATE TABLE music_song_artist (
    song_id   INTEGER NOT NULL REFERENCES music_song(id) ON DELETE CASCADE,
    artist_id INTEGER NOT NULL REFERENCES music_artist(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    PRIMARY KEY (song_id, artist_id)
) WITHOUT ROWID;
CREATE INDEX music_song_artist_by_artist ON music_song_artist(artist_id, song_id);
INSERT OR IGNORE INTO music_album (id, created_at)
    SELECT DISTINCT j.value, strftime('%s','now') FROM music_song s, json_each(s.album) j
     WHERE j.type = 'integer' AND j.value > 0;
INSERT OR IGNORE INTO music_song_album (song_id, album_id)
    SELECT s.id, j.value FROM music_song s, json_each(s.album) j WHERE j.type = 'integer' AND j.value > 0;
-- A scanned song lives at `path` (relative, '/'-separated) inside the music folder `folder`
-- (as configured); uploads have neither. Its res_file/cover_file are `library-…` names that
-- the file store never makes, served from that path. size and mtime (Unix milliseconds) tell a
-- rescan whether to read the tags again. duration is in seconds, bit_rate in kbit/s.
ALTER TABLE music_song ADD COLUMN folder TEXT;
ALTER TABLE music_song ADD COLUMN path TEXT;
ALTER TABLE music_song ADD COLUMN size INTEGER;
ALTER TABLE music_song ADD COLUMN mtime INTEGER;
ALTER TABLE music_song ADD COLUMN artist TEXT NOT NULL DEFAULT '';
ALTER TABLE music_song ADD COLUMN album_name TEXT NOT NULL DEFAULT '';
ALTER TABLE music_song ADD COLUMN album_artist TEXT NOT NULL DEFAULT '';
ALTER TABLE music_song ADD COLUMN track INTEGER;
ALTER TABLE music_song ADD COLUMN disc INTEGER;
ALTER TABLE music_song ADD COLUMN year INTEGER;
ALTER TABLE music_song ADD COLUMN genre TEXT NOT NULL DEFAULT '';
ALTER TABLE music_song ADD COLUMN duration INTEGER;
ALTER TABLE music_song ADD COLUMN bit_rate INTEGER;
ALTER TABLE music_song ADD COLUMN has_cover INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX music_song_by_path ON music_song(folder, path) WHERE folder IS NOT NULL;
-- migration 11: web push
-- A browser's push subscription, for the account that made it. An endpoint names one
-- browser: subscribing it again replaces its keys and owner.
CREATE TABLE push_subscription (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX push_subscription_by_account ON push_subscription(account_id);
-- Messages on their way to a subscription; the payload is kept in clear and encrypted
-- afresh at each attempt. Delivered and failed ones are pruned after a week.
CREATE TABLE push_message (
    id              INTEGER PRIMARY KEY,
    subscription    INTEGER NOT NULL REFERENCES push_subscription(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT
);
CREATE INDEX push_message_due ON push_message(status, next_attempt_at);
CREATE INDEX push_message_by_subscription ON push_message(subscription);
-- migration 12: app passwords
-- Secrets for Subsonic clients, sealed with AES-256-GCM under secrets/app-passwords.key
-- (src/identity/app_passwords.rs); `lookup` is the SHA-256 of the secret.
CREATE TABLE app_password (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    nonce        BLOB NOT NULL,
    sealed       BLOB NOT NULL,
    lookup       BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX app_password_by_account ON app_password(account_id);
-- migration 13: fall escalation
-- One row per fall notice still to be escalated (src/alerts/escalate.rs): how many times it
-- was sent again and when the next time is due, so a restart neither forgets nor resends early.
CREATE TABLE alert_escalation (
    notice_id INTEGER PRIMARY KEY REFERENCES notice(id) ON DELETE CASCADE,
    sent      INTEGER NOT NULL DEFAULT 0,
    next_at   INTEGER NOT NULL,
    done      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alert_escalation_due ON alert_escalation(done, next_at);
-- migration 14: membership and grant tables with rowids
-- Signed-in callers are cached in memory (src/identity/callers.rs) and dropped when a table
-- that decides who they are or what they may do changes. SQLite reports changes through its
-- update hook, which stays silent for WITHOUT ROWID tables, so these four become rowid tables
-- with the same keys.
CREATE TABLE account_role_rowid (
    account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    role_id    INTEGER NOT NULL REFERENCES role(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, role_id)
);
INSERT INTO account_role_rowid (account_id, role_id) SELECT account_id, role_id FROM account_role;
DROP TABLE account_role;
ALTER TABLE account_role_rowid RENAME TO account_role;
CREATE INDEX account_role_by_role ON account_role(role_id);
CREATE TABLE role_permission_rowid (
    role_id       INTEGER NOT NULL REFERENCES role(id) ON DELETE CASCADE,
    permission_id INTEGER NOT NULL REFERENCES permission(id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);
INSERT INTO role_permission_rowid (role_id, permission_id) SELECT role_id, permission_id FROM role_permission;
DROP TABLE role_permission;
ALTER TABLE role_permission_rowid RENAME TO role_permission;
CREATE TABLE data_role_scope_rowid (
    data_role_id INTEGER NOT NULL REFERENCES data_role(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,               -- 'transit.area' | 'care.device'
    value        TEXT NOT NULL,
    PRIMARY KEY (data_role_id, kind, value)
);
INSERT INTO data_role_scope_rowid (data_role_id, kind, value) SELECT data_role_id, kind, value FROM data_role_scope;
DROP TABLE data_role_scope;
ALTER TABLE data_role_scope_rowid RENAME TO data_role_scope;
CREATE TABLE account_data_role_rowid (
    account_id   INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    data_role_id INTEGER NOT NULL REFERENCES data_role(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, data_role_id)
);
INSERT INTO account_data_role_rowid (account_id, data_role_id) SELECT account_id, data_role_id FROM account_data_role;
DROP TABLE account_data_role;
ALTER TABLE account_data_role_rowid RENAME TO account_data_role;
CREATE INDEX account_data_role_by_role ON account_data_role(data_role_id);
-- migration 15: alert delivery record
-- Who was told of each fall, on which channel, when, and whether it arrived
-- (src/alerts/record.rs). Rows go with their notice (care retention) and with the account
-- they name; at most 500 per notice. `account_id` NULL: the Home Assistant broker (MQTT).
-- Push messages name the notice they carry, so the worker can record their outcome.
ALTER TABLE push_message ADD COLUMN notice_id INTEGER REFERENCES notice(id) ON DELETE CASCADE;
CREATE INDEX push_message_by_notice ON push_message(notice_id);
CREATE TABLE alert_delivery (
    id         INTEGER PRIMARY KEY,
    notice_id  INTEGER NOT NULL REFERENCES notice(id) ON DELETE CASCADE,
    account_id INTEGER REFERENCES account(id) ON DELETE CASCADE,
    channel    TEXT NOT NULL,
    escalated  INTEGER NOT NULL DEFAULT 0,
    delivered  INTEGER NOT NULL,
    reason     TEXT,
    at         INTEGER NOT NULL
);
CREATE INDEX alert_delivery_by_notice ON alert_delivery(notice_id, id);
CREATE INDEX alert_delivery_by_account ON alert_delivery(account_id);
-- migration 16: music plays and ratings
-- Per account and song: a rating of 1 to 5 (Subsonic setRating; 0 removes it), and the plays
-- reported by scrobbles (count and the last one, epoch seconds). music_now_playing holds what
-- each account's player (the client name `c`) said it started, shown for a few minutes.
CREATE TABLE music_song_rating (
    account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    song_id    INTEGER NOT NULL REFERENCES music_song(id) ON DELETE CASCADE,
    rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, song_id)
) WITHOUT ROWID;
CREATE TABLE music_song_play (
    account_id     INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    song_id        INTEGER NOT NULL REFERENCES music_song(id) ON DELETE CASCADE,
    play_count     INTEGER NOT NULL,
    last_played_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, song_id)
) WITHOUT ROWID;
CREATE TABLE music_now_playing (
    account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    player     TEXT NOT NULL,
    song_id    INTEGER NOT NULL REFERENCES music_song(id) ON DELETE CASCADE,
    started_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, player)
) WITHOUT ROWID;
-- migration 17: music song lists at scale
-- Each list in its own order from an index: administrators see every song, `mode=true`
-- an owner's own uploads (the on-shelf list has music_song_newest).
DROP INDEX music_song_by_owner;
CREATE INDEX music_song_by_owner ON music_song(owner_id, created_at DESC, id DESC);
CREATE INDEX music_song_by_created ON music_song(created_at DESC, id DESC);
-- Song names by trigram, so a name filter finds its few songs without reading every name.
-- The list still applies its LIKE to what this finds (case folding here is wider than LIKE's).
CREATE VIRTUAL TABLE music_song_name USING fts5(name, content='music_song', content_rowid='id', tokenize='trigram');
INSERT INTO music_song_name(music_song_name) VALUES ('rebuild');
CREATE TRIGGER music_song_name_add AFTER INSERT ON music_song BEGIN
    INSERT INTO music_song_name(rowid, name) VALUES (new.id, new.name);
END;
CREATE TRIGGER music_song_name_drop AFTER DELETE ON music_song BEGIN
    INSERT INTO music_song_name(music_song_name, rowid, name) VALUES ('delete', old.id, old.name);
END;
CREATE TRIGGER music_song_name_change AFTER UPDATE OF name ON music_song BEGIN
    INSERT INTO music_song_name(music_song_name, rowid, name) VALUES ('delete', old.id, old.name);
    INSERT INTO music_song_name(rowid, name) VALUES (new.id, new.name);
END;
-- One row: songs on the shelf and hidden, for the unfiltered totals, and a generation that
-- moves with every change a filtered total depends on (src/surfaces/music/song_list.rs).
CREATE TABLE music_song_census (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    shelved    INTEGER NOT NULL,
    hidden     INTEGER NOT NULL,
    generation INTEGER NOT NULL
);
INSERT INTO music_song_census (id, shelved, hidden, generation)
    SELECT 1, count(*) FILTER (WHERE on_shelf = 1), count(*) FILTER (WHERE on_shelf <> 1), 0 FROM music_song;
CREATE TRIGGER music_song_census_add AFTER INSERT ON music_song BEGIN
    UPDATE music_song_census SET shelved = shelved + (new.on_shelf = 1), hidden = hidden + (new.on_shelf <> 1),
        generation = generation + 1;
END;
CREATE TRIGGER music_song_census_drop AFTER DELETE ON music_song BEGIN
    UPDATE music_song_census SET shelved = shelved - (old.on_shelf = 1), hidden = hidden - (old.on_shelf <> 1),
        generation = generation + 1;
END;
CREATE TRIGGER music_song_census_change AFTER UPDATE OF name, on_shelf, owner_id, created_at ON music_song BEGIN
    UPDATE music_song_census SET shelved = shelved + (new.on_shelf = 1) - (old.on_shelf = 1),
        hidden = hidden + (new.on_shelf <> 1) - (old.on_shelf <> 1), generation = generation + 1;
END;
-- migration 18: transit passengers by birth year
-- The age structure reads this instead of grouping every passenger; kept exact by triggers
-- in the transaction of every passenger change (edits, deletions and imports alike).
CREATE TABLE transit_birth_year (
    birth INTEGER PRIMARY KEY,
    n     INTEGER NOT NULL
);
INSERT INTO transit_birth_year (birth, n)
    SELECT birth, count(*) FROM transit_passenger WHERE birth IS NOT NULL GROUP BY birth;
CREATE TRIGGER transit_birth_year_add AFTER INSERT ON transit_passenger WHEN new.birth IS NOT NULL BEGIN
    INSERT INTO transit_birth_year (birth, n) VALUES (new.birth, 1) ON CONFLICT (birth) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER transit_birth_year_drop AFTER DELETE ON transit_passenger WHEN old.birth IS NOT NULL BEGIN
    UPDATE transit_birth_year SET n = n - 1 WHERE birth = old.birth;
    DELETE FROM transit_birth_year WHERE birth = old.birth AND n = 0;
END;
CREATE TRIGGER transit_birth_year_change AFTER UPDATE OF birth ON transit_passenger
    WHEN old.birth IS NOT new.birth BEGIN
    UPDATE transit_birth_year SET n = n - 1 WHERE birth = old.birth;
    DELETE FROM transit_birth_year WHERE birth = old.birth AND n = 0;
    INSERT INTO transit_birth_year (birth, n) SELECT new.birth, 1 WHERE new.birth IS NOT NULL
        ON CONFLICT (birth) DO UPDATE SET n = n + 1;
END;
-- migration 19: music play queues
-- Per account, the play queue a Subsonic app saved (savePlayQueue) so that another device
-- can go on with it: the entry playing (an index into the entries) and where in it
-- (milliseconds), when and by which app (its `c`) it was saved; the entries in order, a song
-- possibly more than once. A song deleted from the library leaves the queues it was in.
CREATE TABLE music_play_queue (
    account_id    INTEGER PRIMARY KEY REFERENCES account(id) ON DELETE CASCADE,
    current_index INTEGER NOT NULL,
    position_ms   INTEGER NOT NULL,
    changed_at    INTEGER NOT NULL,
    changed_by    TEXT NOT NULL
);
CREATE TABLE music_play_queue_entry (
    account_id INTEGER NOT NULL REFERENCES music_play_queue(account_id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    song_id    INTEGER NOT NULL REFERENCES music_song(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, idx)
) WITHOUT ROWID;
CREATE INDEX music_play_queue_entry_by_song ON music_play_queue_entry(song_id);
