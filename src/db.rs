//! The one SQLite database: a start-up connection that switches on WAL and applies the
//! migrations in `schema.sql`, then a pool whose connections only set per-connection pragmas.
//! All work runs on blocking threads, a semaphore sized to the pool keeping waiters queued
//! as futures instead of parked threads. With metrics on, each call reports how long it
//! waited for a connection and how many calls wait or run.
//!
//! Every pooled connection reports its row changes to `Changes`, so a cache above the database
//! (the identity core's callers) learns of a committed change to the tables it watches
//! without each writer having to remember to tell it.

use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::hooks::Action;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::Semaphore;

const SCHEMA: &str = include_str!("../schema.sql");

/// How long a pooled connection beyond the first stays open unused.
const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database unavailable: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database task stopped unexpectedly")]
    Task,
}

#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<SqliteConnectionManager>,
    permits: Arc<Semaphore>,
    changes: Arc<Changes>,
}

/// Which row changes matter to a cache, and a count of the database calls that made one.
#[derive(Default)]
struct Changes {
    watched: OnceLock<fn(Action, &str) -> bool>,
    generation: AtomicU64,
}

thread_local! {
    /// Set by a connection's update hook, which SQLite runs on the thread doing the change:
    /// the blocking thread running one `Db::read` call.
    static CHANGED_WATCHED: Cell<bool> = const { Cell::new(false) };
}

fn configure(conn: &Connection, changes: &Arc<Changes>) -> rusqlite::Result<()> {
    conn.execute_batch("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
    conn.set_prepared_statement_cache_capacity(64);
    let changes = changes.clone();
    // SQLite runs no update hook for WITHOUT ROWID tables: a watched table must have rowids.
    conn.update_hook(Some(move |action: Action, _db: &str, table: &str, _row: i64| {
        if changes.watched.get().is_some_and(|watched| watched(action, table)) {
            CHANGED_WATCHED.set(true);
        }
    }))
}

impl Changes {
    /// Runs one database call's `f` and moves the generation on if it changed a watched row.
    fn run<T, E>(&self, conn: &Connection, f: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E> {
        CHANGED_WATCHED.set(false);
        let out = f(conn);
        // After `f`, whose transaction has committed or rolled back by now (a rollback costs
        // only a needless reload).
        if CHANGED_WATCHED.replace(false) {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        out
    }
}

impl Db {
    pub fn open(path: &Path, pool_size: u32) -> anyhow::Result<Db> {
        let changes = Arc::new(Changes::default());
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        configure(&conn, &changes)?;
        migrate(&mut conn)?;
        drop(conn);
        let hooked = changes.clone();
        let manager = SqliteConnectionManager::file(path).with_init(move |c| configure(c, &hooked));
        // One connection kept open; the others opened when requests need them and closed
        // after a minute unused. Each holds its own page cache and parsed schema, which an
        // idle box need not keep `pool_size` times.
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(1))
            .idle_timeout(Some(IDLE_TIMEOUT))
            // A SQLite connection is an open file, not a socket that goes stale: no test query
            // on every checkout.
            .test_on_check_out(false)
            .build(manager)?;
        Ok(Db { pool, permits: Arc::new(Semaphore::new(pool_size as usize)), changes })
    }

    /// Starts counting the calls that change a row `watched` says matters (set once; later
    /// calls are ignored).
    pub fn watch(&self, watched: fn(Action, &str) -> bool) {
        let _ = self.changes.watched.set(watched);
    }

    /// Goes up after every database call that changed a watched row, once that call's
    /// transaction has ended: anything read before a change was committed was read under an
    /// older number. Read it before reading what it guards.
    pub fn generation(&self) -> u64 {
        self.changes.generation.load(Ordering::SeqCst)
    }

    /// The health check's round trip: `SELECT 1`, which reads no page, so `read_small`'s
    /// inline path; a saturated pool still shows in the check's latency.
    pub async fn ping(&self) -> Result<i64, DbError> {
        self.read_small(|c| Ok::<i64, DbError>(c.prepare_cached("SELECT 1")?.query_row([], |r| r.get(0))?)).await
    }

    /// Runs `f` with a pooled connection on a blocking thread.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        // Moved into the blocking closure: a call whose client went away still counts until
        // its thread is done with it.
        let in_flight = Counted::new(crate::web::metrics::DB_CALLS_IN_FLIGHT);
        let waiting = Counted::new(crate::web::metrics::DB_CALLS_WAITING);
        let asked = std::time::Instant::now();
        let _permit = self.permits.acquire().await.map_err(|_| DbError::Task)?;
        drop(waiting);
        let pool = self.pool.clone();
        let changes = self.changes.clone();
        on_blocking_thread(move || {
            let _in_flight = in_flight;
            let conn = pool.get().map_err(DbError::from)?;
            metrics::histogram!(crate::web::metrics::POOL_WAIT_SECONDS).record(asked.elapsed().as_secs_f64());
            changes.run(&conn, f)
        })
        .await
        .ok_or_else(|| E::from(DbError::Task))?
    }

    /// `read` for a read that touches a handful of pages: a table an administrator keeps by
    /// hand (roles, permissions, departments, data roles), tens to hundreds of rows that sit
    /// in SQLite's page cache, or one row found by a unique index (a camera by its token).
    /// Such a read takes less time than handing it to a blocking thread and back, so it runs
    /// on the calling thread when a connection is free this instant, and queues like `read`
    /// otherwise.
    pub async fn read_small<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        match self.permits.try_acquire().ok().and_then(|permit| Some((permit, self.pool.try_get()?))) {
            Some((_permit, conn)) => self.changes.run(&conn, f),
            None => self.read(f).await,
        }
    }

    /// Runs `f` inside `BEGIN IMMEDIATE … COMMIT`; any error rolls the whole change back.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&Transaction) -> Result<T, E> + Send + 'static,
    {
        self.read(move |conn| {
            let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate).map_err(DbError::from)?;
            let out = f(&tx)?;
            tx.commit().map_err(DbError::from)?;
            Ok(out)
        })
        .await
    }

    /// Moves the WAL into the main file so a stopped server leaves one self-contained file.
    pub fn checkpoint(&self) -> Result<(), DbError> {
        let conn = self.pool.get()?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

/// Runs `work` on tokio's blocking pool, the closure and its answer behind one type. Every
/// `spawn_blocking` of a distinct closure type instantiates tokio's whole task machinery
/// (polling, cancelling, reading the output, dropping the handle); across the database's
/// call sites that was about 0.9 MB of the binary. Two small boxes per call buy it back.
async fn on_blocking_thread<R: Send + 'static>(work: impl FnOnce() -> R + Send + 'static) -> Option<R> {
    type Job = Box<dyn FnOnce() -> Box<dyn std::any::Any + Send> + Send>;
    let job: Job = Box::new(move || -> Box<dyn std::any::Any + Send> { Box::new(work()) });
    let answer = tokio::task::spawn_blocking(job).await.ok()?;
    Some(*answer.downcast::<R>().expect("a job answers with its own type"))
}

