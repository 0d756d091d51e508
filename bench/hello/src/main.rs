//! The reference for `bench/compare.sh`: poem's hello world, nothing else. Built by that
//! script with the poem version hearth's Cargo.lock holds, on the same tokio runtime kind.

use poem::listener::TcpListener;
use poem::{get, handler, Route, Server};

#[handler]
fn hello() -> &'static str {
    "hello"
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3000".into());
    let app = Route::new().at("/", get(hello));
    println!("hello listening on {listen}");
    Server::new(TcpListener::bind(listen)).run(app).await
}
