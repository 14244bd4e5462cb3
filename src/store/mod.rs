//! Storage on SQLite (embedded default, WAL) or PostgreSQL through one `sqlx::AnyPool`.
//! The SQL is written once, portably (`$1` placeholders work on both); the migrations are
//! kept per dialect so that a later change can use what one database does better.

mod app_passwords;
mod audit;
mod auth_changes;
mod backup_codes;
mod ceremonies;
pub mod changes;
mod enforcement;
mod groups;
mod locks;
mod login_flows;
mod providers;
pub mod push_approvals;
mod push_subscriptions;
mod sessions;
mod throttle;
mod totp;
mod users;

pub use app_passwords::AppPasswordRow;
pub use audit::{AuditQuery, AuditRow};
pub use locks::FactorLock;
pub use login_flows::LoginFlowRow;
pub use providers::ProviderStateRow;
pub use push_approvals::{ApprovalRow, NewApproval};
pub use push_subscriptions::PushSubscriptionRow;
pub use sessions::{Rotation, SessionRow};
pub use totp::TotpRow;
pub use users::UserRow;

use std::str::FromStr;

use anyhow::Context;
use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    /// The database refused a value as data (PostgreSQL SQLSTATE class 22, e.g. a NUL
    /// character in text): the client's input was bad, the database is fine.
    #[error("invalid value")]
    InvalidValue,
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let data_exception = e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|code| code.starts_with("22"));
        if data_exception {
            StoreError::InvalidValue
        } else {
            StoreError::Database(e)
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Turns a unique-constraint violation into a `Conflict` naming what already exists.
pub(crate) fn conflict_on_unique(
    what: impl Into<String>,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match e.as_database_error() {
        Some(d) if d.is_unique_violation() => StoreError::Conflict(what.into()),
        _ => StoreError::Database(e),
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    /// Reads (and, on PostgreSQL, everything).
    pool: AnyPool,
    /// Writes. On SQLite one connection: writers queue here in order instead of taking
    /// turns at the file lock, where SQLite's busy handler sleeps in steps of up to 20 ms
    /// and made a write-heavy request's p99 ten times its p50. On PostgreSQL the pool.
    writer: AnyPool,
    backend: Backend,
    changes: changes::Changes,
    factor_locks: locks::LocalLocks,
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`). Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let url = &*connect_url(url);
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            anyhow::bail!("database url must start with sqlite: or postgres://");
        };
        if backend == Backend::Sqlite {
            create_sqlite_parent(url)?;
        }
        let options = AnyConnectOptions::from_str(url).context("invalid database url")?;
        // SQLite: the writer first, to switch the file to WAL before readers open it.
        let writer = match backend {
            Backend::Postgres => None,
            Backend::Sqlite => {
                let writer = AnyPoolOptions::new()
                    .max_connections(1)
                    // In WAL mode NORMAL syncs at checkpoints, not at each commit: no
                    // corruption on a crash, but a power cut may lose the last moments
                    // of writes (sessions, counters). FULL made each of a login's
                    // dozen small writes wait for the disk.
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::Executor::execute(conn, "PRAGMA synchronous = NORMAL").await?;
                            Ok(())
                        })
                    })
                    // A queue, not a failure: wait for the writes ahead (each takes well
                    // under a millisecond) a little longer than a reader waits.
                    .acquire_timeout(std::time::Duration::from_secs(3))
                    .connect_with(options.clone())
                    .await;
                let writer = match writer {
                    Ok(w) => w,
                    Err(e) => return Err(connect_error(url, &options, e).await),
                };
                // WAL lets readers proceed during a write; the mode is stored in the file.
                sqlx::query("PRAGMA journal_mode=WAL")
                    .execute(&writer)
                    .await
                    .context("cannot switch SQLite to WAL")?;
                Some(writer)
            }
        };
        // With the database down a request must be refused fast, not pile up for the
        // default 30 s (or 5 s): fail closed, and quickly.
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(std::time::Duration::from_secs(1))
            .connect_with(options.clone())
            .await;
        let pool = match pool {
            Ok(p) => p,
            Err(e) => return Err(connect_error(url, &options, e).await),
        };
        let writer = writer.unwrap_or_else(|| pool.clone());
        Ok(Self {
            pool,
            writer,
            backend,
            changes: changes::Changes::default(),
            factor_locks: Default::default(),
        })
    }

    /// The connections for reads, for a provider's own tables (see `providers`).
    pub fn reader(&self) -> &AnyPool {
        &self.pool
    }

    /// The connection(s) for writes (on SQLite the one writer).
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The changes this store makes that affect who may pass (see [`changes`]).
    pub fn changes(&self) -> &changes::Changes {
        &self.changes
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.writer)
            .await
            .context("database migration failed")
    }

    /// Opens one connection and closes it: the driver's own error (refused, TLS, password)
    /// rather than a pool's "timed out" after its retries. For `config check`.
    pub async fn probe(url: &str) -> anyhow::Result<()> {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let conn = sqlx::AnyConnection::connect(&connect_url(url))
            .await
            .context("cannot connect to the database")?;
        conn.close().await.ok();
        Ok(())
    }

    /// Whether migrations were ever applied here: a database twofold made, as opposed to
    /// an empty file or PostgreSQL database.
    pub async fn is_initialised(&self) -> anyhow::Result<bool> {
        let found: Result<Option<i64>, sqlx::Error> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations LIMIT 1")
                .fetch_optional(&self.writer)
                .await;
        match found {
            Ok(row) => Ok(row.is_some()),
            // No such table.
            Err(sqlx::Error::Database(_)) => Ok(false),
            Err(e) => Err(e).context("reading the database"),
        }
    }

    /// A cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// (connections open in the pool, of which idle), for `/metrics`.
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// After [`Store::close`]: background tasks stop quietly instead of reporting errors.
    pub fn is_closed(&self) -> bool {
        self.pool.is_closed()
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// The URL as twofold connects with it: a PostgreSQL URL that names no `sslmode` gets
/// `sslmode=disable`, the behaviour of every earlier version (built without TLS). libpq's
/// default, `prefer`, encrypts without checking who answers (no protection against an
/// active attacker) and costs a TLS handshake per connection, which under a burst of new
/// pool connections turned some forward-auth answers into 503s; encryption is asked for
/// explicitly with `sslmode=require`, `verify-ca` or `verify-full` (docs/configuration.md).
pub fn connect_url(url: &str) -> std::borrow::Cow<'_, str> {
    let postgres = url.starts_with("postgres:") || url.starts_with("postgresql:");
    if !postgres || url.contains("sslmode=") {
        return std::borrow::Cow::Borrowed(url);
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    std::borrow::Cow::Owned(format!("{url}{sep}sslmode=disable"))
}

/// The file of a `sqlite:` URL; `None` for another database or an in-memory one.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

fn create_sqlite_parent(url: &str) -> anyhow::Result<()> {
    let Some(path) = sqlite_file(url) else {
        return Ok(());
    };
    let path = path.as_path();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create database folder {}", dir.display()))?;
    }
    // The database holds password hashes and sealed secrets: create it readable by its
    // owner only, whatever the umask (SQLite gives its -wal and -shm files the same mode).
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create database file {}", path.display())),
    }
}

/// Where a database URL points, for messages: host and port, or the SQLite file; never
/// the user name or password.
fn database_target(url: &str) -> String {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.trim_start_matches("//");
        return path.split('?').next().unwrap_or(path).to_string();
    }
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}:{}",
            u.host_str().unwrap_or("localhost"),
            u.port().unwrap_or(5432)
        ),
        Err(_) => "the configured URL".into(),
    }
}

/// A failed first connection, said once and with its cause. A pool that cannot connect
/// reports only "pool timed out" (it keeps retrying and drops the reason), so one direct
/// attempt is made to learn why: connection refused, unknown host, bad password.
async fn connect_error(url: &str, options: &AnyConnectOptions, e: sqlx::Error) -> anyhow::Error {
    let cause = if matches!(e, sqlx::Error::PoolTimedOut) {
        let direct = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            <sqlx::AnyConnection as sqlx::Connection>::connect_with(options),
        )
        .await;
        match direct {
            Ok(Err(direct)) => direct,
            _ => e,
        }
    } else {
        e
    };
    anyhow::Error::new(cause).context(format!(
        "cannot connect to the database at {}",
        database_target(url)
    ))
}

#[cfg(test)]
mod url_tests {
    use super::connect_url;

    #[test]
    fn postgres_without_sslmode_connects_in_plain_as_before() {
        assert_eq!(
            connect_url("postgres://u@h/db"),
            "postgres://u@h/db?sslmode=disable"
        );
        assert_eq!(
            connect_url("postgres://u@h/db?application_name=x"),
            "postgres://u@h/db?application_name=x&sslmode=disable"
        );
        assert_eq!(
            connect_url("postgres://u@h/db?sslmode=require"),
            "postgres://u@h/db?sslmode=require"
        );
        assert_eq!(
            connect_url("sqlite://x.db?mode=rwc"),
            "sqlite://x.db?mode=rwc"
        );
    }
}
