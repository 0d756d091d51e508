//! The guard every surface is mounted behind: it admits each request by its operation's
//! declared audience before any handler runs, limits bodies by what the caller has proven,
//! contains panics and renders every error raised under the mount in the surface's envelope.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use poem::http::{header, StatusCode};
use poem::{Body, Endpoint, EndpointExt, IntoResponse, Request, Response};

use super::{render, render_echoing, render_saying, ApiError, Failure, Refusal, Surface, ANONYMOUS_BODY_LIMIT};
use crate::identity::authz::{Audience, Operation};
use crate::AppState;

/// Wraps a surface's endpoint. Before any handler runs, the request is resolved to its
/// catalogue operation and admitted as `access.rs` declares it (`admit`), so no handler can
/// forget a check. It also contains panics and renders every error raised under the mount
/// (parse errors, unknown routes, wrong methods, 413s) in the surface's envelope.
pub fn guard<S: Surface, E: Endpoint + 'static>(inner: E, app: Arc<AppState>) -> impl Endpoint<Output = Response> {
    inner.around(move |ep, req| {
        let app = app.clone();
        async move {
            let op = app.operations.get().and_then(|ops| ops.resolve(S::NAME, req.method(), req.uri().path())).cloned();
            // The request log labels its metrics with the template, never the raw path.
            let label = crate::web::metrics::enabled().then(|| crate::web::metrics::RouteLabel {
                surface: S::NAME,
                operation: op.as_ref().map_or_else(|| "unmatched".into(), |op| format!("/{}{}", S::NAME, op.path)),
            });
            let mut req = match admit::<S>(&app, req, op.as_deref()).await {
                Ok(req) => req,
                Err(mut refusal) => {
                    if let Some(label) = label {
                        refusal.extensions_mut().insert(label);
                    }
                    return Ok(refusal);
                }
            };
            // No operation means no handler will read the body: keep it (bounded by the
            // limit above) so the failure can echo what the envelope echoes.
            let mut sent = None;
            if S::ECHOES_REQUEST && op.is_none() && !is_upload(&req) {
                match req.take_body().into_bytes_limit(ANONYMOUS_BODY_LIMIT as usize).await {
                    Ok(bytes) => {
                        req.set_body(Body::from(bytes.clone()));
                        sent = Some(bytes);
                    }
                    Err(_) => return Ok(render::<S>(&Failure::TooLarge(ANONYMOUS_BODY_LIMIT))),
                }
            }
            if let Some(op) = op {
                req.extensions_mut().insert(op);
            }
            // Shares the request's bytes (the request log holds them already): no copy.
            let uri = req.uri().clone();
            // A Bearer scheme sees no token in `Authorization: <token>` or `Token <token>`.
            let bearer_hint =
                req.headers().get(header::AUTHORIZATION).is_some_and(|v| !v.as_bytes().starts_with(b"Bearer "));
            let outcome = AssertUnwindSafe(ep.call(req)).catch_unwind().await;
            let mut response = match outcome {
                Ok(Ok(response)) => response.into_response(),
                Ok(Err(err)) if err.is::<ApiError<S>>() => err.into_response(),
                Ok(Err(err)) => match (Failure::from_poem(&err), &sent) {
                    (Failure::NoToken, _) if bearer_hint => render_saying::<S>(
                        &Failure::NoToken,
                        "the Authorization header must be `Bearer <token>` (the word Bearer, a space, the token)",
                    ),
                    (failure, Some(bytes)) => render_echoing::<S>(&failure, bytes),
                    (failure, None) => render::<S>(&failure),
                },
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(surface = S::NAME, panic = %what, "handler panicked");
                    render::<S>(&Failure::Internal(what))
                }
            };
            // RFC 9110: a 405 says which methods the path does serve.
            if response.status() == StatusCode::METHOD_NOT_ALLOWED {
                let methods = app.operations.get().map(|ops| ops.methods(S::NAME, uri.path())).unwrap_or_default();
                let allow = methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ");
                if let Ok(value) = allow.parse() {
                    response.headers_mut().insert(header::ALLOW, value);
                }
            }
            if let Some(label) = label {
                response.extensions_mut().insert(label);
            }
            Ok(response)
        }
    })
}

