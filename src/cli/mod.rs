//! The `twofold` command line: `serve`, `migrate`, `config check`, and the admin commands
//! that mirror Nextcloud's `occ`. Exit code 0 on success; otherwise one line on stderr
//! saying why, and a non-zero code.

mod audit;
mod config_cmd;
mod group;
mod prompt;
mod serve;
mod tooling;
mod twofactor;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{Config, LoadReport};
use crate::crypto::ServerKey;
use crate::store::Store;

#[derive(Parser)]
#[command(
    name = "twofold",
    version,
    about = "Self-hosted login server with two-factor authentication"
)]
pub struct Cli {
    /// Configuration file (TOML). Without it: built-in defaults plus TWOFOLD_* variables.
    #[arg(long, short = 'c', global = true, env = "TWOFOLD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Configuration tools.
    #[command(subcommand)]
    Config(config_cmd::ConfigCommand),
    /// Manage users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage groups and their members.
    #[command(subcommand)]
    Group(group::GroupCommand),
    /// Users' two-factor state and enforcement (like occ twofactorauth:*).
    #[command(subcommand)]
    Twofactorauth(twofactor::TwoFactorCommand),
    /// Enable or disable second-factor providers system-wide.
    #[command(subcommand)]
    Provider(twofactor::ProviderCommand),
    /// Show the audit trail of security events, newest first.
    Audit(audit::AuditArgs),
    /// Print a shell completion script.
    Completions(tooling::CompletionsArgs),
    /// Print the man page, or write all of them into a folder.
    Man(tooling::ManArgs),
    /// Exit 0 if the server on `server.listen` is ready (for container health checks).
    Healthcheck,
}

/// Entry point used by `main.rs`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(anyhow::Error::from(e)),
    };
    let result = runtime.block_on(run(cli));
    // Not a plain drop, which waits for every worker thread to finish what it polls: a
    // task that never yields would hold the exit forever. sqlx's pool maintenance task
    // can do that after a rare counter underflow (transact-rs/sqlx#3645: seen here as a
    // CLI command spinning at 100 % CPU after its work was done).
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn fail(e: anyhow::Error) -> ExitCode {
    eprintln!("error: {}", one_line(&e));
    ExitCode::FAILURE
}

/// One line: the chain of causes joined, as `occ` does, each cause once. Many errors
/// already repeat their source's text in their own (`cannot read …: No such file…` over
/// the `io::Error` that says `No such file…`); such a cause is not said again.
fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        // A database's error says its message, then its source says it again with the
        // line of PostgreSQL's own C source that raised it ("at line 948"), which tells
        // an operator nothing: the message alone, and nothing below it.
        let (text, last) = match cause.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::Database(db)) => (
                format!("error returned from database: {}", db.message()),
                true,
            ),
            _ => (cause.to_string(), false),
        };
        let text = text.trim();
        if last && !out.contains(text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(text);
            break;
        }
        if text.is_empty() || out.contains(text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(text);
    }
    out
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Config(cmd) => config_cmd::run(cmd, cli.config.as_deref()).await,
        Command::Serve => serve::run(load_config(cli.config.as_deref())?).await,
        Command::Migrate => {
            let config = load_config(cli.config.as_deref())?;
            let store = open_store(&config).await?;
            // A new database gets its key now; an existing one must have kept its own.
            server_key(&config, &store).await?;
            println!("database is up to date");
            if let Some(warning) = case_twins_warning(&store).await? {
                eprintln!("warning: {warning}");
            }
            store.close().await;
            Ok(())
        }
        Command::User(cmd) => {
            let config = load_config(cli.config.as_deref())?;
            user::run(cmd, &config).await
        }
        Command::Group(cmd) => {
            let config = load_config(cli.config.as_deref())?;
            group::run(cmd, &config).await
        }
        Command::Twofactorauth(cmd) => {
            let config = load_config(cli.config.as_deref())?;
            twofactor::run(cmd, &config).await
        }
        Command::Provider(cmd) => {
            let config = load_config(cli.config.as_deref())?;
            twofactor::run_provider(cmd, &config).await
        }
        Command::Completions(args) => tooling::completions(args),
        Command::Man(args) => tooling::man(args),
        Command::Healthcheck => tooling::healthcheck(&load_config(cli.config.as_deref())?),
        Command::Audit(args) => {
            let config = load_config(cli.config.as_deref())?;
            audit::run(args, &config).await
        }
    }
}

