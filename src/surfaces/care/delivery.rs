//! Administrators read how a fall alert went out: the delivery record the alert paths
//! wrote (src/alerts/record.rs) and who acknowledged it when, for notices of cameras within
//! their data scope.

use poem_openapi::Object;
use rusqlite::{Connection, OptionalExtension};

use crate::alerts::record;
use crate::clock::local_datetime;
use crate::identity::authz::DataScope;
use crate::surfaces::Failure;

#[derive(Object, serde::Deserialize)]
pub struct DeliveryData {
    /// The notice's event_id
    pub event_id: String,
}

#[derive(Object)]
pub struct DeliveryItem {
    /// The account told; absent for MQTT (the Home Assistant broker)
    #[oai(skip_serializing_if_is_none)]
    account_id: Option<i64>,
    /// Its name, user name or phone; absent for MQTT
    #[oai(skip_serializing_if_is_none)]
    account: Option<String>,
    /// push, sse or mqtt
    channel: String,
    /// Sent again because nobody acknowledged the fall in time
    escalated: bool,
    /// false: failed, with a reason
    delivered: bool,
    /// Why it failed, in a few words
    #[oai(skip_serializing_if_is_none)]
    reason: Option<String>,
    /// yyyy-MM-dd HH:mm:ss, server local time
    time: String,
}

#[derive(Object)]
pub struct Acknowledgement {
    account_id: i64,
    /// Its name, user name or phone
    account: String,
    /// yyyy-MM-dd HH:mm:ss, server local time
    time: String,
}

#[derive(Object)]
pub struct DeliveryRecord {
    event_id: String,
    /// The camera's name
    device: String,
    /// yyyy-MM-dd HH:mm:ss, server local time, when the fall was stored
    createtime: String,
    /// Oldest first
    deliveries: Vec<DeliveryItem>,
    /// Who marked it read, oldest first
    acknowledged: Vec<Acknowledgement>,
}

fn no_such_notice() -> Failure {
    Failure::Code(100, "Error event_id: no such notice among the cameras you may see".into())
}

/// The record of one notice, if its camera is within `scope`.
pub fn read(conn: &Connection, scope: &DataScope, event_id: &str) -> Result<DeliveryRecord, Failure> {
    let found = conn
        .query_row(
            "SELECT n.id, n.device_id, d.name, n.created_at FROM notice n JOIN device d ON d.id = n.device_id
             WHERE n.event_id = ?1",
            [event_id],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?)),
        )
        .optional()?;
    let (notice, _, name, created_at) =
        found.filter(|(_, device, _, _)| scope.allows_device(*device)).ok_or_else(no_such_notice)?;
    let deliveries = record::of_notice(conn, notice)?
        .into_iter()
        .map(|row| DeliveryItem {
            account_id: row.account_id,
            account: row.account,
            channel: row.channel,
            escalated: row.escalated,
            delivered: row.delivered,
            reason: row.reason,
            time: local_datetime(row.at),
        })
        .collect();
    let mut stmt = conn.prepare_cached(
        "SELECT r.account_id, COALESCE(NULLIF(a.name, ''), a.username, a.phone, ''), r.read_at
         FROM notice_read r JOIN account a ON a.id = r.account_id WHERE r.notice_id = ?1 ORDER BY r.read_at, r.account_id",
    )?;
    let acknowledged = stmt
        .query_map([notice], |r| {
            Ok(Acknowledgement { account_id: r.get(0)?, account: r.get(1)?, time: local_datetime(r.get(2)?) })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(DeliveryRecord {
        event_id: event_id.to_owned(),
        device: name,
        createtime: local_datetime(created_at),
        deliveries,
        acknowledged,
    })
}
