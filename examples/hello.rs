//! A bare axum hello-world server: the upper bound for what twofold's own stack can answer
//! on this machine, built with the same axum, hyper and tokio as twofold (same lock file).
//! `bench/stack.sh` measures it beside twofold's `/healthz` and forward-auth in one run.
//!
//! Usage: `cargo run --release --example hello -- 127.0.0.1:8080`

#![allow(clippy::expect_used)]

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let app = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .expect("cannot listen");
    axum::serve(listener, app).await.expect("server failed");
}