/// What an admin must know after a change that ends someone's access: a running server
/// on PostgreSQL hears of it at once (NOTIFY); one on SQLite reads the change log every
/// [`crate::notify::SQLITE_POLL`], so for that long it may still let the old session or
/// password in.
pub(crate) fn applies_note(config: &Config) -> String {
    if config.database_url().starts_with("sqlite") {
        format!(
            "A running server on this database applies it within {} ms.",
            crate::notify::SQLITE_POLL.as_millis()
        )
    } else {
        "Running servers apply it at once.".to_string()
    }
}

pub(crate) fn load_config(path: Option<&std::path::Path>) -> anyhow::Result<Config> {
    let (config, report) =
        Config::load(path, std::env::vars(), &crate::providers::config_sections())?;
    warn_unknown(&report);
    Ok(config)
}

fn warn_unknown(report: &LoadReport) {
    for var in &report.unknown_env_vars {
        eprintln!("warning: {var} is not a twofold setting and is ignored");
    }
}

/// Everything in the configuration that works against its users: logged at start and
/// printed by `config check`.
pub(crate) fn config_warnings(config: &Config) -> Vec<String> {
    let mut out = config.warnings();
    if let Some(why) = crate::providers::webauthn::unavailable_because(config) {
        out.push(format!(
            "security keys and passkeys (WebAuthn) are unavailable: {why}; everything else works"
        ));
    }
    out
}

/// Connects and migrates, creating the database if there is none: only for `serve`,
/// `migrate` and `user add`, the commands that start a new installation.
pub(crate) async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database_url(), config.database.max_connections).await?;
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

/// What to tell the admin while accounts of an older version differ only by case (see
/// migration 0012): they sign in by their exact uid only, until all but one are deleted.
pub(crate) async fn case_twins_warning(store: &Store) -> anyhow::Result<Option<String>> {
    let twins = store.case_twins().await?;
    if twins.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "user names now ignore case, but these accounts differ only by case: {}. Each signs \
         in only with its exact uid until you keep one per name (twofold user delete UID); \
         see docs/security.md",
        twins.join(", ")
    )))
}

/// Connects to an existing twofold database and migrates it; refuses, creating nothing,
/// when there is none (a command run from the wrong folder would otherwise start an
/// empty database there and answer "user not found").
pub(crate) async fn open_existing_store(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url();
    let missing = || {
        let at = match crate::store::sqlite_file(&url) {
            Some(file) => file.display().to_string(),
            None => config_cmd::redact_url(&url),
        };
        anyhow::anyhow!(
            "no twofold database at {at}; set TWOFOLD_SERVER_DATA_DIR / TWOFOLD_DATABASE_URL or TWOFOLD_CONFIG"
        )
    };
    if let Some(file) = crate::store::sqlite_file(&url)
        && !file.is_file()
    {
        return Err(missing());
    }
    let store = Store::connect(&url, config.database.max_connections).await?;
    if !store.is_initialised().await? {
        store.close().await;
        return Err(missing());
    }
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

/// The server key of the database in `store`: created beside a database that holds no
/// user yet (a new installation), otherwise it must exist, and a missing one is an error
/// naming where it was looked for (a new key would make every TOTP secret and keyed
/// hash unreadable).
pub(crate) async fn server_key(config: &Config, store: &Store) -> anyhow::Result<ServerKey> {
    let path = config.key_file();
    if store.has_users().await? {
        ServerKey::load(&path)
    } else {
        ServerKey::load_or_create(&path)
    }
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn defect_17_14_each_cause_is_said_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let e = anyhow::Error::new(io).context(format!(
            "cannot read config file /x.toml: {}",
            std::io::Error::from(std::io::ErrorKind::NotFound)
        ));
        assert_eq!(
            one_line(&e),
            "cannot read config file /x.toml: entity not found"
        );
        let e = anyhow::anyhow!("refused").context("cannot connect");
        assert_eq!(one_line(&e), "cannot connect: refused");
    }
}
