//! Several `twofold serve` on one database (PostgreSQL), and the CLI beside a server
//! (SQLite): a session made on one instance is good on every other; a change made anywhere
//! reaches every instance's forward-auth cache quickly; a check is never answered from a
//! cache that may have missed a change; a burst of a signed-in user gets nothing but 200s.
//!
//! The revocation windows are printed (`eprintln!`, run with `--nocapture` to see them).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection;

use crate::common::{Backend, Server, TestDb, both, browser, config_file, session_set_cookie};
use crate::nginx::{auth_location, nginx_conf, start_nginx_with};

/// One-factor access everywhere (the test users have no second factor), `/team` for the
/// group `team` only.
const RULES: &str = r#"
[forward_auth]
default_policy = "one_factor"
allowed_domains = ["example.test"]

[[forward_auth.rules]]
path = "/team"
policy = "one_factor"
groups = ["team"]
"#;

/// The protected app's host, as the proxy reports it.
const APP: &str = "https://app.example.test";

/// What the spec'd window is: a change made on one instance is refused by the others
/// within this long of the change's answer.
const WINDOW: Duration = Duration::from_millis(100);

/// The bound asserted on the worst case of a series. The shared 2-core machine runs other
/// builds beside the tests; one sample can lose the CPU for a scheduler slice or an fsync
/// of PostgreSQL. The typical case is held to [`WINDOW`] (the median), and the worst case
/// to this, which a lost NOTIFY (a real defect: the entry would live until its 60 s
/// refresh) could never meet.
const WORST: Duration = Duration::from_millis(1_000);

/// The `application_name` instance B connects with, to find its LISTEN connection.
const B_NAME: &str = "twofold-instance-b";

/// A credential a proxy passes on.
#[derive(Debug, Clone)]
enum Cred {
    Session(String),
    Basic(String, String),
}

/// One forward-auth check as nginx asks it, at `base` (a twofold or an nginx in front):
/// the status and `Remote-User`.
async fn check(
    http: &reqwest::Client,
    base: &str,
    cred: &Cred,
    path: &str,
) -> (u16, Option<String>) {
    let req = http
        .get(format!("{base}/api/v1/forward-auth/nginx"))
        .header("x-original-url", format!("{APP}{path}"));
    let req = match cred {
        Cred::Session(t) => req.header("cookie", format!("twofold_session={t}")),
        Cred::Basic(u, p) => req.basic_auth(u, Some(p)),
    };
    let r = req.send().await.unwrap();
    let user = r
        .headers()
        .get("remote-user")
        .map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), user)
}

/// `n` checks that must all pass (on an instance with a live feed, the first fills its
/// cache and the others are answered from it).
async fn warm(http: &reqwest::Client, base: &str, cred: &Cred, path: &str, n: usize) {
    for i in 0..n {
        let (status, user) = check(http, base, cred, path).await;
        assert_eq!(status, 200, "warming check {i} at {base}{path}");
        assert!(user.is_some(), "a 200 names the user");
    }
}

/// Logs in at `base` (a twofold, or an nginx in front of several): the browser that holds
/// the session cookie, and the session as a credential to pass to forward-auth.
async fn log_in(base: &str, uid: &str, pw: &str) -> (reqwest::Client, Cred) {
    let http = browser();
    let r = http
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"uid": uid, "password": pw}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = session_set_cookie(&r);
    let token = cookie
        .split(';')
        .next()
        .and_then(|c| c.strip_prefix("twofold_session="))
        .unwrap()
        .to_string();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["stage"], "authenticated", "{body}");
    (http, Cred::Session(token))
}

