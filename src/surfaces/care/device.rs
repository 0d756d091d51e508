//! Camera devices: added and bound by accounts, identified by a random device token, online
//! while they call in (heartbeat or notice upload) at least every 5 minutes.

use std::sync::Arc;

use poem::web::RemoteAddr;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use rusqlite::{params, Connection, OptionalExtension};

use super::envelope::{Answer, CareBody, Empty};
use super::{signed_in, status};
use crate::clock::{local_datetime, now};
use crate::identity::authz::Operation;
use crate::identity::tokens::{md5_hex, random_hex, token_hash};
use crate::identity::Caller;
use crate::surfaces::client::client_key;
use crate::surfaces::Failure;
use crate::AppState;

pub struct DeviceApi(pub Arc<AppState>);

/// A device that called in within this many seconds is online.
pub const ONLINE_SECS: i64 = 300;

#[derive(Object, serde::Deserialize)]
pub struct DeviceData {
    /// add: the device's name, unique among the caller's devices
    device: Option<String>,
    /// bind, unbind: the device token answered by `add`
    device_id: Option<String>,
    /// unbind: the device's number from `list` (instead of device_id)
    id: Option<i64>,
}

#[derive(Object)]
pub struct DeviceItem {
    /// The device's number (what data-role scopes `care.device:<id>` name)
    id: i64,
    /// Its name
    device: String,
    /// Called in within the last 5 minutes
    online: bool,
    /// yyyy-MM-dd HH:mm:ss of its last call, or null if it never called
    last_seen: Option<String>,
}

#[derive(Object)]
pub struct DeviceAnswer {
    /// add: the device token; configure it in the camera (`?token=` of uploads and
    /// heartbeats) and give it to family members to bind. It is shown only here.
    #[oai(skip_serializing_if_is_none)]
    device_id: Option<String>,
    /// list: number of devices
    #[oai(skip_serializing_if_is_none)]
    num: Option<i64>,
    /// list: the caller's devices, by name
    #[oai(skip_serializing_if_is_none)]
    list: Option<Vec<DeviceItem>>,
}

impl DeviceAnswer {
    fn empty() -> DeviceAnswer {
        DeviceAnswer { device_id: None, num: None, list: None }
    }
}

#[derive(serde::Deserialize)]
struct Add {
    device: String,
}

#[derive(serde::Deserialize)]
struct Bind {
    device_id: String,
}

