//! `twofold serve`: logging, key, database, first-start bootstrap, then the HTTP server
//! until SIGINT or SIGTERM.

use std::net::SocketAddr;

use anyhow::Context;
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::accounts::{Accounts, NewUser};
use crate::app::router;
use crate::clock::now;
use crate::config::Config;
use crate::state::AppState;

pub async fn run(config: Config) -> anyhow::Result<()> {
    init_tracing(&config);
    for warning in super::config_warnings(&config) {
        tracing::warn!("{warning}");
    }
    let store = super::open_store(&config).await?;
    if let Some(warning) = super::case_twins_warning(&store).await? {
        tracing::warn!("{warning}");
    }
    let key = super::server_key(&config, &store).await?;
    let mut state = AppState::new(config, store.clone(), key)?;
    // Made at first start beside the server key; a corrupt file, or a missing one while
    // browsers are subscribed, stops the start here.
    state.web_push.load_key_at_start().await?;
    if state.config.metrics.collected() {
        let handle = crate::metrics::install()?;
        // Histogram samples wait in the recorder until drained: drain them even when
        // nobody scrapes.
        let upkeep = handle.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tick.tick().await;
                upkeep.run_upkeep();
            }
        });
        state.metrics = Some(handle);
    }
    bootstrap(&state.accounts, &store, &state.config).await?;
    // Changes made by other instances and the CLI reach the forward-auth cache.
    crate::notify::start(store.clone(), state.config.database_url());

    let purge_store = store.clone();
    let audit_config = state.config.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            if let Err(e) = purge_store.purge_expired_sessions(now()).await {
                tracing::warn!(error = %e, "purging expired sessions failed");
            }
            if let Err(e) = purge_store.purge_login_flows(now()).await {
                tracing::warn!(error = %e, "purging expired login flows failed");
            }
            if let Err(e) = purge_store.purge_ceremonies(now()).await {
                tracing::warn!(error = %e, "purging expired ceremonies failed");
            }
            // Push prompts serve the fatigue window once decided: a day is plenty.
            if let Err(e) = purge_store.prune_approvals(now() - 86_400).await {
                tracing::warn!(error = %e, "pruning old push prompts failed");
            }
            // An empty throttle bucket is the same as no row.
            if let Err(e) = purge_store.purge_throttle(now()).await {
                tracing::warn!(error = %e, "purging throttle counters failed");
            }
            if let Some(before) = audit_config.audit_cutoff(now()) {
                match purge_store.prune_audit(before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(events = n, "old audit events deleted"),
                    Err(e) => tracing::warn!(error = %e, "pruning the audit trail failed"),
                }
            }
        }
    });

    let addr: SocketAddr = state.config.server.listen.parse()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let open_files = crate::http_server::raise_open_files_limit();
    let limits = crate::http_server::Limits {
        max_connections: state.config.server.max_connections,
        header_read_timeout: std::time::Duration::from_secs(
            state.config.server.header_read_timeout_secs,
        ),
        per_address: state.config.server.max_connections_per_address,
        ipv6_prefix: u32::from(state.config.throttle.ipv6_prefix),
        max_header_bytes: state.config.server.max_header_bytes,
        // Checked at load: every entry is an address.
        uncapped: (state.config.server.trusted_proxies.iter())
            .filter_map(|p| p.parse().ok())
            .collect(),
    };
    if !state.config.metrics.listen.is_empty() {
        serve_metrics(&state, limits.clone()).await?;
    }
    tracing::info!(%local, public_url = %state.config.server.public_url, ?open_files, "twofold listening");
    crate::http_server::serve(listener, router(state), limits, shutdown_signal()).await?;
    store.close().await;
    Ok(())
}

/// Starts the separate `/metrics` listener (`metrics.listen`); it ends with the process.
async fn serve_metrics(state: &AppState, limits: crate::http_server::Limits) -> anyhow::Result<()> {
    let addr: SocketAddr = state.config.metrics.listen.parse()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (metrics.listen)"))?;
    let local = listener.local_addr()?;
    // A scraper or two: a small cap, so this port cannot use up file descriptors.
    let limits = crate::http_server::Limits {
        max_connections: limits.max_connections.min(64),
        ..limits
    };
    let app = crate::app::metrics_router(state.clone());
    tokio::spawn(async move {
        let never = std::future::pending::<()>();
        if let Err(e) = crate::http_server::serve(listener, app, limits, never).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    tracing::info!(%local, "metrics listening");
    Ok(())
}

/// On an empty database, creates the administrator `admin` with a random password and
/// shows it once, never in the log: on the terminal when stdout is one; otherwise (under
/// systemd or docker stdout *is* the log) in a file of its own, mode 0600, whose path is
/// logged. Alternative: `twofold user add --admin`.
async fn bootstrap(
    accounts: &Accounts,
    store: &crate::store::Store,
    config: &Config,
) -> anyhow::Result<()> {
    if store.has_users().await? {
        return Ok(());
    }
    let len = config.password.min_length.max(20);
    // Random letters and digits pass the policy but for a rare chance ("admin" or the
    // service name inside): draw again then, rather than print a password it refuses.
    let mut password = String::new();
    for _ in 0..100 {
        password = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(len)
            .map(char::from)
            .collect();
        if accounts
            .check_new_password(&password, "admin", "Administrator")
            .is_ok()
        {
            break;
        }
    }
    let new = NewUser {
        uid: "admin".parse().map_err(anyhow::Error::msg)?,
        display_name: Some("Administrator".into()),
        email: None,
        is_admin: true,
    };
    match accounts.create(new, password.clone(), now()).await {
        Ok(_) => {
            let message = format!(
                "First start: created the administrator account.\n\n    user:     admin\n    password: {password}\n\n\
                 This password is shown only this once. Change it with: twofold user passwd admin\n"
            );
            use std::io::IsTerminal;
            if std::io::stdout().is_terminal() {
                println!("\n{message}");
            } else {
                let path = config.server.data_dir.join(BOOTSTRAP_FILE);
                write_private(&path, &message).with_context(|| {
                    format!(
                        "writing the first administrator password to {}",
                        path.display()
                    )
                })?;
                tracing::warn!(
                    file = %path.display(),
                    "first start: created the administrator account `admin`; its password is in this file (read it, then delete it)"
                );
            }
            Ok(())
        }
        // Another instance bootstrapped first.
        Err(crate::error::AppError::Conflict(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Where the first administrator password goes when stdout is not a terminal.
pub const BOOTSTRAP_FILE: &str = "first-admin-password.txt";

/// Writes `text` to a new file only its owner can read (an old one is replaced).
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("TWOFOLD_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .or_else(|| EnvFilter::try_new(&config.log.level).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    // Colours only for a person at a terminal: a log file or a journal gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = if config.log.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
