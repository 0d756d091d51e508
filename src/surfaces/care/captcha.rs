//! `POST /api/captcha`: image captchas and SMS codes (CONTRACT §4).

use std::sync::Arc;

use poem::web::RemoteAddr;
use poem_openapi::{Object, OpenApi};

use super::envelope::{Answer, CareBody};
use super::{status, CareState};
use crate::identity::sms::SmsCheck;
use crate::surfaces::client::client_key;
use crate::surfaces::Failure;
use crate::AppState;

pub struct CaptchaApi(pub Arc<AppState>);

/// `data` of the captcha requests; which keys apply depends on type and subtype.
#[derive(Object, serde::Deserialize)]
pub struct CaptchaData {
    /// sms/generate: 11-digit mainland mobile number
    phone: Option<String>,
    /// sms/generate (and sms/validate): 1 register (default), 2 forgotten password
    command_type: Option<i64>,
    /// validate: md5(lowercase(code) + rand)
    hash: Option<String>,
}

#[derive(Object)]
pub struct CaptchaAnswer {
    /// img/generate: the PNG as plain base64
    #[oai(skip_serializing_if_is_none)]
    imgdata: Option<String>,
    /// generate: the random text to hash with the code
    #[oai(skip_serializing_if_is_none)]
    rand: Option<String>,
}

#[derive(serde::Deserialize)]
struct Hash {
    hash: String,
}

#[derive(serde::Deserialize)]
struct SmsValidate {
    hash: String,
    phone: String,
    #[serde(default = "register")]
    command_type: i64,
}

#[derive(serde::Deserialize)]
struct SmsGenerate {
    phone: String,
    #[serde(default = "register")]
    command_type: i64,
}

fn register() -> i64 {
    1
}

pub fn is_mainland_mobile(phone: &str) -> bool {
    phone.len() == 11 && phone.starts_with('1') && phone.bytes().all(|b| b.is_ascii_digit())
}

pub fn check_phone(phone: &str) -> Result<(), Failure> {
    if is_mainland_mobile(phone) {
        Ok(())
    } else {
        Err(Failure::Invalid(format!("Arg's value error: phone {phone:?} is not an 11-digit mainland mobile number")))
    }
}

/// Checks an SMS hash for `phone`, counting wrong ones against the phone: -4 when expired,
/// `mismatch` (the endpoint's own status) when wrong.
pub async fn check_sms(
    app: &AppState,
    phone: &str,
    command_type: i64,
    hash: &str,
    mismatch: i64,
) -> Result<(), Failure> {
    let care: &CareState = &app.care;
    care.sms_failures.reserve(phone).map_err(Failure::RateLimited)?;
    let checked = app.identity.check_sms_code(phone, command_type, hash).await;
    if !matches!(checked, Ok(SmsCheck::Mismatch)) {
        care.sms_failures.release(phone);
    }
    match checked? {
        SmsCheck::Passed => Ok(()),
        SmsCheck::Expired => {
            Err(Failure::Code(status::BAD_HASH, "Error Hash: the SMS code has expired; ask for a new one".into()))
        }
        SmsCheck::Mismatch => Err(Failure::Code(
            mismatch,
            "Error hash: the SMS code does not match; check the code or ask for a new one".into(),
        )),
    }
}

impl CaptchaApi {
    async fn handle(&self, client: &str, body: &CareBody<CaptchaData>) -> Result<CaptchaAnswer, Failure> {
        let kind = body.kind(&[("img", "generate"), ("img", "validate"), ("sms", "generate"), ("sms", "validate")])?;
        let app = &self.0;
        match kind {
            ("img", "generate") => {
                let drawn = app.identity.draw_image_captcha(client).await?;
                Ok(CaptchaAnswer { imgdata: Some(drawn.base64()), rand: Some(drawn.rand) })
            }
            ("img", "validate") => {
                let Hash { hash } = body.data()?;
                if app.identity.check_image_captcha(client, &hash).await? {
                    Ok(CaptchaAnswer { imgdata: None, rand: None })
                } else {
                    Err(Failure::Code(100, "Error captcha hash: wrong or expired captcha; draw a new one".into()))
                }
            }
            ("sms", "validate") => {
                let SmsValidate { hash, phone, command_type } = body.data()?;
                check_sms(app, &phone, command_type, &hash, 100).await?;
                Ok(CaptchaAnswer { imgdata: None, rand: None })
            }
            _ => {
                let SmsGenerate { phone, command_type } = body.data()?;
                if !is_mainland_mobile(&phone) {
                    return Err(Failure::Code(
                        1016,
                        "手机号格式错误: phone must be an 11-digit mainland mobile number".into(),
                    ));
                }
                if !matches!(command_type, 1 | 2) {
                    return Err(Failure::Invalid(
                        "Arg's value error: command_type must be 1 (register) or 2 (forgotten password)".into(),
                    ));
                }
                // Every code sent counts, per phone and per asking address.
                app.care.sms_clients.reserve(client).map_err(Failure::RateLimited)?;
                if let Err(wait) = app.care.sms_sends.reserve(&phone) {
                    app.care.sms_clients.release(client);
                    return Err(Failure::RateLimited(wait));
                }
                let rand = app.identity.send_sms_code(&phone, command_type).await?;
                Ok(CaptchaAnswer { imgdata: None, rand: Some(rand) })
            }
        }
    }
}

#[OpenApi]
impl CaptchaApi {
    /// Image captcha (type img: generate, validate) and SMS code (type sms: generate, validate)
    #[oai(path = "/api/captcha", method = "post")]
    async fn captcha(&self, remote: &RemoteAddr, body: CareBody<CaptchaData>) -> Answer<CaptchaAnswer> {
        Answer::new(body.id, self.handle(&client_key(remote), &body).await)
    }
}
