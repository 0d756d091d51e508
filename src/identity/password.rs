//! Argon2id hashing on blocking threads, at most as many at once as there are cores (each
//! hash takes ~19 MiB). Unknown accounts are checked against a dummy hash so that a login
//! for a name that does not exist takes as long as a wrong password.

use std::sync::Arc;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use tokio::sync::Semaphore;

use super::IdentityError;

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    dummy: Arc<String>,
}

fn hash_now(password: &str) -> Result<String, IdentityError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| IdentityError::Internal(format!("password hashing failed: {e}")))
}

impl Passwords {
    pub fn new() -> Result<Passwords, IdentityError> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let dummy = hash_now(&super::tokens::random_hex(16))?;
        Ok(Passwords { permits: Arc::new(Semaphore::new(cores)), dummy: Arc::new(dummy) })
    }

    pub async fn hash(&self, password: &str) -> Result<String, IdentityError> {
        let _permit = self.permits.acquire().await.map_err(|_| IdentityError::Internal("shutting down".into()))?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_now(&password))
            .await
            .map_err(|_| IdentityError::Internal("password task stopped".into()))?
    }

    /// True when `password` matches `stored`; with `stored` None it spends the same time and
    /// answers false.
    pub async fn verify(&self, password: &str, stored: Option<String>) -> bool {
        let Ok(_permit) = self.permits.acquire().await else { return false };
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy.as_str().to_owned());
        let password = password.to_owned();
        let matched = tokio::task::spawn_blocking(move || {
            Argon2::default().verify_password(password.as_bytes(), stored.as_str()).is_ok()
        })
        .await
        .unwrap_or(false);
        known && matched
    }
}
