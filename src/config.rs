//! Settings come from four places, strongest first: command-line flags, `HEARTH_*`
//! environment variables, `hearth.toml` in the data folder, built-in defaults.
//! `Settings` is the partial form every source fills; `Config` is the merged result.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

/// One optional value per setting. Flags and environment fill it through clap; the TOML
/// file fills it through serde, which rejects unknown keys by name.
#[derive(Debug, Default, Clone, clap::Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on (camera devices on the LAN must reach it)
    #[arg(long, env = "HEARTH_LISTEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// Which surface is also served at the root: care, music, transit, system, open or none
    #[arg(long, env = "HEARTH_COMPAT_ROOT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compat_root: Option<String>,
    /// Public base URL used in links to uploaded files (default: the request's Host)
    #[arg(long, env = "HEARTH_PUBLIC_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Log filter, e.g. `info` or `hearth=debug`
    #[arg(long, env = "HEARTH_LOG")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// Log line format: `text` (plain, coloured only on a terminal) or `json` (one object a line)
    #[arg(long, env = "HEARTH_LOG_FORMAT", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
    /// Bearer token that GET /metrics requires (unset: /metrics answers 404 and nothing is recorded)
    #[arg(long, env = "HEARTH_METRICS_TOKEN", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_token: Option<String>,
    /// Largest accepted non-upload request body, in bytes
    #[arg(long, env = "HEARTH_JSON_LIMIT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_limit: Option<u64>,
    /// Largest accepted multipart upload body, in bytes
    #[arg(long, env = "HEARTH_UPLOAD_LIMIT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_limit: Option<u64>,
    /// Failed logins one client address may make within the window before it must wait
    #[arg(long, env = "HEARTH_LOGIN_MAX_FAILURES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_max_failures: Option<u32>,
    /// Length of the failed-login window, in seconds
    #[arg(long, env = "HEARTH_LOGIN_WINDOW_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_window_secs: Option<u64>,
    /// Image captchas one client address may draw within the captcha window (care and system together)
    #[arg(long, env = "HEARTH_CAPTCHA_MAX_DRAWS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captcha_max_draws: Option<u32>,
    /// Length of the captcha window, in seconds
    #[arg(long, env = "HEARTH_CAPTCHA_WINDOW_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captcha_window_secs: Option<u64>,
    /// SMS codes one phone number may be sent within the SMS window
    #[arg(long, env = "HEARTH_SMS_MAX_PER_PHONE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_max_per_phone: Option<u32>,
    /// SMS codes one client address may ask for within the SMS window, whatever the phones
    #[arg(long, env = "HEARTH_SMS_MAX_PER_CLIENT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_max_per_client: Option<u32>,
    /// Length of the SMS window, in seconds
    #[arg(long, env = "HEARTH_SMS_WINDOW_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_window_secs: Option<u64>,
    /// Calls with a wrong care device token one client address may make within the device
    /// window before every device call from it waits
    #[arg(long, env = "HEARTH_DEVICE_MAX_FAILURES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_max_failures: Option<u32>,
    /// UNSAFE, for old camera firmware only: name each new care device md5(name + "helpaged"),
    /// the original server's guessable rule, instead of a random token (true/false)
    #[arg(long, env = "HEARTH_CARE_LEGACY_DEVICE_IDS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub care_legacy_device_ids: Option<bool>,
    /// Length of the device-token failure window, in seconds
    #[arg(long, env = "HEARTH_DEVICE_WINDOW_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_window_secs: Option<u64>,
    /// Accounts one client address may create (music signup, care register) within the signup window
    #[arg(long, env = "HEARTH_SIGNUP_MAX_PER_CLIENT", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signup_max_per_client: Option<u32>,
    /// Length of the signup window, in seconds
    #[arg(long, env = "HEARTH_SIGNUP_WINDOW_SECS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signup_window_secs: Option<u64>,
    /// Password checks without a signed-in caller (logins, signups, setup) admitted at once,
    /// running or waiting; more are refused as busy
    #[arg(long, env = "HEARTH_PASSWORD_QUEUE", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_queue: Option<u32>,
    /// Seconds a connection may take to send complete request headers before it is closed (0: never)
    #[arg(long, env = "HEARTH_HEADER_TIMEOUT_SECS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_timeout_secs: Option<u64>,
    /// Lifetime of JWT sessions (music, transit, system), in hours
    #[arg(long, env = "HEARTH_TOKEN_HOURS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_hours: Option<u64>,
    /// URL of a LAN SMS gateway; when set, SMS codes are POSTed there as {"phone","text"}
    #[arg(long, env = "HEARTH_SMS_WEBHOOK")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_webhook: Option<String>,
    /// Database connections in the pool
    #[arg(long, env = "HEARTH_DB_POOL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_pool: Option<u32>,
    /// Seconds in-flight requests get to finish after a shutdown signal
    #[arg(long, env = "HEARTH_SHUTDOWN_GRACE_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown_grace_secs: Option<u64>,
    /// Lifetime of open-platform app tokens, in seconds
    #[arg(long, env = "HEARTH_OPEN_TOKEN_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_token_secs: Option<u64>,
    /// Requests per minute one open-platform app may make
    #[arg(long, env = "HEARTH_OPEN_RATE_PER_MINUTE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_rate_per_minute: Option<u32>,
    /// Delivery attempts of one webhook event before it is marked failed
    #[arg(long, env = "HEARTH_WEBHOOK_MAX_ATTEMPTS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_max_attempts: Option<u32>,
    /// Wait before the first webhook retry, in seconds; doubles with every further attempt
    #[arg(long, env = "HEARTH_WEBHOOK_BACKOFF_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_backoff_secs: Option<u64>,
    /// Hours between scheduled backups into <data>/backups (0: none)
    #[arg(long, env = "HEARTH_BACKUP_INTERVAL_HOURS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_interval_hours: Option<u64>,
    /// Scheduled and on-demand backups kept in <data>/backups
    #[arg(long, env = "HEARTH_BACKUP_KEEP")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_keep: Option<u32>,
    /// Origins allowed to call the APIs from a browser on another site, comma-separated
    /// (default: none, no CORS headers at all)
    #[arg(long, env = "HEARTH_CORS_ORIGINS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors_origins: Option<String>,
    /// Care: fall snapshots older than this many days are deleted (0 keeps them forever)
    #[arg(long, env = "HEARTH_CARE_RETENTION_DAYS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub care_retention_days: Option<u64>,
    /// Care: further hosts whose pages may embed portraits (comma-separated)
    #[arg(long, env = "HEARTH_CARE_REFERER_HOSTS", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub care_referer_hosts: Option<Vec<String>>,
    /// Care: MQTT broker for Home Assistant, e.g. `mqtt://user:pass@192.168.1.5:1883` (unset: off)
    #[arg(long, env = "HEARTH_MQTT_URL", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mqtt_url: Option<String>,
    /// Care: first level of hearth's own MQTT topics
    #[arg(long, env = "HEARTH_MQTT_PREFIX", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mqtt_prefix: Option<String>,
    /// Care: Home Assistant's MQTT discovery prefix
    #[arg(long, env = "HEARTH_MQTT_DISCOVERY_PREFIX", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mqtt_discovery_prefix: Option<String>,
    /// Care: a camera silent for this many seconds counts as offline
    #[arg(long, env = "HEARTH_CARE_OFFLINE_SECS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub care_offline_secs: Option<u64>,
    /// Music: a folder of music files scanned in place (repeat the flag for more;
    /// HEARTH_MUSIC_FOLDERS takes them comma-separated)
    #[arg(long = "music-folder", env = "HEARTH_MUSIC_FOLDERS", value_delimiter = ',', global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub music_folders: Option<Vec<PathBuf>>,
    /// Music: minutes between scans of the music folders (0: only at start and on demand)
    #[arg(long, env = "HEARTH_MUSIC_SCAN_INTERVAL_MINS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub music_scan_interval_mins: Option<u64>,
    /// Music: the account scanned songs belong to (default: the first super-administrator)
    #[arg(long, env = "HEARTH_MUSIC_SCAN_OWNER", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub music_scan_owner: Option<String>,
    /// Care: hosts Web Push endpoints may be on (comma-separated; `*.` a whole domain; an
    /// exact host may also be plain http, for a LAN relay)
    #[arg(long, env = "HEARTH_PUSH_ENDPOINT_HOSTS", value_delimiter = ',', global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_endpoint_hosts: Option<Vec<String>>,
    /// Care: where the push services may reach this box's operator, `mailto:you@your.domain`
    /// or an https URL on a public name (Apple's push service refuses pushes without one;
    /// default: `public_url` when it is such a URL)
    #[arg(long, env = "HEARTH_PUSH_CONTACT", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_contact: Option<String>,
    /// Care: a fall nobody bound to the camera acknowledged within this many seconds is sent
    /// again, also to the escalation roles (0: off)
    #[arg(long, env = "HEARTH_CARE_ESCALATE_AFTER_SECS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub care_escalate_after_secs: Option<u64>,
    /// Care: how many times an unacknowledged fall is escalated, one interval apart
    #[arg(long, env = "HEARTH_CARE_ESCALATE_REPEAT", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub care_escalate_repeat: Option<u32>,
    /// Care: names of the roles whose holders also get escalations, within their data scope
    /// (comma-separated)
    #[arg(long, env = "HEARTH_CARE_ESCALATE_ROLES", value_delimiter = ',', global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub care_escalate_roles: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    #[serde(skip)]
    pub data: PathBuf,
    pub listen: String,
    pub compat_root: String,
    pub public_url: Option<String>,
    pub log: String,
    pub log_format: String,
    pub metrics_token: Option<String>,
    pub json_limit: u64,
    pub upload_limit: u64,
    pub login_max_failures: u32,
    pub login_window_secs: u64,
    pub captcha_max_draws: u32,
    pub captcha_window_secs: u64,
    pub sms_max_per_phone: u32,
    pub sms_max_per_client: u32,
    pub sms_window_secs: u64,
    pub device_max_failures: u32,
    pub device_window_secs: u64,
    pub care_legacy_device_ids: bool,
    pub signup_max_per_client: u32,
    pub signup_window_secs: u64,
    pub password_queue: u32,
    pub header_timeout_secs: u64,
    pub token_hours: u64,
    pub sms_webhook: Option<String>,
    pub db_pool: u32,
    pub shutdown_grace_secs: u64,
    pub open_token_secs: u64,
    pub open_rate_per_minute: u32,
    pub webhook_max_attempts: u32,
    pub webhook_backoff_secs: u64,
    pub backup_interval_hours: u64,
    pub backup_keep: u32,
    pub cors_origins: String,
    pub care_retention_days: u64,
    pub care_referer_hosts: Vec<String>,
    pub mqtt_url: Option<String>,
    pub mqtt_prefix: String,
    pub mqtt_discovery_prefix: String,
    pub care_offline_secs: u64,
    pub music_folders: Vec<PathBuf>,
    pub music_scan_interval_mins: u64,
    pub music_scan_owner: Option<String>,
    pub push_endpoint_hosts: Vec<String>,
    pub push_contact: Option<String>,
    pub care_escalate_after_secs: u64,
    pub care_escalate_repeat: u32,
    pub care_escalate_roles: Vec<String>,
}

