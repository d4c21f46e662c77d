//! Runs the example app. `ERP_URL` (default `http://127.0.0.1:9000`), `LISTEN`
//! (default `127.0.0.1:8080`).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_target(false).init();
    let erp = std::env::var("ERP_URL").unwrap_or_else(|_| "http://127.0.0.1:9000".to_owned());
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let app = example_custom_event_handler::app(&erp)?;
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
