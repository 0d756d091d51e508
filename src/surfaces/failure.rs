//! What went wrong, independent of how a surface says it. Handlers return `Failure`s (via
//! `ApiError<S>`), and every error poem or poem-openapi raises under a mount is classified
//! into one, so each surface renders all of them in its own envelope.

use poem::http::StatusCode;
use poem_openapi::error::{
    AuthorizationError, ContentTypeError, ParseMultipartError, ParseParamError, ParsePathError,
    ParseRequestPayloadError,
};

use crate::db::DbError;
use crate::identity::IdentityError;

#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The body or a parameter could not be read: bad JSON, wrong content type, wrong type.
    Malformed(String),
    /// A required field or parameter is absent.
    Missing(String),
    /// A field has a value of the wrong JSON type.
    WrongType(String),
    /// A field is present but its value is not acceptable.
    Invalid(String),
    NoToken,
    BadToken,
    TokenExpired,
    WrongCredentials,
    AccountDisabled,
    AccountBanned,
    Forbidden(String),
    NotFound(String),
    UnknownRoute,
    MethodNotAllowed,
    TooLarge(u64),
    RateLimited(u64),
    /// Too many unauthenticated password checks are waiting already; retry shortly.
    Busy,
    Conflict(String),
    /// A surface-specific code from its document's local table, with its message.
    Code(i64, String),
    Internal(String),
}

impl Failure {
    pub fn message(&self) -> String {
        match self {
            Failure::Malformed(m)
            | Failure::Missing(m)
            | Failure::WrongType(m)
            | Failure::Invalid(m)
            | Failure::Forbidden(m)
            | Failure::NotFound(m)
            | Failure::Conflict(m)
            | Failure::Code(_, m) => m.clone(),
            Failure::NoToken => "not logged in: no token was sent".into(),
            Failure::BadToken => "the token is not valid or was revoked; log in again".into(),
            Failure::TokenExpired => "the token has expired; log in again".into(),
            Failure::WrongCredentials => "wrong login name or password".into(),
            Failure::AccountDisabled => "this account is disabled".into(),
            Failure::AccountBanned => "this account is banned".into(),
            Failure::UnknownRoute => "no such endpoint; see /docs for this surface's endpoints".into(),
            Failure::MethodNotAllowed => "this endpoint does not accept that HTTP method; see /docs".into(),
            Failure::TooLarge(0) => "the request body is too large".into(),
            Failure::TooLarge(limit) => format!("the request body is larger than the {limit} bytes allowed"),
            Failure::RateLimited(secs) => format!("too many attempts; retry in {secs} s"),
            Failure::Busy => "the server is busy checking other passwords; retry in a moment".into(),
            Failure::Internal(_) => "internal error; the server log has details".into(),
        }
    }

    /// The HTTP status a REST-style surface (music) answers with.
    pub fn http_status(&self) -> StatusCode {
        match self {
            Failure::Malformed(_)
            | Failure::Missing(_)
            | Failure::WrongType(_)
            | Failure::Invalid(_)
            | Failure::Code(..) => StatusCode::BAD_REQUEST,
            Failure::NoToken | Failure::BadToken | Failure::TokenExpired | Failure::WrongCredentials => {
                StatusCode::UNAUTHORIZED
            }
            Failure::AccountDisabled | Failure::AccountBanned | Failure::Forbidden(_) => StatusCode::FORBIDDEN,
            Failure::NotFound(_) | Failure::UnknownRoute => StatusCode::NOT_FOUND,
            Failure::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Failure::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Failure::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Failure::Conflict(_) => StatusCode::CONFLICT,
            Failure::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Classifies an error raised by poem or poem-openapi outside any handler.
    pub fn from_poem(err: &poem::Error) -> Failure {
        if let Some(failure) = err.downcast_ref::<Failure>() {
            return failure.clone();
        }
        if err.is::<ParseRequestPayloadError>() || err.is::<ParseMultipartError>() {
            return Failure::Malformed(format!("the request body could not be read: {err}"));
        }
        if err.is::<ContentTypeError>() {
            return Failure::Malformed(format!("{err}; see /docs for the expected format"));
        }
        if let Some(param) = err.downcast_ref::<ParseParamError>() {
            return Failure::Malformed(format!("parameter `{}` has the wrong format: {}", param.name, param.reason));
        }
        if let Some(path) = err.downcast_ref::<ParsePathError>() {
            // poem-openapi names path parameters `param0`…, which means nothing to a client.
            return Failure::Malformed(format!("a path parameter has the wrong format: {}", path.reason));
        }
        if err.is::<AuthorizationError>() {
            return Failure::NoToken;
        }
        match err.status() {
            StatusCode::NOT_FOUND => Failure::UnknownRoute,
            StatusCode::METHOD_NOT_ALLOWED => Failure::MethodNotAllowed,
            StatusCode::UNAUTHORIZED => Failure::NoToken,
            StatusCode::FORBIDDEN => Failure::Forbidden(err.to_string()),
            // Raised outside the guard, so the limit that applied is not known here.
            StatusCode::PAYLOAD_TOO_LARGE => Failure::TooLarge(0),
            s if s.is_client_error() => Failure::Malformed(err.to_string()),
            _ => {
                tracing::error!(error = %err, "unhandled error");
                Failure::Internal(err.to_string())
            }
        }
    }
}

impl From<IdentityError> for Failure {
    fn from(e: IdentityError) -> Failure {
        match e {
            IdentityError::NoToken => Failure::NoToken,
            IdentityError::BadToken => Failure::BadToken,
            IdentityError::TokenExpired => Failure::TokenExpired,
            IdentityError::WrongCredentials => Failure::WrongCredentials,
            IdentityError::Disabled => Failure::AccountDisabled,
            IdentityError::Banned => Failure::AccountBanned,
            IdentityError::RateLimited(secs) => Failure::RateLimited(secs),
            IdentityError::Busy => Failure::Busy,
            IdentityError::Forbidden(m) => Failure::Forbidden(m),
            IdentityError::Invalid(m) => Failure::Invalid(m),
            IdentityError::Conflict(m) => Failure::Conflict(m),
            IdentityError::Db(e) => Failure::from(e),
            IdentityError::Internal(m) => {
                tracing::error!(error = %m, "identity failure");
                Failure::Internal(m)
            }
        }
    }
}

impl From<DbError> for Failure {
    fn from(e: DbError) -> Failure {
        tracing::error!(error = %e, "database failure");
        Failure::Internal(e.to_string())
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Failure {
        Failure::from(DbError::Sql(e))
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Failure {}

/// Lets extractors fail with a `Failure`; the surface's guard renders it in its envelope.
impl poem::error::ResponseError for Failure {
    fn status(&self) -> StatusCode {
        self.http_status()
    }
}
