//! Argon2id hashing on blocking threads, at most as many at once as there are cores (each
//! hash takes ~19 MiB). Unknown accounts are checked against a dummy hash so that a login
//! for a name that does not exist takes as long as a wrong password.
//!
//! Work anyone can cause without signing in (logins, signups, setup, resets) goes through
//! a small queue of its own: at most half the cores hash for it at once and at most
//! `password_queue` such requests are admitted (running or waiting); the rest are refused
//! at once as busy. A flood of anonymous requests therefore never takes every core from
//! signed-in callers, and never piles up unbounded waiters.

use std::sync::Arc;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::IdentityError;

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// Admission to the anonymous queue: running plus waiting anonymous requests.
    admitted: Arc<Semaphore>,
    /// Anonymous requests hashing at once.
    anonymous: Arc<Semaphore>,
    dummy: Arc<String>,
}

/// Who asks for Argon2 work: a signed-in caller, or anyone.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Asker {
    SignedIn,
    Anonymous,
}

fn hash_now(password: &str) -> Result<String, IdentityError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| IdentityError::Internal(format!("password hashing failed: {e}")))
}

fn stopped() -> IdentityError {
    IdentityError::Internal("shutting down".into())
}

impl Passwords {
    pub fn new(queue: u32) -> Result<Passwords, IdentityError> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let dummy = hash_now(&super::tokens::random_hex(16))?;
        Ok(Passwords {
            permits: Arc::new(Semaphore::new(cores)),
            admitted: Arc::new(Semaphore::new(queue.max(1) as usize)),
            anonymous: Arc::new(Semaphore::new((cores / 2).max(1))),
            dummy: Arc::new(dummy),
        })
    }

    /// The permits an Argon2 run holds: anonymous work first gets into its queue (or is
    /// refused as busy) and waits for one of its own slots.
    async fn permits(&self, asker: Asker) -> Result<Vec<OwnedSemaphorePermit>, IdentityError> {
        let mut held = Vec::with_capacity(3);
        if asker == Asker::Anonymous {
            held.push(self.admitted.clone().try_acquire_owned().map_err(|_| IdentityError::Busy)?);
            held.push(self.anonymous.clone().acquire_owned().await.map_err(|_| stopped())?);
        }
        held.push(self.permits.clone().acquire_owned().await.map_err(|_| stopped())?);
        Ok(held)
    }

    pub async fn hash(&self, asker: Asker, password: &str) -> Result<String, IdentityError> {
        let _permits = self.permits(asker).await?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_now(&password))
            .await
            .map_err(|_| IdentityError::Internal("password task stopped".into()))?
    }

    /// Ok(true) when `password` matches `stored`; with `stored` None it spends the same time
    /// and answers Ok(false). Err only when anonymous work is refused as busy.
    pub async fn verify(&self, asker: Asker, password: &str, stored: Option<String>) -> Result<bool, IdentityError> {
        let _permits = self.permits(asker).await?;
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy.as_str().to_owned());
        let password = password.to_owned();
        let matched = tokio::task::spawn_blocking(move || {
            Argon2::default().verify_password(password.as_bytes(), stored.as_str()).is_ok()
        })
        .await
        .unwrap_or(false);
        Ok(known && matched)
    }
}
