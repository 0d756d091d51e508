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

/// A surface's OpenAPI document as its code describes it. The server serves the committed
/// copies instead (`openapi/`, see `web/docs.rs`), so nothing the server runs may call this:
/// the code that describes the operations then stays out of the binary. The tests that keep
/// the committed copies equal to the code do; they also fail when a surface is missing here.
pub fn document(name: &str, app: &Arc<AppState>) -> Option<String> {
    Some(match name {
        care::Care::NAME => care::Care::spec(app),
        music::Music::NAME => music::Music::spec(app),
        transit::Transit::NAME => transit::Transit::spec(app),
        system::System::NAME => system::System::spec(app),
        open::Open::NAME => open::Open::spec(app),
        _ => return None,
    })
}

pub fn find(name: &str) -> Option<Registered> {
    surfaces().into_iter().find(|s| s.name == name)
}

fn registered<S: Surface>() -> Registered {
    Registered { name: S::NAME, title: S::TITLE, endpoint: |app| guard::<S, _>(S::routes(app.clone()), app).boxed() }
}
