//! The `hearth` command line. Everything it runs lives in the library.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use hearth::config::{Config, Settings};
use hearth::surfaces::transit;
use hearth::{identity, AppState};

#[derive(Parser)]
#[command(name = "hearth", version, about = "Care alerts, music, transit analytics and more, from one small box")]
struct Cli {
    /// Data folder: database, uploads, backups, secrets
    #[arg(long, env = "HEARTH_DATA", default_value = "hearth-data", global = true)]
    data: PathBuf,
    /// Server settings, for `hearth` without a subcommand (the same as `hearth serve`)
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (the default)
    Serve {
        /// The server settings are this subcommand's alone, so the others' `--help` stays short
        #[command(flatten)]
        settings: Box<Settings>,
    },
    /// Manage administrators
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Load or generate metro ridership data
    Transit {
        #[command(subcommand)]
        action: TransitAction,
    },
    /// Manage the music library
    Music {
        #[command(subcommand)]
        action: MusicAction,
    },
    /// Write every surface's OpenAPI document into a folder
    Openapi {
        #[arg(long)]
        out: PathBuf,
    },
    /// Archive the database and uploads into FILE (default: <data>/backups/hearth-<time>.tar),
    /// also while a server is running
    Backup { file: Option<PathBuf> },
    /// Restore an archive into the data folder (no server may be running on it)
    Restore {
        file: PathBuf,
        /// Replace an existing database; the current content is moved to <data>/pre-restore-<time>/
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Create a super-administrator, or update its password and phone (idempotent)
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        /// 11-digit mobile number, to log in to the care surface too
        #[arg(long)]
        phone: Option<String>,
    },
}

#[derive(Subcommand)]
enum MusicAction {
    /// Scan the music folders now (also while a server is running) and print what changed
    Scan,
}

#[derive(Subcommand)]
enum TransitAction {
    /// Import the competition CSV files (stations, users, workdays, trips) in one transaction:
    /// a bad line is reported with its number and nothing is kept
    Import {
        /// A folder holding stations.csv, users.csv, workdays.csv and/or trips.csv
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long)]
        stations: Option<PathBuf>,
        #[arg(long)]
        users: Option<PathBuf>,
        #[arg(long)]
        workdays: Option<PathBuf>,
        #[arg(long)]
        trips: Option<PathBuf>,
        /// No progress bar
        #[arg(long)]
        quiet: bool,
    },
    /// Write a realistic dataset (the same for the same seed) as those CSV files
    Synth {
        /// Folder to write the four files into
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        trips: u64,
        #[arg(long, default_value_t = 125_000)]
        passengers: u64,
        /// Days the trips spread over
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// First day, yyyy-MM-dd
        #[arg(long, default_value = "2020-01-01")]
        start: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        quiet: bool,
    },
}

fn main() -> anyhow::Result<()> {
    hearth::memory::limit_arenas();
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve { settings: Box::default() });
    match &command {
        Command::Openapi { out } => return write_specs(out),
        Command::Backup { file } => {
            let dest = file
                .clone()
                .unwrap_or_else(|| hearth::backup::backups_folder(&cli.data).join(hearth::backup::archive_name()));
            let archive = hearth::backup::create(&cli.data, None, &dest)?;
            println!("wrote {} ({} bytes, {} uploaded files)", archive.path.display(), archive.bytes, archive.files);
            return Ok(());
        }
        Command::Restore { file, force } => {
            let restored = hearth::backup::restore(file, &cli.data, *force)?;
            println!("restored {} into {} ({} uploaded files)", file.display(), cli.data.display(), restored.files);
            if let Some(previous) = restored.previous {
                println!("the previous content is in {}", previous.display());
            }
            return Ok(());
        }
        _ => {}
    }
    if let Command::Transit { action: TransitAction::Synth { out, trips, passengers, days, start, seed, quiet } } =
        &command
    {
        let start = transit::moment::parse_date(start).context("--start must be a date like 2020-01-01")?;
        let opts = transit::synth::Options { trips: *trips, passengers: *passengers, days: *days, start, seed: *seed };
        let written = transit::synth::write(out, &opts, !quiet)?;
        println!("wrote {} trips and {} passengers to {}", written.trips, written.passengers, written.dir.display());
        return Ok(());
    }
    // Settings given before `serve` and after it both count; after it wins.
    let settings = match &command {
        Command::Serve { settings } => overlay(&cli.settings, settings)?,
        _ => cli.settings.clone(),
    };
    let config = Config::load(&cli.data, &settings)?;
    // Lives to the end of `main`, so lines still buffered are written before the process exits.
    let _log = hearth::web::log::init(&config.log, &config.log_format)?;
    let runtime = tokio::runtime::Runtime::new()?;
    match command {
        Command::Serve { .. } => runtime.block_on(serve(config)),
        Command::Admin { action: AdminAction::Create { username, password, phone } } => {
            runtime.block_on(create_admin(config, username, password, phone))
        }
        Command::Music { action: MusicAction::Scan } => runtime.block_on(music_scan(config)),
        Command::Transit { action: TransitAction::Import { dir, stations, users, workdays, trips, quiet } } => {
            let mut files = dir.as_deref().map(transit::import::Files::in_folder).unwrap_or_default();
            files.stations = stations.or(files.stations);
            files.users = users.or(files.users);
            files.workdays = workdays.or(files.workdays);
            files.trips = trips.or(files.trips);
            anyhow::ensure!(
                !files.is_empty(),
                "nothing to import: give --dir or --stations/--users/--workdays/--trips"
            );
            std::fs::create_dir_all(&config.data)?;
            hearth::db::Db::open(&config.db_path(), 1)?;
            let s = transit::import::import(&config.db_path(), &files, !quiet)?;
            println!(
                "imported {} stations, {} passengers, {} workdays, {} trips ({:.0} trips/s); {:.1} s in all",
                s.stations,
                s.passengers,
                s.workdays,
                s.trips,
                s.trips as f64 / s.trip_secs.max(1e-9),
                s.total_secs
            );
            Ok(())
        }
        Command::Openapi { .. } | Command::Backup { .. } | Command::Restore { .. } | Command::Transit { .. } => {
            unreachable!("handled above")
        }
    }
}

