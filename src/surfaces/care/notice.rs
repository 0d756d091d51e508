//! Fall notices: a device uploads a snapshot; every account bound to the device lists it,
//! reads it with the picture, and marks it read for itself.

use std::sync::Arc;

use base64::Engine;
use poem::web::RemoteAddr;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi, Union};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection};

use super::envelope::{Answer, CareBody, Empty};
use super::{device, pictures, signed_in, status};
use crate::clock::{local_datetime, now};
use crate::files::{Bucket, FileStore, NewFile};
use crate::identity::authz::{data_scope_of, DataScope, Operation};
use crate::identity::tokens::random_hex;
use crate::surfaces::client::client_key;
use crate::surfaces::Failure;
use crate::AppState;

pub struct NoticeApi(pub Arc<AppState>);

#[derive(Object, serde::Deserialize)]
pub struct UploadData {
    /// The snapshot, JPEG or PNG, as base64 (a `data:image/…;base64,` head is allowed)
    base64: String,
    /// Optional description, at most 255 characters
    #[serde(default)]
    content: Option<String>,
}

#[derive(Object)]
pub struct UploadAnswer {
    /// 32 hex digits naming the stored snapshot
    pic_name: String,
}

#[derive(Object, serde::Deserialize)]
pub struct NoticeData {
    /// get: 0 unread, 1 read, 2 all
    mode: Option<i64>,
    /// info, sign: the notice's event_id
    event_id: Option<String>,
}

#[derive(Object, Clone)]
pub struct NoticeItem {
    event_id: String,
    content: String,
    /// The device's name
    device: String,
    pic_name: String,
    /// yyyy-MM-dd HH:mm:ss, server local time
    createtime: String,
    /// Whether the caller has marked it read
    read: bool,
    /// info only: the snapshot as base64
    #[oai(skip_serializing_if_is_none)]
    base64: Option<String>,
}

#[derive(Object)]
pub struct NoticeList {
    /// Number of notices listed
    num: i64,
    /// Newest first
    list: Vec<NoticeItem>,
}

/// get: a list; info: one notice with its picture; sign: `{}`.
#[derive(Union)]
#[oai(one_of)]
pub enum NoticeAnswer {
    List(NoticeList),
    Notice(NoticeItem),
    Signed(Empty),
}

#[derive(serde::Deserialize)]
struct EventId {
    event_id: String,
}

/// Which of the caller's notices to select.
pub enum Filter<'a> {
    /// 0 unread, 1 read, 2 all; newest first.
    Mode(i64),
    /// Those after a notice id, oldest first (the live stream).
    After(i64),
    Event(&'a str),
}

/// The caller's notices: those of devices it is bound to, within its data scope. Each row
/// is (notice id, stored file, item).
/// Whether an account sees a camera: bound to it, within its data scope. The live stream
/// and Web Push both decide by this.
pub fn sees_device(conn: &Connection, account: i64, scope: &DataScope, device: i64) -> rusqlite::Result<bool> {
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM device_binding WHERE account_id = ?1 AND device_id = ?2{})",
        scope.device_filter("device_id")
    );
    conn.query_row(&sql, [account, device], |r| r.get(0))
}

/// Every enabled account that sees a camera, for alerts sent to people rather than to an
/// open stream.
pub fn watchers(conn: &Connection, device: i64) -> rusqlite::Result<Vec<i64>> {
    let mut bound = conn.prepare_cached(
        "SELECT b.account_id FROM device_binding b JOIN account a ON a.id = b.account_id
         WHERE b.device_id = ?1 AND a.enabled = 1 ORDER BY b.account_id",
    )?;
    let accounts: Vec<i64> = bound.query_map([device], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    let mut seeing = Vec::with_capacity(accounts.len());
    for account in accounts {
        if sees_device(conn, account, &data_scope_of(conn, account)?, device)? {
            seeing.push(account);
        }
    }
    Ok(seeing)
}

pub fn visible(
    conn: &Connection,
    account: i64,
    scope: &DataScope,
    filter: Filter,
) -> rusqlite::Result<Vec<(i64, String, NoticeItem)>> {
    let newest = "n.created_at DESC, n.id DESC";
    let (condition, order, arg) = match filter {
        Filter::Mode(0) => ("AND r.notice_id IS NULL", newest, None),
        Filter::Mode(1) => ("AND r.notice_id IS NOT NULL", newest, None),
        Filter::Mode(_) => ("", newest, None),
        Filter::After(id) => ("AND n.id > ?2", "n.id", Some(SqlValue::Integer(id))),
        Filter::Event(event) => ("AND n.event_id = ?2", "n.id", Some(SqlValue::Text(event.to_owned()))),
    };
    let sql = format!(
        "SELECT n.id, n.file, n.event_id, n.content, d.name, n.pic_name, n.created_at, r.notice_id IS NOT NULL
         FROM notice n JOIN device d ON d.id = n.device_id
         JOIN device_binding b ON b.device_id = n.device_id AND b.account_id = ?1
         LEFT JOIN notice_read r ON r.notice_id = n.id AND r.account_id = ?1
         WHERE TRUE {condition}{} ORDER BY {order}",
        scope.device_filter("n.device_id")
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let args = std::iter::once(SqlValue::Integer(account)).chain(arg);
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            NoticeItem {
                event_id: r.get(2)?,
                content: r.get(3)?,
                device: r.get(4)?,
                pic_name: r.get(5)?,
                createtime: local_datetime(r.get(6)?),
                read: r.get(7)?,
                base64: None,
            },
        ))
    })?;
    rows.collect()
}

