//! Reads of care for the open platform (`/open`, scope `care:read`): the partner API sees
//! notices and devices only through these functions, never through care's tables.

use rusqlite::{Connection, OptionalExtension};

use super::device::ONLINE_SECS;
use crate::clock::now;

/// A fall notice with its device, as the open platform shows it.
pub struct NoticeRow {
    pub event_id: String,
    pub pic_name: String,
    pub device_name: String,
    pub device_id: i64,
    pub content: String,
    /// Epoch seconds
    pub created_at: i64,
    /// The snapshot's name in the notices bucket
    pub file: String,
}

/// A camera device with its online state (care's rule), as the open platform shows it.
pub struct DeviceRow {
    pub id: i64,
    pub name: String,
    pub online: bool,
    /// Epoch seconds, None if never
    pub last_seen: Option<i64>,
}

const NOTICE_COLUMNS: &str = "n.event_id, n.pic_name, d.name, d.id, n.content, n.created_at, n.file";

fn notice_row(r: &rusqlite::Row) -> rusqlite::Result<NoticeRow> {
    Ok(NoticeRow {
        event_id: r.get(0)?,
        pic_name: r.get(1)?,
        device_name: r.get(2)?,
        device_id: r.get(3)?,
        content: r.get(4)?,
        created_at: r.get(5)?,
        file: r.get(6)?,
    })
}

/// One page of the notices created at or after `since`, oldest first, and their total, for
/// a partner syncing notices.
pub fn notices_since(
    conn: &Connection,
    since: i64,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<NoticeRow>, i64)> {
    let total = conn.query_row("SELECT count(*) FROM notice WHERE created_at >= ?1", [since], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {NOTICE_COLUMNS} FROM notice n JOIN device d ON d.id = n.device_id
         WHERE n.created_at >= ?1 ORDER BY n.created_at, n.id LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map([since, limit, offset], notice_row)?.collect::<rusqlite::Result<_>>()?;
    Ok((rows, total))
}

/// The notice with this `event_id`, if any, for a partner reading one notice or its snapshot.
pub fn notice(conn: &Connection, event_id: &str) -> rusqlite::Result<Option<NoticeRow>> {
    conn.query_row(
        &format!("SELECT {NOTICE_COLUMNS} FROM notice n JOIN device d ON d.id = n.device_id WHERE n.event_id = ?1"),
        [event_id],
        notice_row,
    )
    .optional()
}

/// Every device by id with its online state, for a partner listing the box's cameras.
pub fn devices(conn: &Connection) -> rusqlite::Result<Vec<DeviceRow>> {
    let time = now();
    let mut stmt = conn.prepare_cached("SELECT id, name, last_seen FROM device ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        let last_seen: Option<i64> = r.get(2)?;
        Ok(DeviceRow {
            id: r.get(0)?,
            name: r.get(1)?,
            online: last_seen.is_some_and(|t| time - t < ONLINE_SECS),
            last_seen,
        })
    })?;
    rows.collect()
}