/// The device behind a device token, as (id, name).
pub fn by_token(conn: &Connection, token: &str) -> rusqlite::Result<Option<(i64, String)>> {
    conn.prepare_cached("SELECT id, name FROM device WHERE token_hash = ?1")?
        .query_row([token_hash(token.trim().to_ascii_lowercase().as_str())], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

pub fn touch(conn: &Connection, device: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE device SET last_seen = ?1 WHERE id = ?2")?.execute(params![now(), device])?;
    Ok(())
}

/// The device a device token names: -100 without a token, -104 for an unknown one. Unknown
/// tokens count against `client`; past `device_max_failures` every device call from it
/// waits (a right token too, else guessing would simply go on). A working camera never
/// fails, so it is never held up, also among many cameras behind one address.
pub async fn authenticate(app: &AppState, client: &str, token: Option<&str>) -> Result<(i64, String), Failure> {
    let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or(Failure::NoToken)?.to_owned();
    let failures = &app.care.device_failures;
    // An address over its limit buys no lookup.
    failures.check(client).map_err(Failure::RateLimited)?;
    // One row of a table of a home's cameras, by a unique index: read where it is asked.
    let found = app.db.read_small(move |c| Ok::<_, Failure>(by_token(c, &token)?)).await?;
    // The lookup's outcome is told only once an attempt is taken, so parallel guesses learn
    // at most the limit's worth; a found token hands it back at once, so requests waiting
    // on the database hold none.
    failures.reserve(client).map_err(Failure::RateLimited)?;
    let device = found.ok_or_else(|| {
        Failure::Code(status::BAD_DEVICE_TOKEN, "Error device_id token: no device has this token".into())
    })?;
    failures.release(client);
    Ok(device)
}

fn not_found() -> Failure {
    Failure::Code(100, "device_id not exist: no such device among yours; check the device token".into())
}

impl DeviceApi {
    async fn handle(
        &self,
        op: &Operation,
        client: &str,
        token: Option<&str>,
        body: &CareBody<DeviceData>,
    ) -> Result<DeviceAnswer, Failure> {
        let caller = signed_in(&self.0, op, token).await?;
        let (_, subtype) =
            body.kind(&[("device", "add"), ("device", "bind"), ("device", "unbind"), ("device", "list")])?;
        let account = caller.account_id;
        match subtype {
            "add" => {
                let Add { device } = body.data()?;
                let name = device.trim().to_owned();
                if name.is_empty() || name.chars().count() > 64 {
                    return Err(Failure::Invalid(
                        "Arg's value error: device must be a name of 1 to 64 characters".into(),
                    ));
                }
                let token = if self.0.config.care_legacy_device_ids {
                    // The original server's rule, which old firmware hard-codes: anyone who
                    // knows a camera's name knows its token (opt-in, warned about at start).
                    md5_hex(&format!("{name}helpaged"))
                } else {
                    random_hex(16)
                };
                let hash = token_hash(&token);
                self.0
                    .db
                    .write(move |tx| {
                        let duplicate: bool = tx.query_row(
                            "SELECT EXISTS (SELECT 1 FROM device d JOIN device_binding b ON b.device_id = d.id
                             WHERE b.account_id = ?1 AND d.name = ?2)",
                            params![account, name],
                            |r| r.get(0),
                        )?;
                        if duplicate {
                            return Err(Failure::Code(
                                101,
                                "Duplicate device: you already have a device with this name".into(),
                            ));
                        }
                        let now = now();
                        tx.execute(
                            "INSERT INTO device (name, token_hash, owner_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                            params![name, hash, account, now],
                        )?;
                        let id = tx.last_insert_rowid();
                        tx.execute(
                            "INSERT INTO device_binding (account_id, device_id, bound_at) VALUES (?1, ?2, ?3)",
                            params![account, id, now],
                        )?;
                        Ok(())
                    })
                    .await?;
                crate::alerts::devices_changed(&self.0);
                Ok(DeviceAnswer { device_id: Some(token), ..DeviceAnswer::empty() })
            }
            "bind" => {
                let Bind { device_id } = body.data()?;
                // Binding by token is as good a guess at a token as a heartbeat: same limit.
                let failures = &self.0.care.device_failures;
                failures.reserve(client).map_err(Failure::RateLimited)?;
                let bound = self
                    .0
                    .db
                    .write(move |tx| {
                        let Some((id, _)) = by_token(tx, &device_id)? else { return Ok(false) };
                        tx.execute(
                            "INSERT OR IGNORE INTO device_binding (account_id, device_id, bound_at) VALUES (?1, ?2, ?3)",
                            params![account, id, now()],
                        )?;
                        Ok::<_, Failure>(true)
                    })
                    .await
                    .inspect_err(|_| failures.release(client))?;
                if !bound {
                    return Err(not_found());
                }
                failures.release(client);
                Ok(DeviceAnswer::empty())
            }
            "unbind" => {
                let data: DeviceData = body.data()?;
                // Some(the camera's newest notice, if any) when a binding was removed.
                let unbound = self
                    .0
                    .db
                    .write(move |tx| {
                        let id = match (data.device_id, data.id) {
                            (Some(token), _) => by_token(tx, &token)?.map(|(id, _)| id),
                            (None, Some(id)) => Some(id),
                            (None, None) => {
                                return Err(Failure::Missing(
                                    "Error data key: missing field `device_id` in `data`".into(),
                                ));
                            }
                        };
                        let Some(id) = id else { return Ok(None) };
                        let removed = tx.execute(
                            "DELETE FROM device_binding WHERE account_id = ?1 AND device_id = ?2",
                            params![account, id],
                        )?;
                        let newest = "SELECT max(id) FROM notice WHERE device_id = ?1";
                        let newest: Option<i64> = tx.query_row(newest, [id], |r| r.get(0))?;
                        Ok((removed > 0).then_some(newest))
                    })
                    .await?;
                let Some(newest) = unbound else { return Err(not_found()) };
                if let Some(notice) = newest {
                    crate::alerts::bindings_changed(&self.0, notice);
                }
                Ok(DeviceAnswer::empty())
            }
            _ => {
                let list = self.list(&caller).await?;
                Ok(DeviceAnswer { num: Some(list.len() as i64), list: Some(list), device_id: None })
            }
        }
    }

    /// The caller's devices, narrowed by its data roles' `care.device` scopes.
    async fn list(&self, caller: &Caller) -> Result<Vec<DeviceItem>, Failure> {
        let scope = self.0.identity.data_scope(caller).await?;
        let account = caller.account_id;
        self.0
            .db
            .read(move |c| {
                let sql = format!(
                    "SELECT d.id, d.name, d.last_seen FROM device d JOIN device_binding b ON b.device_id = d.id
                     WHERE b.account_id = ?1{} ORDER BY d.name, d.id",
                    scope.device_filter("d.id")
                );
                let mut stmt = c.prepare(&sql)?;
                let now = now();
                let rows = stmt.query_map([account], |r| {
                    let last_seen: Option<i64> = r.get(2)?;
                    Ok(DeviceItem {
                        id: r.get(0)?,
                        device: r.get(1)?,
                        online: last_seen.is_some_and(|t| now - t < ONLINE_SECS),
                        last_seen: last_seen.map(local_datetime),
                    })
                })?;
                Ok::<_, Failure>(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }
}

#[OpenApi]
impl DeviceApi {
    /// Devices (type device): add, bind, unbind, list
    #[oai(path = "/api/device", method = "post")]
    async fn device(
        &self,
        op: &Operation,
        remote: &RemoteAddr,
        token: Query<Option<String>>,
        body: CareBody<DeviceData>,
    ) -> Answer<DeviceAnswer> {
        Answer::new(body.id, self.handle(op, &client_key(remote), token.0.as_deref(), &body).await)
    }

    /// A device calls in (token = the device token); it counts as online for 5 minutes
    #[oai(path = "/api/device/heartbeat", method = "get")]
    async fn heartbeat(&self, remote: &RemoteAddr, token: Query<Option<String>>) -> Answer<Empty> {
        let outcome = async {
            let (id, _) = authenticate(&self.0, &client_key(remote), token.0.as_deref()).await?;
            self.0.db.write(move |tx| Ok::<_, Failure>(touch(tx, id)?)).await?;
            Ok(Empty {})
        };
        Answer::get(outcome.await)
    }
}
