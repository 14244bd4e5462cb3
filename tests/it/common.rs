//! Test fixtures: a fresh database per test on either backend, the real binary started on
//! a free port, and the CLI run against the same database.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body once per backend: `both!(name)` makes `name::sqlite` and
/// `name::postgres` from `async fn name(backend: Backend)`.
macro_rules! both {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::common::Backend::Postgres).await
            }
        }
    )+};
}
pub(crate) use both;

/// A database of its own for one test, plus a data folder.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

fn postgres_admin_url() -> String {
    match std::env::var("TWOFOLD_TEST_POSTGRES_URL") {
        Ok(url) => url,
        Err(_) => panic!(
            "TWOFOLD_TEST_POSTGRES_URL is not set: run scripts/test.sh, or point it at a \
             PostgreSQL database (e.g. postgres://root@127.0.0.1:5432/test)"
        ),
    }
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
                TestDb {
                    url,
                    dir,
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("tf_t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap();
                let url = format!("{base}/{name}");
                TestDb {
                    url,
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    pub async fn store(&self) -> twofold::store::Store {
        let store = twofold::store::Store::connect(&self.url, 5).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    /// Takes the database away from under a running server (PostgreSQL only).
    pub async fn drop_database(&self) {
        let name = self.pg_name.as_ref().unwrap();
        let mut conn = sqlx::PgConnection::connect(&postgres_admin_url())
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
    }

    /// Environment that points the binary at this database with cheap Argon2 settings.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("TWOFOLD_DATABASE_URL".into(), self.url.clone()),
            (
                "TWOFOLD_SERVER_DATA_DIR".into(),
                self.dir.path().display().to_string(),
            ),
            ("TWOFOLD_PASSWORD_ARGON2_MEMORY_KIB".into(), "64".into()),
            ("TWOFOLD_PASSWORD_ARGON2_ITERATIONS".into(), "1".into()),
            ("TWOFOLD_PASSWORD_MIN_LENGTH".into(), "8".into()),
            // The suite's passwords ("password-a") are weak on purpose; the policy's own
            // tests (tests/it/password_policy.rs) set the default score back.
            ("TWOFOLD_PASSWORD_MIN_SCORE".into(), "0".into()),
        ]
    }

    /// Runs `twofold ARGS…` against this database, with `stdin` piped in.
    pub fn cli(&self, args: &[&str], stdin: &str) -> Output {
        run_cli(&self.env(), args, stdin)
    }

    /// Creates a user through the CLI and fails the test if that fails.
    pub fn add_user(&self, uid: &str, password: &str) {
        let out = self.cli(
            &["user", "add", uid, "--password-stdin"],
            &format!("{password}\n"),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

pub fn run_cli(env: &[(String, String)], args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_twofold"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().cloned())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A CLI that refuses its arguments exits before reading stdin: the write then fails
    // with a broken pipe. That is not a test failure; the exit status and output tell.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        panic!("writing the CLI's stdin: {e}");
    }
    child.wait_with_output().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The real binary, serving on a free loopback port; killed when dropped.
pub struct Server {
    pub base: String,
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Server {
    pub async fn start(db: &TestDb) -> Server {
        Self::start_with(db, &[]).await
    }

    pub async fn start_with(db: &TestDb, extra_env: &[(&str, &str)]) -> Server {
        // `free_port` releases the port before the server binds it, so a test running
        // beside this one may take it first. Only our own child's "listening" line proves
        // the port is ours (a health check could be answered by the other test's server);
        // a child that exits before it is retried on another port.
        for _ in 0..5 {
            if let Some(server) = Self::try_start(db, extra_env).await {
                server.wait_healthy().await;
                return server;
            }
        }
        panic!("the server could not bind a free port in 5 tries");
    }

    async fn try_start(db: &TestDb, extra_env: &[(&str, &str)]) -> Option<Server> {
        let port = free_port();
        let stdout = db.dir.path().join(format!("server-{port}.out"));
        let stderr = db.dir.path().join(format!("server-{port}.err"));
        let child = Command::new(env!("CARGO_BIN_EXE_twofold"))
            .arg("serve")
            .env_clear()
            .envs(db.env())
            .env("TWOFOLD_SERVER_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "TWOFOLD_SERVER_PUBLIC_URL",
                format!("http://localhost:{port}"),
            )
            .envs(
                extra_env
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string())),
            )
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut server = Server {
            base: format!("http://127.0.0.1:{port}"),
            child,
            stdout,
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if server.stderr().contains("twofold listening") {
                return Some(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                let err = server.stderr();
                if err.contains("cannot listen on") {
                    return None;
                }
                panic!("server exited with {status} before listening: {err}");
            }
            assert!(
                Instant::now() < deadline,
                "server did not start listening: {}",
                server.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn wait_healthy(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("{}/healthz", self.base)).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not become healthy: {}", self.stderr());
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server logged so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// What the server printed on stdout (the first-start bootstrap goes there).
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// The server's data folder (`TWOFOLD_SERVER_DATA_DIR`).
    pub fn data_dir(&self) -> PathBuf {
        self.stdout.parent().unwrap().to_path_buf()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
/// It sends `X-Requested-With` like a JavaScript front end would, so that bodiless API
/// POSTs pass the CSRF guard (tests of the guard itself use a plain client).
pub fn browser() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-requested-with",
        reqwest::header::HeaderValue::from_static("twofold-tests"),
    );
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The bootstrap admin password: tests run without a terminal, so the server wrote it
/// to a file in its data folder (never to stdout or the log, checked here each time).
pub fn bootstrap_password(server: &Server) -> String {
    let file = server.data_dir().join("first-admin-password.txt");
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("no bootstrap password file {}: {e}", file.display()));
    let password = text
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("password: ")
                .map(|p| p.trim().to_string())
        })
        .expect("no password in the bootstrap file");
    let printed = format!("{}\n{}", server.stdout(), server.stderr());
    assert!(
        !printed.contains(&password),
        "the bootstrap password was printed to the log: {printed}"
    );
    password
}

/// The CSRF token of the first form on a page.
pub fn csrf_of(html: &str) -> String {
    let key = "name=\"csrf\" value=\"";
    let start = html.find(key).expect("a form with a CSRF token") + key.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// Logs `uid` in through the JSON API with `http`; asserts 200 and returns the body.
pub async fn api_login(
    http: &reqwest::Client,
    server: &Server,
    uid: &str,
    pw: &str,
) -> serde_json::Value {
    let r = http
        .post(server.url("/api/v1/login"))
        .json(&serde_json::json!({"uid": uid, "password": pw}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// The login stage a fresh browser reaches with this password.
pub async fn stage_after_password(server: &Server, uid: &str, pw: &str) -> String {
    api_login(&browser(), server, uid, pw).await["stage"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The `Set-Cookie` header that carries the session (a login also sets a device cookie).
pub fn session_set_cookie(r: &reqwest::Response) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .find(|c| c.starts_with("twofold_session="))
        .expect("a session cookie")
}

/// Runs one SQL statement on the test database (to age a session, say).
pub async fn sql(db: &TestDb, statement: &'static str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    sqlx::query(statement).execute(&pool).await.unwrap();
    pool.close().await;
}

/// Runs one `SELECT COUNT(*) ...` on the test database.
pub async fn sql_count(db: &TestDb, statement: &'static str) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let n: i64 = sqlx::query_scalar(statement)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

/// A cookie-keeping client that sends nothing extra: no `X-Requested-With`.
pub fn bare_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Writes a config file with `toml` into the test's folder; returns its path.
pub fn config_file(db: &TestDb, toml: &str) -> String {
    let path = db
        .dir
        .path()
        .join(format!("twofold-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&path, toml).unwrap();
    path.display().to_string()
}
