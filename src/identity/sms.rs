//! SMS codes (CONTRACT §4): 5 digits, valid 180 s, single use, bound to a phone and a
//! command type. The default sender writes each message to `sms_outbox`; with a gateway
//! URL configured, messages are POSTed there as `{"phone","text"}` instead.

use rand::Rng;
use rusqlite::{params, Connection};

use super::accounts::Rank;
use super::tokens::{md5_hex, random_alphanumeric};
use super::{Caller, IdentityError};
use crate::clock::now;

pub const VALID_SECS: i64 = 180;
/// Expired codes are kept this long so that a late check can answer "expired".
const KEEP_EXPIRED_SECS: i64 = 86_400;

pub struct SmsCode {
    pub phone: String,
    pub code: String,
    pub rand: String,
    pub command_type: i64,
}

impl SmsCode {
    pub fn new(phone: &str, command_type: i64) -> SmsCode {
        let code = format!("{:05}", rand::thread_rng().gen_range(0..100_000));
        SmsCode { phone: phone.to_owned(), code, rand: random_alphanumeric(5), command_type }
    }

    pub fn text(&self) -> String {
        let purpose = if self.command_type == 2 { "重置密码" } else { "注册" };
        format!("【hearth】您的{purpose}验证码是 {}，{} 分钟内有效。", self.code, VALID_SECS / 60)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum SmsCheck {
    Passed,
    Mismatch,
    Expired,
}

/// Records a code as waiting to be checked and, for the outbox sender, as sent.
pub fn store(conn: &Connection, sms: &SmsCode, to_outbox: bool) -> rusqlite::Result<()> {
    let now = now();
    conn.execute("DELETE FROM sms_code WHERE expires_at <= ?1", [now - KEEP_EXPIRED_SECS])?;
    conn.execute(
        "INSERT INTO sms_code (rand, phone, code, command_type, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![sms.rand, sms.phone, sms.code, sms.command_type, now + VALID_SECS],
    )?;
    if to_outbox {
        conn.execute(
            "INSERT INTO sms_outbox (phone, code, rand, command_type, text, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![sms.phone, sms.code, sms.rand, sms.command_type, sms.text(), now],
        )?;
    }
    Ok(())
}

pub fn forget(conn: &Connection, rand: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM sms_code WHERE rand = ?1", [rand])?;
    Ok(())
}

/// Checks `hash = md5(code + rand)` against the codes sent to `phone` for `command_type`;
/// a passing code is used up.
pub fn check(conn: &Connection, phone: &str, command_type: i64, hash: &str) -> rusqlite::Result<SmsCheck> {
    let hash = hash.trim().to_ascii_lowercase();
    let mut stmt =
        conn.prepare_cached("SELECT rand, code, expires_at FROM sms_code WHERE phone = ?1 AND command_type = ?2")?;
    let codes: Vec<(String, String, i64)> = stmt
        .query_map(params![phone, command_type], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let Some((rand, _, expires_at)) =
        codes.into_iter().find(|(rand, code, _)| md5_hex(&format!("{code}{rand}")) == hash)
    else {
        return Ok(SmsCheck::Mismatch);
    };
    conn.execute("DELETE FROM sms_code WHERE rand = ?1", [&rand])?;
    Ok(if expires_at <= now() { SmsCheck::Expired } else { SmsCheck::Passed })
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub phone: String,
    pub code: String,
    pub rand: String,
    pub command_type: i64,
    pub text: String,
    pub created_at: i64,
}

/// What a hidden code reads as.
pub const HIDDEN: &str = "only a super-administrator may read this code";

/// The outbox as `viewer` may read it: a code sent to the phone of an administrator or
/// super-administrator is shown to super-administrators only (code and text hidden for
/// everyone else), so that no administrator can reset another's password, or one above
/// their own, by reading its code here.
pub fn outbox(
    conn: &Connection,
    viewer: &Caller,
    phone: Option<&str>,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<OutboxMessage>, i64)> {
    let total: i64 =
        conn.query_row("SELECT COUNT(*) FROM sms_outbox WHERE ?1 IS NULL OR phone = ?1", [phone], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, phone, code, rand, command_type, text, created_at FROM sms_outbox
         WHERE ?1 IS NULL OR phone = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
    )?;
    let rows = stmt
        .query_map(params![phone, limit, offset], |r| {
            Ok(OutboxMessage {
                id: r.get(0)?,
                phone: r.get(1)?,
                code: r.get(2)?,
                rand: r.get(3)?,
                command_type: r.get(4)?,
                text: r.get(5)?,
                created_at: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = rows;
    for message in rows.iter_mut().filter(|_| !viewer.is_super_admin()) {
        let holder = super::accounts::by_phone(conn, &message.phone)?;
        let privileged = match holder {
            Some(account) => Rank::of_account(conn, account.id)? >= Rank::Admin,
            None => false,
        };
        if privileged {
            message.code = HIDDEN.into();
            message.text = format!("hidden: the phone belongs to an administrator; {HIDDEN}");
        }
    }
    Ok((rows, total))
}

/// Posts a message to the configured LAN SMS gateway.
pub async fn post_to_gateway(client: &reqwest::Client, url: &str, sms: &SmsCode) -> Result<(), IdentityError> {
    let unreachable = |e| IdentityError::Internal(format!("SMS gateway unreachable: {}", crate::outgoing::failure(e)));
    let body = serde_json::json!({ "phone": sms.phone, "text": sms.text() });
    let answer = client.post(url).json(&body).send().await.map_err(unreachable)?;
    if !answer.status().is_success() {
        return Err(IdentityError::Internal(format!("SMS gateway answered {}", answer.status())));
    }
    Ok(())
}
