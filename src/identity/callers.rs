//! Signed-in callers kept in memory, so an authenticated request needs no database call
//! before its own query: the caller behind a token (account, roles, session expiry), an
//! account's data scope, and the app passwords a Subsonic client's credential is checked
//! against.
//!
//! Every entry carries the database's change generation (`Db::generation`) read before it
//! was loaded. Any committed change to a table that decides who a caller is or what it may
//! do (`affects_callers`) moves the generation on, which drops every entry at once: a logout,
//! ban, password change or grant change made through hearth takes effect on the very next
//! request, whichever surface or code path wrote it. Another process writing the same file
//! (the `hearth admin` command while the server runs) is not seen by the hook; entries
//! therefore also live at most `MAX_AGE`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use rusqlite::hooks::Action;

use super::app_passwords::{Keyring, KeyringKey};
use super::authz::DataScope;
use super::Caller;

/// How long an entry is trusted without a change the hook saw.
const MAX_AGE: Duration = Duration::from_secs(5);
/// Entries kept at most; past it the map starts again empty (entries are cheap to reload).
const MAX_ENTRIES: usize = 4096;

/// The tables whose changes can end a session or change what its account may do. Sessions
/// being opened, or sliding their idle expiry, change no other caller, so only deletions of
/// sessions count; app passwords count when one is made or revoked, not when a use is
/// recorded.
pub fn affects_callers(action: Action, table: &str) -> bool {
    match table {
        "session" => action == Action::SQLITE_DELETE,
        "app_password" => action != Action::SQLITE_UPDATE,
        "account" | "account_role" | "role" | "role_permission" | "permission" | "account_data_role" | "data_role"
        | "data_role_scope" => true,
        _ => false,
    }
}

/// A live session as the database last said, and when its idle expiry was last moved.
pub struct SessionEntry {
    pub caller: Caller,
    pub expires_at: i64,
    pub idle_secs: Option<i64>,
    pub last_used: AtomicI64,
    generation: u64,
    loaded: Instant,
}

impl SessionEntry {
    pub fn new(caller: Caller, expires_at: i64, idle_secs: Option<i64>, last_used: i64, generation: u64) -> Self {
        SessionEntry {
            caller,
            expires_at,
            idle_secs,
            last_used: AtomicI64::new(last_used),
            generation,
            loaded: Instant::now(),
        }
    }

    /// Still alive at `now` by its own clocks (the database's view is checked by the cache).
    pub fn alive_at(&self, now: i64) -> bool {
        now < self.expires_at && self.idle_secs.is_none_or(|idle| now - self.last_used.load(Ordering::Relaxed) < idle)
    }

    /// Whether the stored idle expiry should move forward now. Moving it at most every
    /// hundredth of the idle time (1–60 s) keeps writes off the hot path at the cost of a
    /// session ending that much early.
    pub fn wants_slide(&self, now: i64) -> bool {
        self.idle_secs.is_some_and(|idle| now - self.last_used.load(Ordering::Relaxed) >= (idle / 100).clamp(1, 60))
    }
}

/// The app passwords one credential can name, with the account they sign in as.
pub struct AppKeys {
    pub keyring: Keyring,
    pub caller: Caller,
    pub enabled: bool,
    pub banned: bool,
    generation: u64,
    loaded: Instant,
}

impl AppKeys {
    pub fn new(keyring: Keyring, caller: Caller, enabled: bool, banned: bool, generation: u64) -> Self {
        AppKeys { keyring, caller, enabled, banned, generation, loaded: Instant::now() }
    }
}

struct Scope {
    scope: DataScope,
    generation: u64,
    loaded: Instant,
}

#[derive(Default)]
pub struct Callers {
    sessions: RwLock<HashMap<Vec<u8>, Arc<SessionEntry>>>,
    scopes: RwLock<HashMap<i64, Arc<Scope>>>,
    apps: RwLock<HashMap<KeyringKey, Arc<AppKeys>>>,
}

fn fresh(generation: u64, loaded: Instant, now_generation: u64) -> bool {
    generation == now_generation && loaded.elapsed() < MAX_AGE
}