/// One in a gauge while it lives; dropped also when the caller's future is (a client gone).
/// It keeps the handle it counted up on: the recorder is process-wide and may be installed
/// while a call is in flight, and that call's end must not count down a gauge it never
/// counted up (a test run saw -1 calls in flight).
struct Counted(metrics::Gauge);

impl Counted {
    fn new(gauge: &'static str) -> Counted {
        let gauge = metrics::gauge!(gauge);
        gauge.increment(1.0);
        Counted(gauge)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// A value read from watched tables, kept while the generation it was read under is still
/// current: read `Db::generation` before reading the value, and `keep` it under that number.
pub struct Snapshot<T> {
    kept: std::sync::RwLock<Option<(Arc<T>, u64)>>,
}

impl<T> Default for Snapshot<T> {
    fn default() -> Self {
        Snapshot { kept: std::sync::RwLock::new(None) }
    }
}

impl<T> Snapshot<T> {
    /// The kept value if nothing watched has changed since it was read.
    pub fn current(&self, generation: u64) -> Option<Arc<T>> {
        let kept = self.kept.read().unwrap_or_else(|p| p.into_inner());
        kept.as_ref().filter(|(_, read_under)| *read_under == generation).map(|(value, _)| value.clone())
    }

    /// Keeps `value`, read under `generation`. A slower reader may replace a newer value with
    /// an older one; `current` then answers nothing until the next `keep`, never the older value.
    pub fn keep(&self, value: Arc<T>, generation: u64) {
        *self.kept.write().unwrap_or_else(|p| p.into_inner()) = Some((value, generation));
    }
}

/// `schema.sql` is split by `-- migration N: title` lines; each part runs once, in order,
/// and `PRAGMA user_version` records the last one applied.
pub fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (version, sql) in migrations() {
        if version <= current {
            continue;
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(&sql).map_err(|e| anyhow::anyhow!("schema.sql migration {version} failed: {e}"))?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
    }
    Ok(())
}

fn migrations() -> Vec<(i64, String)> {
    let mut parts: Vec<(i64, String)> = Vec::new();
    for line in SCHEMA.lines() {
        let number = line.strip_prefix("-- migration ").and_then(|rest| rest.split(':').next()?.trim().parse().ok());
        match (number, parts.last_mut()) {
            (Some(n), _) => parts.push((n, String::new())),
            (None, Some((_, sql))) => {
                sql.push_str(line);
                sql.push('\n');
            }
            (None, None) => {}
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call that began before the recorder was installed ends after it: its end must not
    /// show as one call fewer than none.
    #[test]
    fn a_call_counts_down_only_what_it_counted_up() {
        const GAUGE: &str = "hearth_test_counted_across_install";
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let begun_before = Counted::new(GAUGE);
        metrics::with_local_recorder(&recorder, || {
            let begun_after = Counted::new(GAUGE);
            drop(begun_before);
            assert!(handle.render().contains(&format!("{GAUGE} 1")), "{}", handle.render());
            drop(begun_after);
        });
        assert!(handle.render().contains(&format!("{GAUGE} 0")), "{}", handle.render());
    }

    #[test]
    fn migrations_are_numbered_one_up() {
        let versions: Vec<i64> = migrations().iter().map(|(v, _)| *v).collect();
        assert!(!versions.is_empty());
        assert_eq!(versions, (1..=versions.len() as i64).collect::<Vec<_>>());
    }

    /// `.cargo/config.toml` builds SQLite without extension loading and without FTS3 and
    /// R*Tree; FTS5, which the music name index needs, stays.
    #[test]
    fn sqlite_loads_no_extensions_and_keeps_fts5_only() {
        let conn = Connection::open_in_memory().unwrap();
        let refused = conn.query_row("SELECT load_extension('libc.so.6')", [], |_| Ok(())).unwrap_err();
        assert!(refused.to_string().contains("no such function: load_extension"), "{refused}");
        for module in ["fts3", "fts4", "rtree"] {
            let sql = format!("CREATE VIRTUAL TABLE t_{module} USING {module}(a)");
            assert!(conn.execute_batch(&sql).is_err(), "{module} is built in");
        }
        conn.execute_batch("CREATE VIRTUAL TABLE t USING fts5(a, tokenize = 'trigram')").unwrap();
    }

    #[tokio::test]
    async fn small_reads_answer_inline_and_wait_their_turn_when_every_connection_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), 1).unwrap();
        assert_eq!(db.ping().await.unwrap(), 1);
        let held = db.pool.get().unwrap();
        let waiting = tokio::spawn({
            let db = db.clone();
            async move { db.ping().await }
        });
        tokio::task::yield_now().await;
        drop(held);
        assert_eq!(waiting.await.unwrap().unwrap(), 1, "the queued ping runs once the connection is back");
    }

    #[tokio::test]
    async fn watched_changes_move_the_generation_on_after_their_call() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), 2).unwrap();
        db.watch(crate::identity::callers::affects_callers);
        let before = db.generation();
        db.write(|tx| {
            tx.execute("INSERT INTO captcha (rand, code, expires_at) VALUES ('x', 'y', 0)", []).map_err(DbError::from)
        })
        .await
        .unwrap();
        assert_eq!(db.generation(), before, "an unwatched table changes nothing");
        db.write(|tx| {
            tx.execute(
                "INSERT INTO account (id, username, password_hash, created_at, updated_at) VALUES (9, 'u', 'x', 0, 0)",
                [],
            )?;
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
        let after_account = db.generation();
        assert!(after_account > before);
        db.write(|tx| {
            tx.execute("INSERT INTO account_role (account_id, role_id) VALUES (9, 3)", []).map_err(DbError::from)
        })
        .await
        .unwrap();
        assert!(db.generation() > after_account);
    }

    #[test]
    fn migrating_twice_is_a_no_op_and_records_the_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, migrations().len() as i64);
    }
}
