//! Builds the whole hearth server. `main.rs` and the integration tests both call `start`.

pub mod alerts;
pub mod backup;
pub mod clock;
pub mod config;
pub mod db;
pub mod files;
pub mod identity;
pub mod memory;
pub mod outgoing;
pub mod surfaces;
pub mod web;

/// The parsers of untrusted input, and the migrations that give the CSV import its tables,
/// as the fuzz targets under `fuzz/` call them (see fuzz/README.md): the server's own
/// functions, re-exported unchanged.
pub mod fuzzing {
    pub use crate::db::migrate;
    pub use crate::surfaces::care::envelope::{body_of, CareBody, Empty};
    pub use crate::surfaces::care::pictures::{decode_base64, portrait_jpeg, verify, MAX_BYTES};
    pub use crate::surfaces::lenient::{LenientBool, LenientId};
    pub use crate::surfaces::music::paging as music_paging;
    pub use crate::surfaces::paging::paging;
    pub use crate::surfaces::transit::import::{import_text, Kind as CsvKind};
    pub use crate::surfaces::transit::moment::{
        civil_from_days, format_date, format_time, parse_date, parse_day_of, parse_month, parse_time,
    };
}

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Endpoint, EndpointExt, Server};
use tokio::sync::oneshot;

use config::Config;
use db::Db;
use files::FileStore;
use identity::Identity;
use surfaces::{care, open};

pub struct AppState {
    pub config: Config,
    pub db: Db,
    pub identity: Identity,
    pub files: FileStore,
    /// Request → catalogue operation, filled at start once the catalogue is synced.
    pub operations: std::sync::OnceLock<surfaces::operations::OperationIndex>,
    /// Requests per open-platform app.
    pub open_limits: open::access::RateLimits,
    /// One backup at a time.
    pub backup_running: tokio::sync::Mutex<()>,
    /// The data folder's lock while serving (`backup::lock_data_folder`).
    serving_lock: std::sync::Mutex<Option<std::fs::File>>,
    /// Live fall alerts and the care surface's per-phone limits.
    pub care: care::CareState,
    /// Fall alerts on their way to MQTT and Web Push (see `alerts`).
    pub alerts: alerts::Alerts,
    /// The music folder scan's progress; one scan at a time.
    pub music_scan: surfaces::music::scan::ScanState,
    /// Filtered song-list totals, until the songs change.
    pub music_totals: surfaces::music::song_list::ListTotals,
    /// The key pair that signs Web Push requests (VAPID), from `secrets/vapid.key`.
    pub vapid: alerts::push::Vapid,
}

impl AppState {
    /// Opens (creating on first start) the data folder, database, uploads and secrets.
    pub fn open(config: Config) -> anyhow::Result<Arc<AppState>> {
        make_private(&config.data)?;
        let db = Db::open(&config.db_path(), config.db_pool).context("opening the database")?;
        let files = FileStore::open(&config.data).context("opening the uploads folder")?;
        let identity = Identity::new(db.clone(), &config)?;
        let open_limits = open::access::RateLimits::new(config.open_rate_per_minute);
        let care = care::CareState::new(&config);
        let vapid =
            alerts::push::Vapid::load_or_create(&config.data.join("secrets")).context("loading the VAPID key")?;
        Ok(Arc::new(AppState {
            config,
            db,
            identity,
            files,
            operations: Default::default(),
            open_limits,
            backup_running: Default::default(),
            serving_lock: Default::default(),
            care,
            alerts: Default::default(),
            music_scan: Default::default(),
            music_totals: Default::default(),
            vapid,
        }))
    }
}

/// The data folder holds password hashes, secrets and people's pictures: it is 0700 and,
/// through the process umask, every file created in it is 0600 whatever umask hearth was
/// started with.
fn make_private(data: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: umask only sets the process's file-creation mask; it cannot fail.
    unsafe { libc::umask(0o077) };
    std::fs::create_dir_all(data).with_context(|| format!("creating the data folder {}", data.display()))?;
    std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("making the data folder {} private", data.display()))
}