fn insert_bounded<K: std::hash::Hash + Eq, V>(map: &RwLock<HashMap<K, V>>, key: K, value: V) {
    let mut map = map.write().expect("callers lock");
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(key, value);
}

impl Callers {
    /// The cached session for a token's hash, if it is still current.
    pub fn session(&self, token_hash: &[u8], generation: u64) -> Option<Arc<SessionEntry>> {
        let entry = self.sessions.read().expect("callers lock").get(token_hash).cloned()?;
        fresh(entry.generation, entry.loaded, generation).then_some(entry)
    }

    pub fn keep_session(&self, token_hash: Vec<u8>, entry: SessionEntry) -> Arc<SessionEntry> {
        let entry = Arc::new(entry);
        insert_bounded(&self.sessions, token_hash, entry.clone());
        entry
    }

    pub fn forget_session(&self, token_hash: &[u8]) {
        self.sessions.write().expect("callers lock").remove(token_hash);
    }

    pub fn forget_all(&self) {
        self.sessions.write().expect("callers lock").clear();
        self.scopes.write().expect("callers lock").clear();
        self.apps.write().expect("callers lock").clear();
    }

    pub fn scope(&self, account_id: i64, generation: u64) -> Option<DataScope> {
        let entry = self.scopes.read().expect("callers lock").get(&account_id).cloned()?;
        fresh(entry.generation, entry.loaded, generation).then(|| entry.scope.clone())
    }

    pub fn keep_scope(&self, account_id: i64, scope: DataScope, generation: u64) {
        insert_bounded(&self.scopes, account_id, Arc::new(Scope { scope, generation, loaded: Instant::now() }));
    }

    pub fn app_keys(&self, key: &KeyringKey, generation: u64) -> Option<Arc<AppKeys>> {
        let entry = self.apps.read().expect("callers lock").get(key).cloned()?;
        fresh(entry.generation, entry.loaded, generation).then_some(entry)
    }

    pub fn keep_app_keys(&self, key: KeyringKey, keys: AppKeys) -> Arc<AppKeys> {
        let keys = Arc::new(keys);
        insert_bounded(&self.apps, key, keys.clone());
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller { account_id: 7, session_id: 3, roles: vec![2] }
    }

    #[test]
    fn an_entry_is_dropped_by_any_change_after_it_was_read() {
        let callers = Callers::default();
        callers.keep_session(b"h".to_vec(), SessionEntry::new(caller(), i64::MAX, None, 0, 4));
        assert!(callers.session(b"h", 4).is_some());
        assert!(callers.session(b"h", 5).is_none(), "a later generation must not see the entry");
        assert!(callers.session(b"other", 4).is_none());
    }

    #[test]
    fn idle_sessions_expire_and_slide_by_their_own_clock() {
        let entry = SessionEntry::new(caller(), 10_000, Some(600), 1_000, 0);
        assert!(entry.alive_at(1_599) && !entry.alive_at(1_600));
        assert!(!entry.wants_slide(1_005) && entry.wants_slide(1_006));
        let lifetime_only = SessionEntry::new(caller(), 2_000, None, 1_000, 0);
        assert!(lifetime_only.alive_at(1_999) && !lifetime_only.alive_at(2_000));
        assert!(!lifetime_only.wants_slide(1_999));
    }

    #[test]
    fn only_deleted_sessions_and_identity_tables_count_as_changes() {
        assert!(affects_callers(Action::SQLITE_DELETE, "session"));
        assert!(!affects_callers(Action::SQLITE_INSERT, "session"));
        assert!(!affects_callers(Action::SQLITE_UPDATE, "session"));
        assert!(affects_callers(Action::SQLITE_UPDATE, "account"));
        assert!(affects_callers(Action::SQLITE_INSERT, "role_permission"));
        assert!(!affects_callers(Action::SQLITE_INSERT, "notice"));
        assert!(affects_callers(Action::SQLITE_INSERT, "app_password"));
        assert!(affects_callers(Action::SQLITE_DELETE, "app_password"));
        assert!(!affects_callers(Action::SQLITE_UPDATE, "app_password"), "recording a use changes no caller");
    }
}
