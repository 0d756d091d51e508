//! The partner view of care (scope `care:read`): every fall notice and device of the box,
//! read-only. A care provider syncs notices with `since` and pages in time order.

use std::sync::Arc;

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Binary;
use poem_openapi::{ApiResponse, Object, OpenApi};
use rusqlite::Connection;

use super::access::{app_with_scope, AppToken};
use super::{ok, page, paging, Open, Reply};
use crate::clock::{local_datetime, parse_local_datetime};
use crate::files::Bucket;
use crate::surfaces::care::partner;
use crate::surfaces::{ApiError, Failure};
use crate::AppState;

pub struct CareReadApi(pub Arc<AppState>);

const SCOPE: &str = "care:read";

#[derive(Object)]
struct Notice {
    event_id: String,
    pic_name: String,
    /// The device's name
    device: String,
    device_id: i64,
    content: String,
    /// yyyy-MM-dd HH:mm:ss
    createtime: String,
}

#[derive(Object)]
struct Device {
    id: i64,
    name: String,
    /// Called in during the last 5 minutes
    online: bool,
    /// yyyy-MM-dd HH:mm:ss, null if never
    last_seen: Option<String>,
}

#[derive(ApiResponse)]
enum Image {
    #[oai(status = 200, content_type = "image/jpeg")]
    Jpeg(Binary<Vec<u8>>),
    #[oai(status = 200, content_type = "image/png")]
    Png(Binary<Vec<u8>>),
}

impl From<partner::NoticeRow> for Notice {
    fn from(row: partner::NoticeRow) -> Self {
        Notice {
            event_id: row.event_id,
            pic_name: row.pic_name,
            device: row.device_name,
            device_id: row.device_id,
            content: row.content,
            createtime: local_datetime(row.created_at),
        }
    }
}

fn notice(conn: &Connection, event_id: &str) -> Result<partner::NoticeRow, Failure> {
    partner::notice(conn, event_id)?.ok_or_else(|| Failure::NotFound(format!("no fall notice has event_id {event_id}")))
}

#[OpenApi]
impl CareReadApi {
    /// Fall notices created at or after `since`, oldest first, one page
    #[oai(path = "/api/care/notices", method = "get")]
    async fn notices(
        &self,
        token: AppToken,
        /// yyyy-MM-dd HH:mm:ss (server local time); all notices when absent
        since: Query<Option<String>>,
        #[oai(name = "pageNum")] page_num: Query<Option<i64>>,
        #[oai(name = "pageSize")] page_size: Query<Option<i64>>,
    ) -> Reply<Vec<Notice>> {
        app_with_scope(&self.0, &token, SCOPE).await?;
        let since = match since.0.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(text) => parse_local_datetime(text)
                .ok_or_else(|| Failure::Invalid(format!("since {text:?} is not a time written yyyy-MM-dd HH:mm:ss")))?,
            None => i64::MIN,
        };
        let (limit, offset) = paging(page_num.0, page_size.0)?;
        let (rows, total) =
            self.0.db.read(move |c| Ok::<_, Failure>(partner::notices_since(c, since, limit, offset)?)).await?;
        page(rows.into_iter().map(Notice::from).collect(), total)
    }

    /// One fall notice
    #[oai(path = "/api/care/notices/:event_id", method = "get")]
    async fn notice(&self, token: AppToken, event_id: Path<String>) -> Reply<Notice> {
        app_with_scope(&self.0, &token, SCOPE).await?;
        ok(self.0.db.read(move |c| notice(c, &event_id.0)).await?.into())
    }

    /// A fall notice's snapshot (JPEG or PNG)
    #[oai(path = "/api/care/notices/:event_id/image", method = "get")]
    async fn image(&self, token: AppToken, event_id: Path<String>) -> Result<Image, ApiError<Open>> {
        app_with_scope(&self.0, &token, SCOPE).await?;
        let file = self.0.db.read(move |c| notice(c, &event_id.0)).await?.file;
        let files = self.0.files.clone();
        let name = file.clone();
        let bytes = tokio::task::spawn_blocking(move || files.read(Bucket::Notices, &name))
            .await
            .map_err(|e| Failure::Internal(e.to_string()))?
            .map_err(|_| Failure::NotFound("the snapshot of this notice is no longer stored".into()))?;
        Ok(if file.ends_with(".png") { Image::Png(Binary(bytes)) } else { Image::Jpeg(Binary(bytes)) })
    }

    /// Every camera device with its online state
    #[oai(path = "/api/care/devices", method = "get")]
    async fn devices(&self, token: AppToken) -> Reply<Vec<Device>> {
        app_with_scope(&self.0, &token, SCOPE).await?;
        let rows: Vec<Device> = self
            .0
            .db
            .read(|c| Ok::<_, Failure>(partner::devices(c)?))
            .await?
            .into_iter()
            .map(|d| Device { id: d.id, name: d.name, online: d.online, last_seen: d.last_seen.map(local_datetime) })
            .collect();
        let total = rows.len() as i64;
        page(rows, total)
    }
}
