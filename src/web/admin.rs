//! `/admin/`: the admin UI, embedded from `static/` so the binary needs no files beside it.

use poem::Endpoint;
use poem::endpoint::EmbeddedFilesEndpoint;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "static/"]
struct AdminFiles;

pub fn endpoint() -> impl Endpoint {
    EmbeddedFilesEndpoint::<AdminFiles>::new()
}