/// Stores a snapshot while it is verified, since a flush waits on the disk rather than the
/// CPU: once its base64 is decoded, the file is written and made durable under its final
/// name (the extension its first bytes announce, which verifying checks) on one blocking
/// thread as the picture is proved whole on the one that decoded it. A refused picture's
/// file is removed before the answer; a row names the file only after both, and a crash
/// before the row leaves a file the start's sweep removes.
async fn store(files: &FileStore, base64: String) -> Result<NewFile, Failure> {
    let storing = |e: std::io::Error| {
        tracing::error!(error = %e, "storing a fall snapshot failed");
        Failure::Code(status::STORAGE, "COS upload Error: the snapshot could not be stored; try again".into())
    };
    let files = files.clone();
    let (verified, writing) = pictures::blocking(move || {
        let bytes = Arc::new(pictures::decode_base64(&base64)?);
        drop(base64);
        let announced = pictures::announced_extension(&bytes)?;
        let writing = tokio::task::spawn_blocking({
            let bytes = bytes.clone();
            move || files.put(Bucket::Notices, announced, &bytes)
        });
        let verified = pictures::verify(&bytes)
            .map(|ext| debug_assert_eq!(ext, announced, "verifying reads the format from the same first bytes"));
        Ok((verified, writing))
    })
    .await?;
    let written = writing.await.map_err(|_| Failure::Internal("snapshot task stopped".into()))?.map_err(storing);
    match verified {
        Ok(()) => written,
        Err(refused) => {
            // Removing the file is file-system work too; it is gone by the answer.
            let _ = tokio::task::spawn_blocking(move || drop(written)).await;
            Err(refused)
        }
    }
}

fn no_such_event() -> Failure {
    Failure::Code(100, "Error event_id: no such notice among your devices' notices".into())
}