/// `top` with every setting `over` holds replaced.
fn overlay(top: &Settings, over: &Settings) -> anyhow::Result<Settings> {
    let mut merged = serde_json::to_value(top)?;
    if let (Some(base), serde_json::Value::Object(fields)) = (merged.as_object_mut(), serde_json::to_value(over)?) {
        base.extend(fields);
    }
    Ok(serde_json::from_value(merged)?)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let running = hearth::start(config).await?;
    // Listening for the signals before saying where hearth listens: whoever reads that line
    // (a supervisor, a test) may stop it at once.
    let shutdown = shutdown_signal()?;
    println!("hearth {} listening on {}", env!("CARGO_PKG_VERSION"), running.addr);
    tokio::spawn(hearth::memory::release_start_pages_once_settled());
    shutdown.await;
    tracing::info!("shutdown signal received; finishing in-flight requests");
    running.stop().await
}

/// SIGINT or SIGTERM, with both handlers installed before this returns.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! { _ = interrupt.recv() => {}, _ = terminate.recv() => {} }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        tokio::signal::ctrl_c().await.ok();
    })
}

async fn music_scan(config: Config) -> anyhow::Result<()> {
    anyhow::ensure!(
        !config.music_folders.is_empty(),
        "no music folders: give --music-folder DIR (or set music_folders)"
    );
    let app = tokio::task::spawn_blocking(move || AppState::open(config)).await??;
    let started = std::time::Instant::now();
    let report = hearth::surfaces::music::scan::run(&app).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "scanned {} files in {:.1} s ({:.0} files/s): {} added, {} changed, {} removed",
        report.seen,
        secs,
        report.seen as f64 / secs.max(1e-9),
        report.added,
        report.changed,
        report.removed
    );
    Ok(())
}

async fn create_admin(config: Config, username: String, password: String, phone: Option<String>) -> anyhow::Result<()> {
    anyhow::ensure!(!username.trim().is_empty(), "--username must not be empty");
    anyhow::ensure!(password.chars().count() >= 8, "--password must have at least 8 characters");
    if let Some(p) = &phone {
        anyhow::ensure!(
            p.len() == 11 && p.bytes().all(|b| b.is_ascii_digit()),
            "--phone must be an 11-digit mobile number"
        );
    }
    let app = tokio::task::spawn_blocking(move || AppState::open(config)).await??;
    let hash = app.identity.passwords.hash(hearth::identity::password::Asker::SignedIn, &password).await?;
    let name = username.trim().to_owned();
    let id = app.db.write(move |tx| identity::accounts::upsert_super_admin(tx, &name, &hash, phone.as_deref())).await?;
    println!("super-administrator {:?} is ready (account {id})", username.trim());
    Ok(())
}

/// The documents the server serves: the committed ones, which a test keeps equal to the code's.
fn write_specs(out: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    for surface in hearth::surfaces::registry::surfaces() {
        let document = hearth::web::docs::document(surface.name).context("a surface without a document")?;
        let path = out.join(format!("{}.json", surface.name));
        std::fs::write(&path, document).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