/// Every surface's OpenAPI document as the code describes it, by surface name, in mount
/// order: what the committed documents are tested against (`surfaces::registry::document`).
pub fn specs(app: &Arc<AppState>) -> Vec<(&'static str, String)> {
    let document = |name| surfaces::registry::document(name, app).expect("every surface has a document");
    surfaces::registry::surfaces().iter().map(|s| (s.name, document(s.name))).collect()
}

pub fn routes(app: Arc<AppState>) -> impl Endpoint {
    let mut route = web::routes(app.clone());
    for surface in surfaces::registry::surfaces() {
        route = route.nest(format!("/{}", surface.name), OnFirstRequest::new(surface.endpoint, app.clone()));
    }
    // Subsonic clients ask for `<server>/rest/<method>`, so the API sits at the root.
    route = route.nest("/rest", surfaces::subsonic::routes(app.clone()));
    // The compatibility root serves one surface's documented paths as they are; every
    // documented path of every seed starts with `/api/`.
    if let Some(surface) = surfaces::registry::find(&app.config.compat_root) {
        route = route.nest_no_strip("/api", OnFirstRequest::new(surface.endpoint, app.clone()));
    }
    let origins = app.config.cors_origin_list();
    route.with_if(!origins.is_empty(), web::cors::Cors::new(&origins)).around(web::log::log_request)
}

/// A surface's operations, put together on its first request: building a surface's routes
/// runs the code poem-openapi generates for every operation, and a box serving one or two
/// surfaces need not load (and keep in memory) the others'.
struct OnFirstRequest {
    build: fn(Arc<AppState>) -> poem::endpoint::BoxEndpoint<'static, poem::Response>,
    app: Arc<AppState>,
    built: std::sync::OnceLock<poem::endpoint::BoxEndpoint<'static, poem::Response>>,
}

impl OnFirstRequest {
    fn new(
        build: fn(Arc<AppState>) -> poem::endpoint::BoxEndpoint<'static, poem::Response>,
        app: Arc<AppState>,
    ) -> Self {
        OnFirstRequest { build, app, built: std::sync::OnceLock::new() }
    }
}

impl Endpoint for OnFirstRequest {
    type Output = poem::Response;

    async fn call(&self, req: poem::Request) -> poem::Result<poem::Response> {
        self.built.get_or_init(|| (self.build)(self.app.clone())).call(req).await
    }
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub app: Arc<AppState>,
    /// The one-time setup link's token, when the box had no administrator at start.
    pub setup_token: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Tasks that run until the server stops.
    background: Vec<tokio::task::JoinHandle<()>>,
}

/// Where the setup page can be opened from: `public_url` when set; else, for a wildcard
/// listen address, every non-loopback address of the box's interfaces (the box is usually
/// headless, so the link is opened from another machine on the LAN) plus localhost.
fn setup_bases(config: &Config, addr: std::net::SocketAddr) -> Vec<String> {
    if let Some(public) = &config.public_url {
        return vec![public.trim_end_matches('/').to_owned()];
    }
    if !addr.ip().is_unspecified() {
        return vec![format!("http://{addr}")];
    }
    let wanted_v6 = addr.is_ipv6();
    let mut bases: Vec<String> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .map(|interface| interface.ip())
        .filter(|ip| !ip.is_loopback() && (ip.is_ipv4() || wanted_v6))
        // Link-local IPv6 addresses need a zone id a browser will not take.
        .filter(|ip| !matches!(ip, std::net::IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80))
        .map(|ip| format!("http://{}", std::net::SocketAddr::new(ip, addr.port())))
        .collect();
    bases.sort();
    bases.dedup();
    bases.push(format!("http://localhost:{}", addr.port()));
    bases
}

