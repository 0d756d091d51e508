//! The five surfaces, listed once. Settings, the served documents, the permission catalogue,
//! mounting and the console read this list; adding a surface is one line here plus its
//! `Surface` implementation.

use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::{EndpointExt, Response};

use super::{care, guard, music, open, system, transit, Surface};
use crate::AppState;

pub struct Registered {
    pub name: &'static str,
    /// Its name in the permission catalogue and the console.
    pub title: &'static str,
    /// Its OpenAPI document.
    pub spec: fn(&Arc<AppState>) -> String,
    /// Its operations behind its guard, ready to mount.
    pub endpoint: fn(Arc<AppState>) -> BoxEndpoint<'static, Response>,
}

/// Every surface, in mount order.
pub fn surfaces() -> [Registered; 5] {
    [
        registered::<care::Care>(),
        registered::<music::Music>(),
        registered::<transit::Transit>(),
        registered::<system::System>(),
        registered::<open::Open>(),
    ]
}

pub fn find(name: &str) -> Option<Registered> {
    surfaces().into_iter().find(|s| s.name == name)
}

fn registered<S: Surface>() -> Registered {
    Registered {
        name: S::NAME,
        title: S::TITLE,
        spec: S::spec,
        endpoint: |app| guard::<S, _>(S::routes(app.clone()), app).boxed(),
    }
}
