//! Benchmark baseline: answers every POST and GET with a constant JSON body,
//! with no validation, no logging and no middleware. Usage: `bench-bare-server [ADDR]`
//! (default `127.0.0.1:0`); prints `listening on http://IP:PORT`.

use axum::Router;
use axum::http::header;
use axum::routing::any;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let app = Router::new().fallback(any(|| async {
        ([(header::CONTENT_TYPE, "application/json")], r#"{"op":"success"}"#)
    }));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