/// Admits a request by its operation's declared audience, before any of its body is read
/// beyond what an anonymous caller may send: an undeclared operation is refused to everyone;
/// an account operation needs a caller whose roles grant it (the caller goes on the request);
/// a public one gets at most `ANONYMOUS_BODY_LIMIT` unless the surface admits it as an upload.
async fn admit<S: Surface>(app: &AppState, mut req: Request, op: Option<&Operation>) -> Result<Request, Response> {
    let full_limit = if is_upload(&req) { app.config.upload_limit } else { app.config.json_limit };
    let anonymous_limit = ANONYMOUS_BODY_LIMIT.min(full_limit);
    let limit = match op {
        None => anonymous_limit,
        Some(op) if op.audience == Audience::Nobody => {
            let refused = Failure::Forbidden(format!("{} {} is not open to anyone", op.method, op.path));
            return Err(refuse::<S>(refused, req).await);
        }
        Some(op) if matches!(op.audience, Audience::Public | Audience::App) => {
            match S::admit_upload(app, &req, op).await {
                None => anonymous_limit,
                Some(Ok(())) => full_limit,
                Some(Err(refused)) => return Err(refuse::<S>(refused, req).await),
            }
        }
        Some(op) => {
            let caller = match credential::<S>(&mut req, anonymous_limit).await {
                Ok(credential) => match S::authenticate(app, credential).await {
                    Ok(caller) if op.audience == Audience::SignedIn => Ok(caller),
                    Ok(caller) => app.identity.authorize(&caller, op).await.map(|()| caller).map_err(Failure::from),
                    Err(refused) => Err(refused),
                },
                Err(refused) => Err(refused),
            };
            match caller {
                Ok(caller) => {
                    req.extensions_mut().insert(caller);
                    full_limit
                }
                Err(refused) => {
                    return Err(match S::refusal(op, refused) {
                        Refusal::Envelope(refused) => refuse::<S>(refused, req).await,
                        Refusal::Own(answer) => answer,
                    })
                }
            }
        }
    };
    limit_body(req, limit).await.map_err(|too_large| render::<S>(&too_large))
}

/// The request's credential, reading at most `limit` bytes of the body where the surface may
/// carry it there.
async fn credential<S: Surface>(req: &mut Request, limit: u64) -> Result<Option<String>, Failure> {
    let outside = S::credential(req, None)?;
    if outside.is_some() || !S::CREDENTIAL_IN_BODY || is_upload(req) {
        return Ok(outside);
    }
    let body = read_at_most(req, limit).await?;
    S::credential(req, Some(&body))
}

/// A refusal before the handler, echoing what the envelope echoes from a small body whose
/// length is declared (an endless body is not waited for).
async fn refuse<S: Surface>(refused: Failure, mut req: Request) -> Response {
    let small = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|len| len <= ANONYMOUS_BODY_LIMIT);
    if S::ECHOES_REQUEST && !is_upload(&req) && small {
        if let Ok(bytes) = read_at_most(&mut req, ANONYMOUS_BODY_LIMIT).await {
            return render_echoing::<S>(&refused, &bytes);
        }
    }
    render::<S>(&refused)
}

/// Reads the whole body if it is at most `limit` bytes and puts it back for the handler.
async fn read_at_most(req: &mut Request, limit: u64) -> Result<Vec<u8>, Failure> {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(Failure::TooLarge(limit));
    }
    let bytes = req.take_body().into_bytes_limit(limit as usize).await.map_err(|_| Failure::TooLarge(limit))?;
    req.set_body(Body::from(bytes.clone()));
    Ok(bytes.to_vec())
}

/// Multipart bodies may be as large as the upload limit, all others the JSON limit, once
/// admitted. A declared length over the limit is refused before reading; a body without a
/// declared length is read up to the limit and refused if it goes past it.
fn is_upload(req: &Request) -> bool {
    req.content_type().is_some_and(|ct| ct.starts_with("multipart/"))
}

async fn limit_body(mut req: Request, limit: u64) -> Result<Request, Failure> {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    match declared {
        Some(len) if len > limit => Err(Failure::TooLarge(limit)),
        Some(_) => Ok(req),
        None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
            let body = req.take_body().into_bytes_limit(limit as usize).await;
            match body {
                Ok(bytes) => {
                    req.set_body(Body::from(bytes));
                    Ok(req)
                }
                Err(_) => Err(Failure::TooLarge(limit)),
            }
        }
        None => Ok(req),
    }
}
