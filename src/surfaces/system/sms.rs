//! The SMS outbox: what the default sender "sent", for administrators to read out to the
//! person who asked for a code (no SMS gateway is reachable from a home box by default).

use std::sync::Arc;

use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};

use super::{page, permitted, Reply, SystemToken};
use crate::clock::local_datetime;
use crate::identity::authz::Operation;
use crate::identity::sms;
use crate::surfaces::Failure;
use crate::AppState;

pub struct SmsApi(pub Arc<AppState>);

#[derive(Object)]
struct OutboxMessage {
    id: i64,
    phone: String,
    code: String,
    rand: String,
    /// 1 register, 2 forgotten password
    #[oai(rename = "commandType")]
    command_type: i64,
    text: String,
    /// yyyy-MM-dd HH:mm:ss
    #[oai(rename = "createTime")]
    create_time: String,
}

#[OpenApi]
impl SmsApi {
    /// Messages written by the outbox SMS sender, newest first (administrators)
    #[oai(path = "/api/sms/outbox", method = "get")]
    async fn outbox(
        &self,
        op: &Operation,
        token: SystemToken,
        /// Only messages to this phone
        phone: Query<Option<String>>,
        /// Page number, from 1
        #[oai(name = "pageNum")]
        page_num: Query<Option<i64>>,
        /// Rows per page, at most 500 (default 50)
        #[oai(name = "pageSize")]
        page_size: Query<Option<i64>>,
    ) -> Reply<Vec<OutboxMessage>> {
        let caller = permitted(&self.0, op, &token).await?;
        let (size, offset) = super::paging(page_num.0, page_size.0, 50)?;
        let phone = phone.0.filter(|p| !p.is_empty());
        let (rows, total) =
            self.0.db.read(move |c| Ok::<_, Failure>(sms::outbox(c, &caller, phone.as_deref(), size, offset)?)).await?;
        let rows = rows
            .into_iter()
            .map(|m| OutboxMessage {
                id: m.id,
                phone: m.phone,
                code: m.code,
                rand: m.rand,
                command_type: m.command_type,
                text: m.text,
                create_time: local_datetime(m.created_at),
            })
            .collect();
        page(rows, total)
    }
}
