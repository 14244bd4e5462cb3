//! twofold: a self-hosted login server with pluggable two-factor authentication.
//! The library holds the product; `main.rs` only calls [`cli::main`].

pub mod accounts;
pub mod actions;
pub mod api;
pub mod app;
pub mod app_passwords;
pub mod audit;
pub mod auth_cache;
pub mod breach;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod enforcement;
pub mod error;
pub mod forward_auth;
pub mod guards;
pub mod http;
pub mod http_server;
pub mod login;
pub mod login_flow;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod password_weakness;
pub mod providers;
pub mod return_url;
pub mod sessions;
pub mod state;
pub mod store;
pub mod throttle;
pub mod web;
pub mod webpush;
