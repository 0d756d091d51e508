//! Portraits: uploaded as base64, stored as a JPEG of at most 512 px, fetched as image
//! bytes by phone with the document's three stand-in pictures.

use std::sync::Arc;

use poem::http::header;
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Binary;
use poem_openapi::{ApiResponse, Object, OpenApi};
use rusqlite::{params, OptionalExtension};

use super::envelope::{Answer, CareBody};
use super::{pictures, signed_in, status};
use crate::files::Bucket;
use crate::identity::authz::Operation;
use crate::surfaces::Failure;
use crate::AppState;

pub struct PortraitApi(pub Arc<AppState>);

const DEFAULT_JPG: &[u8] = include_bytes!("../../../assets/care/default.jpg");
const ERROR_JPG: &[u8] = include_bytes!("../../../assets/care/error.jpg");
const BAN_JPG: &[u8] = include_bytes!("../../../assets/care/ban.jpg");

#[derive(Object, serde::Deserialize)]
pub struct PortraitData {
    /// JPEG or PNG as base64, with or without a `data:image/…;base64,` head
    base64: String,
}

#[derive(Object)]
pub struct PortraitAnswer {
    /// Where the portrait is fetched, relative to the surface: `./api/get/portrait/<phone>`
    url: String,
}

#[derive(ApiResponse)]
pub enum PortraitImage {
    /// The portrait; default.jpg for an unknown phone, error.jpg for a malformed one,
    /// ban.jpg when embedded by another site
    #[oai(status = 200, content_type = "image/jpeg")]
    Image(Binary<Vec<u8>>, #[oai(header = "Cache-Control")] String),
}

fn image(bytes: Vec<u8>) -> PortraitImage {
    PortraitImage::Image(Binary(bytes), "no-cache".into())
}

/// The host part of a URL or `Host` value, lower case, without port or credentials.
fn host_of(text: &str) -> Option<String> {
    let rest = text.split_once("://").map_or(text, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host =
        if let Some(v6) = authority.strip_prefix('[') { v6.split(']').next()? } else { authority.split(':').next()? };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// A page of this server, of localhost or of a configured host may show portraits; a
/// request without a Referer (an app, a direct visit) may too.
fn referer_allowed(app: &AppState, req: &Request) -> bool {
    let Some(referer) = req.headers().get(header::REFERER).and_then(|v| v.to_str().ok()) else { return true };
    let Some(from) = host_of(referer) else { return false };
    let own = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).and_then(host_of);
    let public = app.config.public_url.as_deref().and_then(host_of);
    ["localhost", "127.0.0.1", "::1"].contains(&from.as_str())
        || own.as_deref() == Some(&from)
        || public.as_deref() == Some(&from)
        || app.config.care_referer_hosts.iter().any(|h| h.eq_ignore_ascii_case(&from))
}

impl PortraitApi {
    async fn upload_inner(
        &self,
        op: &Operation,
        token: Option<&str>,
        body: &CareBody<PortraitData>,
    ) -> Result<PortraitAnswer, Failure> {
        let caller = signed_in(&self.0, op, token).await?;
        body.kind(&[("portrait", "upload")])?;
        let PortraitData { base64 } = body.data()?;
        let files = self.0.files.clone();
        let stored = pictures::blocking(move || {
            let jpeg = pictures::portrait_jpeg(&pictures::decode_base64(&base64)?)?;
            files.put(Bucket::Portraits, "jpg", &jpeg).map_err(|e| {
                tracing::error!(error = %e, "storing a portrait failed");
                Failure::Code(status::STORAGE, "COS upload Error: the portrait could not be stored; try again".into())
            })
        })
        .await?;
        let name = stored.name.clone();
        let account = caller.account_id;
        let (phone, old) = self
            .0
            .db
            .write(move |tx| {
                let (phone, old): (Option<String>, Option<String>) =
                    tx.query_row("SELECT phone, care_portrait FROM account WHERE id = ?1", [account], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?;
                tx.execute("UPDATE account SET care_portrait = ?1 WHERE id = ?2", params![name, account])?;
                Ok::<_, Failure>((phone, old))
            })
            .await?;
        stored.keep();
        if let Some(old) = old {
            if let Err(e) = self.0.files.remove(Bucket::Portraits, &old) {
                tracing::warn!(error = %e, file = %old, "removing a replaced portrait failed");
            }
        }
        Ok(PortraitAnswer { url: format!("./api/get/portrait/{}", phone.unwrap_or_default()) })
    }
}

#[OpenApi]
impl PortraitApi {
    /// Upload the caller's portrait (type portrait, subtype upload); replaces the old one
    #[oai(path = "/api/portrait", method = "post")]
    async fn upload(
        &self,
        op: &Operation,
        token: Query<Option<String>>,
        body: CareBody<PortraitData>,
    ) -> Answer<PortraitAnswer> {
        Answer::new(body.id, self.upload_inner(op, token.0.as_deref(), &body).await)
    }

    /// A user's portrait as image bytes, for `<img src>`
    #[oai(path = "/api/get/portrait/:user_id", method = "get")]
    async fn fetch(&self, req: &Request, user_id: Path<String>) -> PortraitImage {
        if !referer_allowed(&self.0, req) {
            return image(BAN_JPG.to_vec());
        }
        let phone = user_id.0;
        if phone.is_empty() || !phone.bytes().all(|b| b.is_ascii_digit()) {
            return image(ERROR_JPG.to_vec());
        }
        let found = self
            .0
            .db
            .read(move |c| {
                let file = c
                    .query_row("SELECT care_portrait FROM account WHERE phone = ?1", [phone], |r| {
                        r.get::<_, Option<String>>(0)
                    })
                    .optional()?;
                Ok::<_, Failure>(file.flatten())
            })
            .await;
        let bytes = match found {
            Ok(Some(file)) => {
                let files = self.0.files.clone();
                tokio::task::spawn_blocking(move || files.read(Bucket::Portraits, &file).ok()).await.ok().flatten()
            }
            _ => None,
        };
        image(bytes.unwrap_or_else(|| DEFAULT_JPG.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn hosts_of_urls_and_host_headers() {
        assert_eq!(host_of("http://www.helpaged.cn/app/page").as_deref(), Some("www.helpaged.cn"));
        assert_eq!(host_of("https://user:pw@Example.com:8443/x?y").as_deref(), Some("example.com"));
        assert_eq!(host_of("192.168.1.9:8080").as_deref(), Some("192.168.1.9"));
        assert_eq!(host_of("http://[::1]:80/").as_deref(), Some("::1"));
        assert_eq!(host_of("http:///nothing"), None);
    }
}
