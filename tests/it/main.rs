//! The one integration test binary (each file under tests/ would link its own).
//! Storage and HTTP tests run on SQLite always and on PostgreSQL from
//! `TWOFOLD_TEST_POSTGRES_URL` (set by scripts/test.sh).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod browser;
mod cli;
mod deployment;
mod devices;
mod first_start;
mod http_api;
mod instances;
mod metrics;
mod nginx;
mod openapi;
mod password_policy;
mod push;
mod security;
mod storage;
mod two_factor;
mod two_factor_pages;
mod web_pages;
mod web_push;
mod webauthn;
mod webauthn_api;