pub async fn start(config: Config) -> anyhow::Result<Running> {
    let listen = config.listen_addr()?;
    make_private(&config.data)?;
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let lock = backup::lock_data_folder(&config.data)?;
    let app = tokio::task::spawn_blocking(move || AppState::open(config)).await??;
    *app.serving_lock.lock().expect("lock") = Some(lock);
    let acceptor = TcpListener::bind(listen.to_string())
        .into_acceptor()
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let addr =
        *acceptor.local_addr().first().and_then(|a| a.as_socket_addr()).context("the listener has no address")?;
    let operations = surfaces::operations::sync(&app).await.context("syncing the permission catalogue")?;
    tracing::debug!(operations = operations.len(), "permission catalogue in sync");
    let _ = app.operations.set(operations);
    if app.config.care_legacy_device_ids {
        tracing::warn!(
            "care_legacy_device_ids is on: new care devices get md5(name + \"helpaged\") as their token, which \
             anyone who knows a camera's name can compute; turn it off unless old camera firmware needs it"
        );
    }
    let orphans = surfaces::sweep_orphan_files(&app).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if orphans > 0 {
        tracing::warn!(files = orphans, "removed upload files no row refers to (left by an interrupted write)");
    }
    let setup_token = app.db.write(|tx| Ok::<_, db::DbError>(identity::setup::issue_if_needed(tx)?)).await?;
    let bases = setup_bases(&app.config, addr);
    // Links sent to phones and Home Assistant name the box by its first LAN address, not localhost.
    let base = bases[0].clone();
    if let Some(token) = &setup_token {
        let links: Vec<String> = bases.iter().map(|base| format!("  {base}/admin/#/setup/{token}")).collect();
        println!(
            "No administrator yet. Within 30 minutes, open one of these links to create one \
             (or run `hearth admin create --username NAME --password PASS`):\n{}",
            links.join("\n")
        );
    }
    // Before the first request, so every request is counted from the start.
    let metrics = app.config.metrics_token.is_some().then(web::metrics::install);
    let (stop, stopped) = oneshot::channel::<()>();
    let (acceptor, endpoint) =
        web::connections::header_timeout(acceptor, routes(app.clone()), app.config.header_timeout_secs);
    let task = tokio::spawn(async move {
        Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                endpoint,
                async {
                    stopped.await.ok();
                },
                Some(grace),
            )
            .await
    });
    let janitor = tokio::spawn(janitor(app.clone()));
    let webhooks = tokio::spawn(open::webhooks::deliver_forever(app.clone()));
    let backups = tokio::spawn(backup::schedule(app.clone()));
    let trim = tokio::spawn(memory::trim_forever());
    let alerts = tokio::spawn(alerts::run(app.clone(), base));
    let music_scans = tokio::spawn(surfaces::music::scan::schedule(app.clone()));
    let mut background = vec![janitor, webhooks, backups, trim, alerts, music_scans];
    background.extend(metrics.map(|handle| tokio::spawn(web::metrics::upkeep_forever(handle))));
    tracing::info!(%addr, version = env!("CARGO_PKG_VERSION"), "hearth is serving");
    Ok(Running { addr, app, setup_token, stop: Some(stop), task, background })
}

/// Removes what expires: sessions (also checked on every use), captchas, SMS codes, and
/// care fall snapshots past their retention.
async fn janitor(app: Arc<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let started = Instant::now();
        let purged = app.db.write(|tx| Ok::<_, db::DbError>(identity::sessions::purge_expired(tx)?)).await;
        match purged {
            Ok(n) => {
                tracing::debug!(sessions = n, ms = started.elapsed().as_millis() as u64, "purged expired sessions")
            }
            Err(e) => tracing::warn!(error = %e, "purging expired sessions failed"),
        }
        care::retention::run_once(&app).await;
    }
}

impl Running {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish (up to the grace period), then
    /// checkpoints the WAL into the database file.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for task in &self.background {
            task.abort();
        }
        (&mut self.task).await.context("server task")??;
        // Aborted tasks end when the runtime next drops them; waiting for that means nothing
        // of this server (an MQTT connection, say) is still running once `stop` returns.
        for task in self.background.drain(..) {
            let _ = task.await;
        }
        let db = self.app.db.clone();
        tokio::task::spawn_blocking(move || db.checkpoint()).await??;
        self.app.serving_lock.lock().expect("lock").take();
        tracing::info!("hearth stopped cleanly");
        Ok(())
    }
}

/// A spec as committed under `openapi/`: pretty-printed, ending in a newline.
pub fn pretty_spec(json: &str) -> anyhow::Result<String> {
    let value: serde_json::Value = serde_json::from_str(json)?;
    Ok(serde_json::to_string_pretty(&value)? + "\n")
}