/// Names that never lead to anyone outside the box's own network: Apple's push service
/// refuses a VAPID contact on them (`localhost`, `.local`, `.invalid` were each seen to fail),
/// and a contact nobody can reach is no contact.
const PRIVATE_NAMES: [&str; 12] = [
    "localhost",
    "local",
    "localdomain",
    "invalid",
    "test",
    "example",
    "internal",
    "lan",
    "home",
    "arpa",
    "corp",
    "intranet",
];

/// Why `contact` is not a contact a push service would take: a `mailto:` address or an https
/// URL, on a name in the public DNS (not an address, not a name of a private network).
pub fn public_contact(contact: &str) -> Result<(), String> {
    let host = if let Some(address) = contact.strip_prefix("mailto:") {
        match address.rsplit_once('@') {
            Some((user, domain)) if !user.is_empty() && !domain.contains(['/', '?', '#', ' ']) => domain.to_owned(),
            _ => return Err("a mailto: contact must be an address, user@domain".into()),
        }
    } else if contact.starts_with("https://") {
        let url = reqwest::Url::parse(contact).map_err(|_| "not a URL".to_owned())?;
        match (url.domain(), url.host_str()) {
            (Some(name), _) => name.to_owned(),
            (None, Some(_)) => return Err("the URL must name a host, not an address".into()),
            (None, None) => return Err("the URL has no host".into()),
        }
    } else {
        return Err("the contact must be a mailto: address or an https:// URL".into());
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let last = host.rsplit('.').next().unwrap_or_default();
    if !host.contains('.') || host.parse::<std::net::IpAddr>().is_ok() || last.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{host:?} is not a name in the public DNS"));
    }
    if PRIVATE_NAMES.contains(&last) {
        return Err(format!("{host:?} is a name of a private network, which the push services refuse"));
    }
    Ok(())
}