/// Ends the browser's session at `base`: by logging out, or (`by_id`) by deleting it
/// through the devices API like a user ending a session from the list.
async fn revoke_session(http: &reqwest::Client, base: &str, by_id: bool) {
    let r = if by_id {
        let devices: Value = http
            .get(format!("{base}/api/v1/devices"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = devices["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["current"] == true)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        http.delete(format!("{base}/api/v1/sessions/{id}"))
            .send()
            .await
            .unwrap()
    } else {
        http.post(format!("{base}/api/v1/logout"))
            .send()
            .await
            .unwrap()
    };
    assert_eq!(r.status(), 204);
}

/// Checks at `base` in a tight loop until refused: the time from `since` (the change's
/// answer) to the refusal's answer, and how many 200s came before it. Fails if the
/// refusal never comes (a change that was missed).
async fn time_to_refusal(
    http: &reqwest::Client,
    base: &str,
    cred: &Cred,
    path: &str,
    since: Instant,
) -> (Duration, u32) {
    let give_up = since + Duration::from_secs(10);
    let mut stale = 0;
    loop {
        let (status, _) = check(http, base, cred, path).await;
        if status != 200 {
            assert!(
                status == 401 || status == 403,
                "a refusal, not an error: {status}"
            );
            return (since.elapsed(), stale);
        }
        stale += 1;
        assert!(
            Instant::now() < give_up,
            "{base} still answers 200 10 s after the change ({stale} checks): it was missed"
        );
    }
}

/// The median, the 99th percentile (nearest rank) and the maximum of `samples`, printed
/// under `what`.
fn summary(what: &str, mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    let n = samples.len();
    let rank = |p: f64| samples[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
    let (p50, p99, max) = (rank(0.50), rank(0.99), samples[n - 1]);
    eprintln!(
        "revocation window, {what}: n={n} p50={:.1} ms p99={:.1} ms max={:.1} ms",
        ms(p50),
        ms(p99),
        ms(max)
    );
    (p50, p99, max)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// Asserts the window of one series (see [`WORST`]).
fn assert_windows(what: &str, samples: Vec<Duration>) {
    let (p50, _, max) = summary(what, samples);
    assert!(
        p50 < WINDOW,
        "{what}: median window {p50:?} over {WINDOW:?}"
    );
    assert!(max < WORST, "{what}: worst window {max:?} over {WORST:?}");
}

/// Instances A and B on `db` with [`RULES`]; B connects as [`B_NAME`] (PostgreSQL). Both
/// read the same server key from the shared data folder, so a session made on one is good
/// on the other; A starts first, so it is A that creates the key.
async fn two_instances(db: &TestDb) -> (Server, Server) {
    two_instances_with_b_on(db, &format!("{}?application_name={B_NAME}", db.url)).await
}

/// [`two_instances`], with B reaching the database at `b_url`.
async fn two_instances_with_b_on(db: &TestDb, b_url: &str) -> (Server, Server) {
    let config = config_file(db, RULES);
    let a = Server::start_with(db, &[("TWOFOLD_CONFIG", &config)]).await;
    let b = Server::start_with(
        db,
        &[("TWOFOLD_CONFIG", &config), ("TWOFOLD_DATABASE_URL", b_url)],
    )
    .await;
    wait_for_feed(&a).await;
    wait_for_feed(&b).await;
    (a, b)
}

/// Until the instance LISTENs for other instances' changes (before that its cache is
/// bypassed, and a test of the cache would prove nothing).
async fn wait_for_feed(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server
        .stderr()
        .contains("listening for changes from other instances")
    {
        assert!(
            Instant::now() < deadline,
            "no change feed: {}",
            server.stderr()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn cli_ok(db: &TestDb, args: &[&str]) {
    let out = db.cli(args, "");
    assert!(
        out.status.success(),
        "twofold {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_sessions_and_revocations() {
    let db = TestDb::new(Backend::Postgres).await;
    db.add_user("alice", "password-a");
    let (a, b) = two_instances(&db).await;
    let plain = reqwest::Client::new();

    // A session made on A is good on B.
    let (_, cred) = log_in(&a.base, "alice", "password-a").await;
    assert_eq!(
        check(&plain, &b.base, &cred, "/x").await,
        (200, Some("alice".into()))
    );

    // On the instance that revoked, the window is zero: the very next check is refused.
    for i in 0..20 {
        let (http, cred) = log_in(&a.base, "alice", "password-a").await;
        warm(&plain, &a.base, &cred, "/x", 5).await;
        revoke_session(&http, &a.base, i % 2 == 1).await;
        let (status, _) = check(&plain, &a.base, &cred, "/x").await;
        assert_eq!(
            status, 401,
            "round {i}: a stale answer on the revoking instance"
        );
    }

    // Across instances: revoke on A, poll B until it refuses.
    let mut windows = Vec::new();
    let mut stale = Vec::new();
    for i in 0..30 {
        let (http, cred) = log_in(&a.base, "alice", "password-a").await;
        warm(&plain, &a.base, &cred, "/x", 3).await;
        warm(&plain, &b.base, &cred, "/x", 5).await;
        revoke_session(&http, &a.base, i % 2 == 1).await;
        let (window, n) = time_to_refusal(&plain, &b.base, &cred, "/x", Instant::now()).await;
        windows.push(window);
        stale.push(n);
        // Refused from then on, on both.
        for base in [&a.base, &b.base] {
            assert_eq!(check(&plain, base, &cred, "/x").await.0, 401);
        }
    }
    eprintln!("200s answered by B after the revoke's answer, per round: {stale:?}");
    assert_windows("session revoked on A, seen by B", windows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_password_revoked_on_one_instance_is_refused_by_the_other() {
    let db = TestDb::new(Backend::Postgres).await;
    db.add_user("alice", "password-a");
    let (a, b) = two_instances(&db).await;
    let plain = reqwest::Client::new();
    let (http, _) = log_in(&a.base, "alice", "password-a").await;
    let mut windows = Vec::new();
    for i in 0..10 {
        let r = http
            .post(a.url("/api/v1/app-passwords"))
            .json(&json!({"name": format!("sync {i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let created: Value = r.json().await.unwrap();
        let cred = Cred::Basic(
            "alice".into(),
            created["password"].as_str().unwrap().to_string(),
        );
        warm(&plain, &a.base, &cred, "/x", 3).await;
        warm(&plain, &b.base, &cred, "/x", 5).await;
        let id = created["id"].as_str().unwrap();
        let r = http
            .delete(a.url(&format!("/api/v1/app-passwords/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let since = Instant::now();
        assert_eq!(
            check(&plain, &a.base, &cred, "/x").await.0,
            401,
            "round {i}: a stale answer on the revoking instance"
        );
        let (window, _) = time_to_refusal(&plain, &b.base, &cred, "/x", since).await;
        windows.push(window);
    }
    assert_windows("app password revoked on A, seen by B", windows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_disabled_through_the_cli_is_refused_by_every_instance() {
    let db = TestDb::new(Backend::Postgres).await;
    db.add_user("alice", "password-a");
    let (a, b) = two_instances(&db).await;
    let plain = reqwest::Client::new();
    let mut windows = Vec::new();
    for _ in 0..5 {
        cli_ok(&db, &["user", "enable", "alice"]);
        let (_, cred) = log_in(&a.base, "alice", "password-a").await;
        warm(&plain, &a.base, &cred, "/x", 5).await;
        warm(&plain, &b.base, &cred, "/x", 5).await;
        cli_ok(&db, &["user", "disable", "alice"]);
        // The CLI is another process: neither instance made the change.
        let since = Instant::now();
        for base in [&a.base, &b.base] {
            let (window, _) = time_to_refusal(&plain, base, &cred, "/x", since).await;
            windows.push(window);
        }
    }
    assert_windows("user disabled by the CLI, seen by A and B", windows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removal_from_a_rules_group_is_seen_by_every_instance() {
    let db = TestDb::new(Backend::Postgres).await;
    db.add_user("alice", "password-a");
    cli_ok(&db, &["group", "add", "team"]);
    let (a, b) = two_instances(&db).await;
    let plain = reqwest::Client::new();
    let (_, cred) = log_in(&a.base, "alice", "password-a").await;
    assert_eq!(check(&plain, &b.base, &cred, "/team/x").await.0, 403);
    let mut windows = Vec::new();
    for _ in 0..5 {
        cli_ok(&db, &["group", "add-member", "team", "alice"]);
        // An addition reaches the caches the same way (the 403 above was never kept).
        let deadline = Instant::now() + Duration::from_secs(5);
        while check(&plain, &b.base, &cred, "/team/x").await.0 != 200 {
            assert!(Instant::now() < deadline, "B never saw alice join team");
        }
        warm(&plain, &a.base, &cred, "/team/x", 5).await;
        warm(&plain, &b.base, &cred, "/team/x", 5).await;
        cli_ok(&db, &["group", "remove-member", "team", "alice"]);
        let since = Instant::now();
        for base in [&a.base, &b.base] {
            let (window, _) = time_to_refusal(&plain, base, &cred, "/team/x", since).await;
            windows.push(window);
            // Still signed in: only the group's rule refuses.
            assert_eq!(check(&plain, base, &cred, "/team/x").await.0, 403);
            assert_eq!(check(&plain, base, &cred, "/x").await.0, 200);
        }
    }
    assert_windows("removed from a group by the CLI, seen by A and B", windows);
}

/// The pid of B's LISTEN connection, if it has one: its last query was the LISTEN, or
/// the probe a quiet feed answers (`notify.rs`).
async fn listener_of_b(db: &TestDb) -> Option<i32> {
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let pid = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
         AND application_name = $1 \
         AND (query ILIKE 'LISTEN%' OR query ILIKE '%AS twofold_change_feed')",
    )
    .bind(B_NAME)
    .fetch_optional(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    pid
}

/// Until B has a LISTEN connection other than `old`.
async fn wait_for_listener(db: &TestDb, old: Option<i32>) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(pid) = listener_of_b(db).await
            && Some(pid) != old
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "B did not LISTEN (again)");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `statement` with triggers off (`session_replication_role = replica`): a change
/// no instance hears of, which only a cached answer can miss.
async fn unannounced(db: &TestDb, statement: &'static str) {
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(statement).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_is_bypassed_while_the_listener_is_down() {
    let db = TestDb::new(Backend::Postgres).await;
    db.add_user("alice", "password-a");
    let (a, b) = two_instances(&db).await;
    let plain = reqwest::Client::new();

    // The probe works: with the feed up, B answers a warmed session from its cache even
    // after the session was deleted behind every instance's back.
    let (_, cred) = log_in(&a.base, "alice", "password-a").await;
    warm(&plain, &b.base, &cred, "/x", 5).await;
    unannounced(&db, "DELETE FROM sessions WHERE uid = 'alice'").await;
    assert_eq!(
        check(&plain, &b.base, &cred, "/x").await.0,
        200,
        "B answers from its cache (else this test proves nothing)"
    );
    sql_notify(&db).await;
    time_to_refusal(&plain, &b.base, &cred, "/x", Instant::now()).await;

    let old = wait_for_listener(&db, None).await;
    let (http, cred) = log_in(&a.base, "alice", "password-a").await;
    warm(&plain, &b.base, &cred, "/x", 5).await;
    // B's LISTEN connection dies (waiting until its backend is gone), and right after, A
    // revokes: B never hears of it, so it must not answer from its cache.
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let gone: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1, 5000)")
        .bind(old)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(gone);
    revoke_session(&http, &a.base, false).await;
    let (status, _) = check(&plain, &b.base, &cred, "/x").await;
    assert_eq!(
        status, 401,
        "B answered from a cache that missed the revoke"
    );

    // B listens again, and caches again: the probe once more.
    let new = wait_for_listener(&db, Some(old)).await;
    eprintln!("B's LISTEN backend: {old} terminated, {new} after reconnecting");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // The LISTEN shows before B marks its feed live: a check in between is not kept.
        // Retry with a new session until one is.
        let (_, cred) = log_in(&a.base, "alice", "password-a").await;
        warm(&plain, &b.base, &cred, "/x", 3).await;
        unannounced(&db, "DELETE FROM sessions WHERE uid = 'alice'").await;
        let (status, _) = check(&plain, &b.base, &cred, "/x").await;
        // And what is cached is dropped when the new connection hears of a change.
        sql_notify(&db).await;
        time_to_refusal(&plain, &b.base, &cred, "/x", Instant::now()).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "B does not cache again");
    }
    // Answers stay right: a fresh session passes on B, and A's revoke reaches B.
    let (http, cred) = log_in(&a.base, "alice", "password-a").await;
    warm(&plain, &b.base, &cred, "/x", 5).await;
    revoke_session(&http, &a.base, true).await;
    let (window, _) = time_to_refusal(&plain, &b.base, &cred, "/x", Instant::now()).await;
    assert!(window < WORST, "{window:?}");
}

/// What a trigger would send for alice, sent by hand.
async fn sql_notify(db: &TestDb) {
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("SELECT pg_notify('twofold_auth', 'alice')")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_change_on_sqlite_reaches_the_servers_cache() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    cli_ok(&db, &["group", "add", "team"]);
    cli_ok(&db, &["group", "add-member", "team", "alice"]);
    let config = config_file(&db, RULES);
    let server = Server::start_with(&db, &[("TWOFOLD_CONFIG", &config)]).await;
    let plain = reqwest::Client::new();
    let (_, cred) = log_in(&server.base, "alice", "password-a").await;
    let mut windows = Vec::new();

    // Removed from the rule's group by the CLI.
    warm(&plain, &server.base, &cred, "/team/x", 5).await;
    cli_ok(&db, &["group", "remove-member", "team", "alice"]);
    let (w, _) = time_to_refusal(&plain, &server.base, &cred, "/team/x", Instant::now()).await;
    windows.push(w);
    assert_eq!(check(&plain, &server.base, &cred, "/x").await.0, 200);

    // Disabled by the CLI, several times.
    for _ in 0..5 {
        cli_ok(&db, &["user", "enable", "alice"]);
        let (_, cred) = log_in(&server.base, "alice", "password-a").await;
        warm(&plain, &server.base, &cred, "/x", 5).await;
        cli_ok(&db, &["user", "disable", "alice"]);
        let (w, _) = time_to_refusal(&plain, &server.base, &cred, "/x", Instant::now()).await;
        windows.push(w);
    }
    let (_, _, max) = summary("CLI change on SQLite, seen by the server", windows);
    // The log is read every 100 ms.
    assert!(max < Duration::from_secs(1), "{max:?}");
}

/// nginx in `dir` balancing `/api/` and the auth subrequests of `/app/` over `upstreams`
/// (round robin), trying the next one when one cannot be reached.
fn balancer_config(dir: &Path, port: u16, id: &str, upstreams: &[&str]) -> String {
    let servers: String = upstreams
        .iter()
        .map(|u| format!("    server {u} max_fails=1 fail_timeout=30s;\n"))
        .collect();
    let auth = auth_location(
        "http://twofold/api/v1/forward-auth/nginx",
        "$scheme://$http_host$request_uri",
    );
    let http = format!(
        r#"  default_type application/octet-stream;
  upstream twofold {{
{servers}  }}
  proxy_next_upstream error timeout;
  proxy_connect_timeout 1s;
  server {{
    listen 127.0.0.1:{port};
    location = /_started {{ return 200 "{id}"; }}
    location /api/ {{
      proxy_pass http://twofold;
      proxy_set_header X-Forwarded-For $remote_addr;
      add_header X-Upstream $upstream_addr always;
    }}
    location /app/ {{
      auth_request /_twofold;
      auth_request_set $tf_user $upstream_http_remote_user;
      auth_request_set $tf_upstream $upstream_addr;
      add_header X-Remote-User $tf_user always;
      add_header X-Auth-Upstream $tf_upstream always;
      root {dir}/www;
    }}
{auth}  }}
"#,
        dir = dir.display()
    );
    nginx_conf(dir, 1024, &http)
}

/// `GET /app/index.txt` through nginx with the browser's cookies: the status and which
/// instance answered the auth subrequest.
async fn through_nginx(http: &reqwest::Client, nginx: &str) -> (u16, String) {
    let r = http
        .get(format!("{nginx}/app/index.txt"))
        .send()
        .await
        .unwrap();
    let upstream = r
        .headers()
        .get("x-auth-upstream")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let status = r.status().as_u16();
    if status == 200 {
        assert_eq!(r.headers()["x-remote-user"], "alice");
        assert_eq!(r.text().await.unwrap(), "app\n");
    }
    (status, upstream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_instances_behind_nginx() {
    let db = TestDb::new(Backend::Postgres).await;
    db.add_user("alice", "password-a");
    let (a, b) = two_instances(&db).await;
    let dir = db.dir.path().join("nginx");
    std::fs::create_dir_all(dir.join("www/app")).unwrap();
    std::fs::write(dir.join("www/app/index.txt"), "app\n").unwrap();
    let upstreams = [
        a.base.trim_start_matches("http://").to_string(),
        b.base.trim_start_matches("http://").to_string(),
    ];
    let nginx = start_nginx_with(&dir, |port, id| {
        balancer_config(&dir, port, id, &[&upstreams[0], &upstreams[1]])
    })
    .await;

    // Logged in through nginx; the checks alternate between the instances and all pass.
    let (http, _) = log_in(&nginx.base, "alice", "password-a").await;
    let mut seen = std::collections::BTreeMap::new();
    for _ in 0..20 {
        let (status, upstream) = through_nginx(&http, &nginx.base).await;
        assert_eq!(status, 200);
        *seen.entry(upstream).or_insert(0) += 1;
    }
    eprintln!("auth subrequests per instance: {seen:?}");
    for u in &upstreams {
        assert!(
            seen.get(u).is_some_and(|n| *n >= 5),
            "{u} answered {seen:?}"
        );
    }

    // Revoked through nginx (on whichever instance): refused from then on, everywhere.
    revoke_session(&http, &nginx.base, false).await;
    let since = Instant::now();
    let deadline = since + Duration::from_secs(1);
    while through_nginx(&http, &nginx.base).await.0 == 200 {
        assert!(
            Instant::now() < deadline,
            "still 200 a second after the logout"
        );
    }
    eprintln!(
        "logout through nginx refused after {:.1} ms",
        ms(since.elapsed())
    );
    for _ in 0..20 {
        assert_eq!(through_nginx(&http, &nginx.base).await.0, 401);
    }

    // One instance dies: nginx sends everything to the other, and nothing fails.
    let (http, _) = log_in(&nginx.base, "alice", "password-a").await;
    warm_nginx(&http, &nginx.base).await;
    drop(a);
    let mut upstreams_after = std::collections::BTreeSet::new();
    for i in 0..50 {
        let (status, upstream) = through_nginx(&http, &nginx.base).await;
        assert_eq!(status, 200, "request {i} after the kill");
        upstreams_after.insert(upstream);
    }
    eprintln!("auth subrequests after A was killed went to: {upstreams_after:?}");
    assert!(
        upstreams_after.iter().any(|u| u.contains(", ")),
        "nginx tried the dead instance first and then the other: {upstreams_after:?}"
    );
    // Logging in and out still works through the survivor.
    let (http, _) = log_in(&nginx.base, "alice", "password-a").await;
    assert_eq!(through_nginx(&http, &nginx.base).await.0, 200);
    revoke_session(&http, &nginx.base, true).await;
    assert_eq!(through_nginx(&http, &nginx.base).await.0, 401);
    drop(b);
}

async fn warm_nginx(http: &reqwest::Client, nginx: &str) {
    for _ in 0..4 {
        assert_eq!(through_nginx(http, nginx).await.0, 200);
    }
}

both!(a_burst_of_a_signed_in_user_gets_only_200s);

/// 100 connections, 200 000 checks of one signed-in user: every answer is 200.
///
/// wrk, two threads of 50 connections, each stopping after 100 000 answers (so 2 000 per
/// connection on average, not exactly). wrk's main thread sleeps for the whole `-d`
/// whatever its threads do: each thread leaves a file when it is done, and the test then
/// interrupts wrk, which prints its summary and the counts.
async fn a_burst_of_a_signed_in_user_gets_only_200s(backend: Backend) {
    const CONNECTIONS: u32 = 100;
    const REQUESTS: u64 = 200_000;
    const THREADS: u64 = 2;
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let config = config_file(&db, RULES);
    let server = Server::start_with(&db, &[("TWOFOLD_CONFIG", &config)]).await;
    let (_, cred) = log_in(&server.base, "alice", "password-a").await;
    let Cred::Session(token) = &cred else {
        unreachable!()
    };
    warm(&reqwest::Client::new(), &server.base, &cred, "/x", 1).await;

    let done = db.dir.path().join("wrk-done");
    std::fs::create_dir_all(&done).unwrap();
    let script = db.dir.path().join("burst.lua");
    std::fs::write(
        &script,
        format!(
            r#"
wrk.method = "GET"
wrk.headers["X-Original-URL"] = "{APP}/x"
wrk.headers["Cookie"] = "twofold_session={token}"
local threads = {{}}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end
function init(args) answers = 0; non200 = 0; limit = tonumber(args[1]) end
function response(status, headers, body)
  answers = answers + 1
  if status ~= 200 then non200 = non200 + 1 end
  if answers == limit then
    io.open("{done}/" .. id, "w"):close()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  local answers, non200 = 0, 0
  for _, t in ipairs(threads) do
    answers = answers + t:get("answers")
    non200 = non200 + t:get("non200")
  end
  io.write(string.format("ANSWERS %d NON200 %d\n", answers, non200))
end
"#,
            done = done.display()
        ),
    )
    .unwrap();
    let started = Instant::now();
    let wrk = Command::new("wrk")
        .args(["-t", &THREADS.to_string(), "-c", &CONNECTIONS.to_string()])
        .args(["-d", "600s", "--timeout", "30s", "-s"])
        .arg(&script)
        .arg(server.url("/api/v1/forward-auth/nginx"))
        .arg("--")
        .arg((REQUESTS / THREADS).to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("wrk is installed (Debian package wrk)");
    let deadline = started + Duration::from_secs(600);
    while std::fs::read_dir(&done).unwrap().count() < THREADS as usize {
        assert!(Instant::now() < deadline, "the burst did not end in 600 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = started.elapsed();
    assert!(
        Command::new("kill")
            .args(["-INT", &wrk.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let out = tokio::task::spawn_blocking(move || wrk.wait_with_output().unwrap())
        .await
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "burst on {backend:?}: {REQUESTS} checks over {CONNECTIONS} connections in {:.1} s \
         ({:.0}/s)\n{report}",
        took.as_secs_f64(),
        REQUESTS as f64 / took.as_secs_f64()
    );
    let counts = report
        .lines()
        .find_map(|l| l.strip_prefix("ANSWERS "))
        .unwrap_or_else(|| panic!("no counts in wrk's report: {report}"));
    let (answers, non200) = counts.split_once(" NON200 ").unwrap();
    let (answers, non200): (u64, u64) = (answers.parse().unwrap(), non200.trim().parse().unwrap());
    assert_eq!(non200, 0, "non-200 answers in the burst: {report}");
    // Answers already read when a thread stops are counted too: a few over.
    assert!(answers >= REQUESTS, "{report}");
    assert!(
        !report.contains("Socket errors"),
        "connections failed in the burst: {report}\n{}",
        server.stderr()
    );
}

/// A TCP relay to PostgreSQL, to fail the network between B and the database in ways
/// PostgreSQL itself cannot: `hold` keeps new connections waiting (accepted, not relayed)
/// while the established ones carry on; `mute` stops relaying what the server sends on
/// LISTEN connections (those that sent a `LISTEN`), without closing anything, like a
/// network path that silently drops packets.
struct Relay {
    port: u16,
    hold: tokio::sync::watch::Sender<bool>,
    mute: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    async fn to(db: &TestDb) -> Relay {
        let authority = pg_authority(db).to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (hold, held) = tokio::sync::watch::channel(false);
        let (mute, muted) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let mut held = held.clone();
                let muted = muted.clone();
                let authority = authority.clone();
                tokio::spawn(async move {
                    let _ = held.wait_for(|h| !*h).await;
                    if let Ok(outbound) = tokio::net::TcpStream::connect(&authority).await {
                        relay(inbound, outbound, muted).await;
                    }
                });
            }
        });
        Relay { port, hold, mute }
    }

    /// `db`'s URL through this relay, as instance B.
    fn url(&self, db: &TestDb) -> String {
        let url = db
            .url
            .replacen(pg_authority(db), &format!("127.0.0.1:{}", self.port), 1);
        format!("{url}?application_name={B_NAME}")
    }
}

fn pg_authority(db: &TestDb) -> &str {
    db.url
        .split_once('@')
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(a, _)| a)
        .unwrap()
}

async fn relay(
    inbound: tokio::net::TcpStream,
    outbound: tokio::net::TcpStream,
    mut muted: tokio::sync::watch::Receiver<bool>,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut from_client, mut to_client) = inbound.into_split();
    let (mut from_server, mut to_server) = outbound.into_split();
    let listens = Arc::new(AtomicBool::new(false));
    let seen = listens.clone();
    tokio::spawn(async move {
        let mut buf = vec![0; 16 * 1024];
        while let Ok(n @ 1..) = from_client.read(&mut buf).await {
            if buf[..n].windows(6).any(|w| w == b"LISTEN") {
                seen.store(true, Ordering::SeqCst);
            }
            if to_server.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = to_server.shutdown().await;
    });
    let mut buf = vec![0; 16 * 1024];
    while let Ok(n @ 1..) = from_server.read(&mut buf).await {
        if listens.load(Ordering::SeqCst) {
            let _ = muted.wait_for(|m| !*m).await;
        }
        if to_client.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}

/// Starts A (direct) and B (through `relay`) with [`RULES`], both with their feed live.
async fn a_and_b_through(db: &TestDb, relay: &Relay) -> (Server, Server) {
    two_instances_with_b_on(db, &relay.url(db)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_is_down_while_the_listener_reconnects() {
    let db = TestDb::new(Backend::Postgres).await;
    db.add_user("alice", "password-a");
    // B reaches the database through the relay only.
    let relay = Relay::to(&db).await;
    let (a, b) = a_and_b_through(&db, &relay).await;
    let plain = reqwest::Client::new();
    let (http, cred) = log_in(&a.base, "alice", "password-a").await;
    warm(&plain, &b.base, &cred, "/x", 5).await;

    // B's LISTEN connection dies, and B cannot connect anew for now (its pool keeps the
    // connections it has). Whatever B does to reconnect, it no longer hears of changes.
    let listener = wait_for_listener(&db, None).await;
    relay.hold.send_replace(true);
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let gone: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1, 5000)")
        .bind(listener)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(gone);
    revoke_session(&http, &a.base, false).await;
    let (status, _) = check(&plain, &b.base, &cred, "/x").await;
    relay.hold.send_replace(false);
    assert_eq!(
        status, 401,
        "B answered from its cache while its feed was gone (reconnecting)"
    );
    // Once it reaches the database again, B listens and caches again.
    wait_for_listener(&db, Some(listener)).await;
    let (http, cred) = log_in(&a.base, "alice", "password-a").await;
    warm(&plain, &b.base, &cred, "/x", 5).await;
    revoke_session(&http, &a.base, false).await;
    let (window, _) = time_to_refusal(&plain, &b.base, &cred, "/x", Instant::now()).await;
    assert!(window < WORST, "{window:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_connection_gone_silent_is_noticed() {
    let db = TestDb::new(Backend::Postgres).await;
    db.add_user("alice", "password-a");
    let relay = Relay::to(&db).await;
    let (a, b) = a_and_b_through(&db, &relay).await;
    let plain = reqwest::Client::new();
    let (http, cred) = log_in(&a.base, "alice", "password-a").await;
    warm(&plain, &b.base, &cred, "/x", 5).await;
    // Nothing reaches B's LISTEN connection any more, and nothing tells B so: no error,
    // no end of stream (a path that drops packets, a failover behind a virtual address).
    relay.mute.send_replace(true);
    revoke_session(&http, &a.base, false).await;
    let since = Instant::now();
    // A feed that cannot be heard from must be found out in a few seconds, not left to
    // the entry's one-minute refresh.
    let give_up = since + Duration::from_secs(5);
    let mut stale = 0;
    while check(&plain, &b.base, &cred, "/x").await.0 == 200 {
        stale += 1;
        assert!(
            Instant::now() < give_up,
            "B still answers the revoked session from its cache 5 s later ({stale} checks): \
             its LISTEN connection went silent and nothing noticed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!(
        "silent feed found out after {:.0} ms ({stale} stale answers)",
        ms(since.elapsed())
    );
    relay.mute.send_replace(false);
}
