//! Who is calling the open platform: the app behind a Bearer token, checked for the scope
//! an endpoint needs and held to the app's request rate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use poem_openapi::auth::Bearer;
use poem_openapi::SecurityScheme;

use super::apps::{self, App};
use super::code;
use crate::identity::IdentityError;
use crate::surfaces::Failure;
use crate::AppState;

/// `Authorization: Bearer <token>` from `POST /open/api/token`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT")]
pub struct AppToken(Bearer);

/// Requests per app, as a token bucket refilled at `per_minute / 60` a second, so an app
/// may burst up to a minute's allowance.
pub struct RateLimits {
    per_minute: f64,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

impl RateLimits {
    pub fn new(per_minute: u32) -> RateLimits {
        RateLimits { per_minute: per_minute as f64, buckets: Mutex::new(HashMap::new()) }
    }

    /// Err(seconds until the next request is allowed).
    fn take(&self, app: i64) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = buckets.entry(app).or_insert((self.per_minute, now));
        let refill = now.duration_since(*last).as_secs_f64() * self.per_minute / 60.0;
        *tokens = (*tokens + refill).min(self.per_minute);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) * 60.0 / self.per_minute).ceil().max(1.0) as u64)
        }
    }
}

/// The app behind `token`, if the token is valid and the app holds `scope`.
pub async fn app_with_scope(state: &AppState, token: &AppToken, scope: &str) -> Result<App, Failure> {
    let app = calling_app(state, token).await?;
    if !app.has_scope(scope) {
        return Err(Failure::Code(code::NOT_AUTHORIZED, format!("this app lacks the {scope} scope")));
    }
    Ok(app)
}

/// The app behind `token`, if the token is valid and the app within its rate.
pub async fn calling_app(state: &AppState, token: &AppToken) -> Result<App, Failure> {
    let token = token.0.token.trim().to_owned();
    state.identity.verify_jwt(&token).map_err(|e| match e {
        IdentityError::TokenExpired => {
            Failure::Code(code::TOKEN_EXPIRED, "the token has expired; get a new one from POST /open/api/token".into())
        }
        _ => Failure::Code(code::BAD_TOKEN, "the token is not valid: malformed, tampered with or revoked".into()),
    })?;
    let app = state.db.read(move |c| Ok::<_, Failure>(apps::by_token(c, &token)?)).await?.ok_or_else(|| {
        Failure::Code(code::BAD_TOKEN, "the token is not valid: malformed, tampered with or revoked".into())
    })?;
    if !app.enabled {
        return Err(Failure::Code(code::BAD_TOKEN, "this app is disabled".into()));
    }
    state.open_limits.take(app.id).map_err(|wait| {
        Failure::Code(
            code::BUSY,
            format!(
                "rate limit: this app may make {} requests a minute; retry in {wait} s",
                state.config.open_rate_per_minute
            ),
        )
    })?;
    Ok(app)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_a_minutes_burst_then_refuses() {
        let limits = RateLimits::new(3);
        assert!(limits.take(1).is_ok() && limits.take(1).is_ok() && limits.take(1).is_ok());
        assert_eq!(limits.take(1), Err(20), "one request every 20 s at 3 a minute");
        assert!(limits.take(2).is_ok(), "apps have separate buckets");
    }
}