/// The push services of Chrome/Edge/Android, Firefox, Safari/iOS and Windows: the default
/// `push_endpoint_hosts`, and always https.
pub const PUSH_SERVICES: [&str; 4] =
    ["fcm.googleapis.com", "*.push.services.mozilla.com", "*.push.apple.com", "*.notify.windows.com"];

impl Default for Config {
    fn default() -> Self {
        Config {
            data: PathBuf::from("hearth-data"),
            listen: "0.0.0.0:8080".into(),
            compat_root: "care".into(),
            public_url: None,
            log: "info".into(),
            log_format: "text".into(),
            metrics_token: None,
            // An 8 MiB care snapshot (the largest the contract allows) is 10.7 MiB as base64.
            json_limit: 12 * 1024 * 1024,
            upload_limit: 64 * 1024 * 1024,
            login_max_failures: 20,
            login_window_secs: 300,
            captcha_max_draws: 30,
            captcha_window_secs: 60,
            sms_max_per_phone: 5,
            sms_max_per_client: 20,
            sms_window_secs: 900,
            device_max_failures: 20,
            device_window_secs: 300,
            care_legacy_device_ids: false,
            signup_max_per_client: 10,
            signup_window_secs: 3600,
            password_queue: 8,
            header_timeout_secs: 30,
            token_hours: 24,
            sms_webhook: None,
            db_pool: 8,
            shutdown_grace_secs: 10,
            open_token_secs: 7200,
            open_rate_per_minute: 600,
            webhook_max_attempts: 8,
            webhook_backoff_secs: 30,
            backup_interval_hours: 24,
            backup_keep: 7,
            cors_origins: String::new(),
            care_retention_days: 180,
            care_referer_hosts: Vec::new(),
            mqtt_url: None,
            mqtt_prefix: "hearth".into(),
            mqtt_discovery_prefix: "homeassistant".into(),
            care_offline_secs: 300,
            music_folders: Vec::new(),
            music_scan_interval_mins: 60,
            music_scan_owner: None,
            push_endpoint_hosts: PUSH_SERVICES.map(String::from).to_vec(),
            push_contact: None,
            care_escalate_after_secs: 300,
            care_escalate_repeat: 3,
            care_escalate_roles: vec!["管理员".into(), "超级管理员".into()],
        }
    }
}