impl NoticeApi {
    async fn upload_inner(
        &self,
        client: &str,
        token: Option<&str>,
        body: CareBody<UploadData>,
    ) -> Result<UploadAnswer, Failure> {
        let (device, device_name) = device::authenticate(&self.0, client, token).await?;
        body.kind(&[("notice", "upload")])?;
        let UploadData { base64, content } = body.into_data()?;
        let content = content.unwrap_or_default();
        if content.chars().count() > 255 {
            return Err(Failure::Invalid("Arg's value error: content may have at most 255 characters".into()));
        }
        let stored = store(&self.0.files, base64).await?;
        let file = stored.name.clone();
        let pic_name = file.split('.').next().unwrap_or_default().to_owned();
        let row_pic = pic_name.clone();
        let id = self
            .0
            .db
            .write(move |tx| {
                let (event_id, time) = (random_hex(16), now());
                tx.prepare_cached(
                    "INSERT INTO notice (event_id, pic_name, file, device_id, content, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![event_id, row_pic, file, device, content, time])?;
                let id = tx.last_insert_rowid();
                device::touch(tx, device)?;
                // Partner apps hear of the notice exactly when it exists: queued in this transaction.
                let data = serde_json::json!({
                    "event_id": event_id, "pic_name": row_pic, "device": device_name, "content": content,
                    "createtime": local_datetime(time),
                });
                crate::surfaces::open::webhooks::enqueue(tx, "care.notice.created", "care:read", &data)?;
                Ok::<_, Failure>(id)
            })
            .await?;
        stored.keep();
        // No receiver simply means nobody is watching live; the notice is stored either way.
        let _ = self.0.care.alerts.send(id);
        crate::alerts::fall(&self.0, id);
        Ok(UploadAnswer { pic_name })
    }

    async fn read_inner(
        &self,
        op: &Operation,
        token: Option<&str>,
        body: &CareBody<NoticeData>,
    ) -> Result<NoticeAnswer, Failure> {
        let caller = signed_in(&self.0, op, token).await?;
        let (_, subtype) = body.kind(&[("notice", "get"), ("notice", "info"), ("notice", "sign")])?;
        let scope = self.0.identity.data_scope(&caller).await?;
        let account = caller.account_id;
        match subtype {
            "get" => {
                let mode = match body.raw()?.get("mode") {
                    None => return Err(Failure::Missing("Error data key: missing field `mode` in `data`".into())),
                    Some(v) => v
                        .as_i64()
                        .or_else(|| v.as_str().and_then(|t| t.trim().parse().ok()))
                        .filter(|m| (0..=2).contains(m))
                        .ok_or_else(|| {
                            Failure::Code(102, "mode value error: mode must be 0 (unread), 1 (read) or 2 (all)".into())
                        })?,
                };
                let list = self
                    .0
                    .db
                    .read(move |c| {
                        let bound: bool = c.query_row(
                            "SELECT EXISTS (SELECT 1 FROM device_binding WHERE account_id = ?1)",
                            [account],
                            |r| r.get(0),
                        )?;
                        if !bound {
                            return Err(Failure::Code(101, "not bind device: add or bind a device first".into()));
                        }
                        Ok(visible(c, account, &scope, Filter::Mode(mode))?)
                    })
                    .await?;
                let list: Vec<NoticeItem> = list.into_iter().map(|(_, _, item)| item).collect();
                Ok(NoticeAnswer::List(NoticeList { num: list.len() as i64, list }))
            }
            "info" => {
                let EventId { event_id } = body.data()?;
                let found = self
                    .0
                    .db
                    .read(move |c| Ok::<_, Failure>(visible(c, account, &scope, Filter::Event(&event_id))?))
                    .await?;
                let (_, file, mut item) = found.into_iter().next().ok_or_else(no_such_event)?;
                let files = self.0.files.clone();
                let bytes = pictures::blocking(move || {
                    files
                        .read(Bucket::Notices, &file)
                        .map_err(|e| Failure::Internal(format!("reading snapshot {file}: {e}")))
                })
                .await?;
                item.base64 = Some(base64::engine::general_purpose::STANDARD.encode(bytes));
                Ok(NoticeAnswer::Notice(item))
            }
            _ => {
                let EventId { event_id } = body.data()?;
                let notice = self
                    .0
                    .db
                    .write(move |tx| {
                        let found = visible(tx, account, &scope, Filter::Event(&event_id))?;
                        let (id, _, item) = found.into_iter().next().ok_or_else(no_such_event)?;
                        if item.read {
                            return Err(Failure::Code(
                                101,
                                "event_id has been signed: this notice is already marked read".into(),
                            ));
                        }
                        tx.execute(
                            "INSERT INTO notice_read (account_id, notice_id, read_at) VALUES (?1, ?2, ?3)",
                            params![account, id, now()],
                        )?;
                        Ok(id)
                    })
                    .await?;
                crate::alerts::acknowledged(&self.0, notice);
                Ok(NoticeAnswer::Signed(Empty {}))
            }
        }
    }
}

#[OpenApi]
impl NoticeApi {
    /// A device posts a fall snapshot (token = the device token; type notice, subtype upload)
    #[oai(path = "/api/notice", method = "post")]
    async fn upload(
        &self,
        remote: &RemoteAddr,
        token: Query<Option<String>>,
        body: CareBody<UploadData>,
    ) -> Answer<UploadAnswer> {
        Answer::new(body.id, self.upload_inner(&client_key(remote), token.0.as_deref(), body).await)
    }

    /// The caller's fall notices (type notice): get (list by mode), info (with the picture), sign (mark read)
    #[oai(path = "/api/get/notice", method = "post")]
    async fn notices(
        &self,
        op: &Operation,
        token: Query<Option<String>>,
        body: CareBody<NoticeData>,
    ) -> Answer<NoticeAnswer> {
        Answer::new(body.id, self.read_inner(op, token.0.as_deref(), &body).await)
    }
}