impl Config {
    /// Merges flags/environment (`cli`) over `hearth.toml` in `data` over defaults.
    pub fn load(data: &Path, cli: &Settings) -> anyhow::Result<Config> {
        let file = data.join("hearth.toml");
        let from_file: Settings = match std::fs::read_to_string(&file) {
            Ok(text) => toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {}", file.display(), e.message()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
        };
        let mut merged = serde_json::to_value(from_file)?;
        let over = serde_json::to_value(cli)?;
        if let (Some(base), Some(top)) = (merged.as_object_mut(), over.as_object()) {
            base.extend(top.clone());
        }
        let mut config: Config = serde_json::from_value(merged)?;
        config.data = data.to_path_buf();
        config.validate()?;
        Ok(config)
    }

    /// Settings for tests and embedding: this data folder, an ephemeral loopback port.
    pub fn for_tests(data: &Path) -> Config {
        Config { data: data.to_path_buf(), listen: "127.0.0.1:0".into(), ..Config::default() }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.listen_addr()?;
        if self.compat_root != "none" && crate::surfaces::registry::find(&self.compat_root).is_none() {
            let names: Vec<&str> = crate::surfaces::registry::surfaces().iter().map(|s| s.name).collect();
            bail!("compat_root must be one of {} or none, not {:?}", names.join(", "), self.compat_root);
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!("log_format must be text or json, not {:?}", self.log_format);
        }
        if self.metrics_token.as_deref().is_some_and(|t| t.trim().len() < 16) {
            bail!("metrics_token must have at least 16 characters (or be left unset to turn /metrics off)");
        }
        if self.json_limit == 0 || self.upload_limit == 0 {
            bail!("body limits must be above zero");
        }
        if self.open_token_secs == 0 || self.open_rate_per_minute == 0 || self.webhook_max_attempts == 0 {
            bail!("open_token_secs, open_rate_per_minute and webhook_max_attempts must be above zero");
        }
        if self.backup_keep == 0 {
            bail!("backup_keep must be at least 1");
        }
        for (name, prefix) in
            [("mqtt_prefix", &self.mqtt_prefix), ("mqtt_discovery_prefix", &self.mqtt_discovery_prefix)]
        {
            if prefix.is_empty()
                || prefix.contains(['+', '#', '\0'])
                || prefix.starts_with('/')
                || prefix.ends_with('/')
            {
                bail!("{name} must be a topic level without wildcards or leading/trailing '/', not {prefix:?}");
            }
        }
        if let Some(url) = &self.mqtt_url {
            crate::alerts::mqtt::broker(url)?;
        }
        if let Some(folder) = self.music_folders.iter().find(|f| f.as_os_str().is_empty()) {
            bail!("music_folders must not hold an empty path ({folder:?})");
        }
        if let Some(contact) = &self.push_contact {
            public_contact(contact).map_err(|why| anyhow::anyhow!("push_contact {contact:?}: {why}"))?;
        }
        if self.db_pool == 0 {
            bail!("db_pool must be at least 1");
        }
        let limits = [
            ("login_max_failures", self.login_max_failures as u64),
            ("login_window_secs", self.login_window_secs),
            ("captcha_max_draws", self.captcha_max_draws as u64),
            ("captcha_window_secs", self.captcha_window_secs),
            ("sms_max_per_phone", self.sms_max_per_phone as u64),
            ("sms_max_per_client", self.sms_max_per_client as u64),
            ("sms_window_secs", self.sms_window_secs),
            ("device_max_failures", self.device_max_failures as u64),
            ("device_window_secs", self.device_window_secs),
            ("signup_max_per_client", self.signup_max_per_client as u64),
            ("signup_window_secs", self.signup_window_secs),
            ("password_queue", self.password_queue as u64),
            ("care_offline_secs", self.care_offline_secs),
        ];
        if let Some((name, _)) = limits.iter().find(|(_, value)| *value == 0) {
            bail!("{name} must be at least 1");
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen.parse().with_context(|| format!("listen address {:?} is not host:port", self.listen))
    }

    /// The contact a push message's VAPID token names (RFC 8292 §2.1): `push_contact`, else
    /// `public_url` when it is an https URL on a public name. None: no contact a push service
    /// could use (Apple's refuses the message).
    pub fn push_subject(&self) -> Option<&str> {
        let public_url = self.public_url.as_deref().filter(|url| public_contact(url).is_ok());
        self.push_contact.as_deref().or(public_url)
    }

    /// `cors_origins` as a list; empty: CORS stays off.
    pub fn cors_origin_list(&self) -> Vec<String> {
        self.cors_origins.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect()
    }

    pub fn db_path(&self) -> PathBuf {
        self.data.join("hearth.db")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_limits_load_from_the_file_and_zero_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hearth.toml"), "captcha_max_draws = 5\ndevice_max_failures = 7\n").unwrap();
        let config = Config::load(dir.path(), &Settings::default()).unwrap();
        assert_eq!((config.captcha_max_draws, config.device_max_failures, config.sms_max_per_client), (5, 7, 20));
        std::fs::write(dir.path().join("hearth.toml"), "sms_window_secs = 0\n").unwrap();
        let refused = Config::load(dir.path(), &Settings::default()).unwrap_err();
        assert_eq!(refused.to_string(), "sms_window_secs must be at least 1");
    }

    #[test]
    fn a_push_contact_must_be_reachable_from_the_internet() {
        for good in ["mailto:ops@sunrise-care.org", "https://hearth.sunrise-care.org", "https://care.sunrise.co.uk/box"]
        {
            assert_eq!(public_contact(good), Ok(()), "{good}");
        }
        for bad in [
            "mailto:hearth@localhost",
            "mailto:ops@box.local",
            "mailto:security@gateway.invalid",
            "mailto:@sunrise-care.org",
            "mailto:ops",
            "https://localhost:8080",
            "https://hearth.home.arpa",
            "https://192.168.1.20",
            "https://[fd00::1]",
            "http://hearth.sunrise-care.org",
            "ops@sunrise-care.org",
        ] {
            assert!(public_contact(bad).is_err(), "{bad}");
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hearth.toml"), "push_contact = \"mailto:hearth@localhost\"\n").unwrap();
        let refused = Config::load(dir.path(), &Settings::default()).unwrap_err().to_string();
        assert!(refused.starts_with("push_contact \"mailto:hearth@localhost\""), "{refused}");
    }

    #[test]
    fn the_push_subject_is_the_contact_else_a_public_https_url() {
        let mut config = Config { public_url: Some("http://192.168.1.20:8080".into()), ..Config::default() };
        assert_eq!(config.push_subject(), None);
        config.public_url = Some("https://hearth.sunrise-care.org".into());
        assert_eq!(config.push_subject(), Some("https://hearth.sunrise-care.org"));
        config.push_contact = Some("mailto:ops@sunrise-care.org".into());
        assert_eq!(config.push_subject(), Some("mailto:ops@sunrise-care.org"));
    }
}
