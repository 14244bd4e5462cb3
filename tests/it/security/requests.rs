//! What a client can forge or flood at the HTTP level: cross-site requests, client
//! addresses, bad text, idle connections; and what the server leaves on disk.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{
    Backend, Server, TestDb, api_login, bare_browser, both, browser, csrf_of, text,
};

both!(
    defect_07_state_changes_need_a_session_bound_token_or_json,
    defect_09_a_nul_in_a_uid_is_a_client_error
);

async fn sessions_of(db: &TestDb, uid: &str) -> usize {
    db.store()
        .await
        .sessions_of(uid, twofold::app::now())
        .await
        .unwrap()
        .len()
}

async fn defect_07_state_changes_need_a_session_bound_token_or_json(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    db.add_user("mallory", "password-m");
    let server = Server::start(&db).await;
    // A browser whose requests carry only what a cross-site form or image could send.
    let alice = bare_browser();
    api_login(&alice, &server, "alice", "password-a").await;
    assert_eq!(sessions_of(&db, "alice").await, 1);
    for path in [
        "/api/v1/logout-everywhere",
        "/api/v1/logout",
        "/api/v1/2fa/backup-codes",
        "/api/v1/2fa/totp",
    ] {
        let r = alice.post(server.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(r.text().await.unwrap().contains("cross_site"));
        let r = alice
            .post(server.url(path))
            .header("content-type", "text/plain")
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{path}");
    }
    assert_eq!(sessions_of(&db, "alice").await, 1, "nothing was done");
    // JSON from another origin, or a request the browser marks cross-site: refused too.
    let r = alice
        .post(server.url("/api/v1/app-passwords"))
        .header("origin", "https://evil.example")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = alice
        .post(server.url("/api/v1/logout"))
        .header("sec-fetch-site", "cross-site")
        .header("x-requested-with", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(sessions_of(&db, "alice").await, 1);
    // The same request from the front end (custom header) works.
    let r = alice
        .post(server.url("/api/v1/logout"))
        .header("x-requested-with", "fetch")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // Forms: a CSRF cookie planted by a sibling subdomain, with the token the attacker
    // got for it in their own session, does not pass in the victim's session.
    let mallory = browser();
    api_login(&mallory, &server, "mallory", "password-m").await;
    let html = mallory
        .get(server.url("/settings/devices"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mallory_token = csrf_of(&html);
    let victim = browser();
    api_login(&victim, &server, "alice", "password-a").await;
    let victim_page = victim
        .get(server.url("/settings/devices"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let victim_token = csrf_of(&victim_page);
    assert_ne!(victim_token, mallory_token, "tokens differ per session");
    let r = victim
        .post(server.url("/settings/devices/app-passwords"))
        .form(&[("csrf", mallory_token.as_str()), ("name", "planted")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        db.store()
            .await
            .app_passwords_of("alice")
            .await
            .unwrap()
            .is_empty()
    );
}

async fn defect_09_a_nul_in_a_uid_is_a_client_error(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("admin2", "password-a");
    let server = Server::start(&db).await;
    let r = reqwest::Client::new()
        .post(server.url("/api/v1/login"))
        .json(&json!({"uid": "a\u{0}b", "password": "password-a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "like any unknown user");
    let r = reqwest::Client::new()
        .get(server.url("/api/v1/me"))
        .basic_auth("a\u{0}b", Some("password-a"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        db.cli(
            &["user", "add", "--admin", "root", "--password-stdin"],
            "password-r\n"
        )
        .status
        .success()
    );
    let admin = browser();
    api_login(&admin, &server, "root", "password-r").await;
    let r = admin
        .get(server.url("/api/v1/admin/users/a%00b/2fa"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert!(
        !server.stderr().contains("ERROR"),
        "bad input was logged as an error: {}",
        server.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_08_client_addresses_are_not_taken_from_the_client() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    // Default configuration: no proxy is trusted, so X-Forwarded-For is ignored.
    let server = Server::start(&db).await;
    let http = browser();
    let r = http
        .post(server.url("/api/v1/login"))
        .header("x-forwarded-for", "203.0.113.99")
        .json(&json!({"uid": "alice", "password": "password-a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let devices: Value = http
        .get(server.url("/api/v1/devices"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(devices["sessions"][0]["ip"], "127.0.0.1");
    // The shipped proxy examples set the address themselves and never trust the client.
    let root = env!("CARGO_MANIFEST_DIR");
    let nginx = std::fs::read_to_string(format!("{root}/examples/nginx.conf")).unwrap();
    assert!(
        !nginx.contains("$http_host"),
        "the original URL from the client's Host"
    );
    for block in nginx.split("location").skip(1) {
        if block.contains("proxy_pass http://127.0.0.1:8080") {
            assert!(
                block.contains("X-Forwarded-For $remote_addr"),
                "a location reaches twofold without setting X-Forwarded-For: {block}"
            );
        }
    }
    assert!(nginx.contains("/api/v1/forward-auth/nginx"));
    let traefik = std::fs::read_to_string(format!("{root}/examples/traefik.yml")).unwrap();
    assert!(traefik.contains("trustForwardHeader: false"));
    assert!(traefik.contains("/api/v1/forward-auth/traefik"));
    let caddy = std::fs::read_to_string(format!("{root}/examples/Caddyfile")).unwrap();
    assert!(caddy.contains("/api/v1/forward-auth/caddy"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_12_idle_and_half_sent_connections_are_closed() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = Server::start_with(
        &db,
        &[
            ("TWOFOLD_SERVER_HEADER_READ_TIMEOUT_SECS", "1"),
            ("TWOFOLD_SERVER_MAX_CONNECTIONS", "40"),
        ],
    )
    .await;
    let addr = server.base.trim_start_matches("http://").to_string();
    // More connections than the cap that never send a byte, and one that sends half a
    // request: the server must close them all by itself.
    let (first_idle, half) = tokio::task::spawn_blocking(move || {
        let idle: Vec<_> = (0..60)
            .filter_map(|_| std::net::TcpStream::connect(&addr).ok())
            .collect();
        let mut half = std::net::TcpStream::connect(&addr).unwrap();
        half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        let closed_in = |mut s: std::net::TcpStream| {
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let started = Instant::now();
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            started.elapsed()
        };
        let mut idle = idle.into_iter();
        let first = closed_in(idle.next().unwrap());
        let half = closed_in(half);
        drop(idle);
        (first, half)
    })
    .await
    .unwrap();
    // A timeout of 1 s; 20 s would mean it was never closed by the server.
    assert!(
        first_idle < Duration::from_secs(15),
        "a silent connection was held for {first_idle:?}"
    );
    assert!(
        half < Duration::from_secs(15),
        "a half-sent request held its connection for {half:?}"
    );
    // And the server answers new clients.
    let r = reqwest::Client::new()
        .get(server.url("/healthz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_13_with_the_database_gone_requests_are_refused_fast() {
    let db = TestDb::new(Backend::Postgres).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = browser();
    api_login(&http, &server, "alice", "password-a").await;
    db.drop_database().await;
    for _ in 0..3 {
        let started = Instant::now();
        let r = http
            .get(server.url("/api/v1/forward-auth/traefik"))
            .header("x-forwarded-host", "files.example.test")
            .header("x-forwarded-uri", "/x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503, "fail closed");
        // The pool's acquire timeout is 1 s (it was 5 s); a wide margin for a busy CI.
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "refusal took {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_15_files_on_disk_are_private_and_client_logins_are_throttled() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDb::new(Backend::Sqlite).await;
    let server = Server::start(&db).await;
    let mode = |p: std::path::PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(db.dir.path().join("t.db")), 0o600, "the SQLite file");
    assert_eq!(
        mode(db.dir.path().join("server.key")),
        0o600,
        "the key file"
    );
    // Starting client login flows: a few per address, then delays.
    let mut statuses = Vec::new();
    for _ in 0..14 {
        let r = reqwest::Client::new()
            .post(server.url("/api/v1/login/flow"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(statuses[..10].iter().all(|s| *s == 200), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    drop(server);
    // A key file others can read is refused at start, with the fix in the message.
    let key = db.dir.path().join("server.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_twofold"))
        .arg("serve")
        .env_clear()
        .envs(db.env())
        .env("TWOFOLD_SERVER_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("chmod 600"),
        "{}",
        text(&out.stderr)
    );
}

/// Each passwordless sign-in start stores a ceremony row: one address gets 60, then
/// waits; the rows stay bounded by what was allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkey_starts_are_limited_per_address() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = Server::start(&db).await;
    let mut statuses = Vec::new();
    for _ in 0..64 {
        let r = crate::common::browser()
            .post(server.url("/api/v1/login/passwordless/webauthn/begin"))
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(statuses[..60].iter().all(|s| *s == 200), "{statuses:?}");
    assert!(statuses[60..].iter().all(|s| *s == 429), "{statuses:?}");
    let rows = crate::common::sql_count(&db, "SELECT COUNT(*) FROM ceremonies").await;
    assert_eq!(rows, 60, "a refused start stores nothing");
}

/// Issue 16, defect 4: a proxy that adds its own `X-Forwarded-For` line (HAProxy's
/// `option forwardfor`) after the client's own line. Every line counts, in order, so the
/// rightmost address the trusted proxy was not is the client's, not the one it wrote.
/// And forward-auth refuses a repeated header of its proxy rather than pick one line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_16_4_every_line_of_a_forwarded_header_counts() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    let config = crate::common::config_file(&db, super::RULES);
    let server = Server::start_with(
        &db,
        &[
            ("TWOFOLD_CONFIG", config.as_str()),
            ("TWOFOLD_SERVER_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    let http = browser();
    let r = http
        .post(server.url("/api/v1/login"))
        .header("x-forwarded-for", "6.6.6.6")
        .header("x-forwarded-for", "198.51.100.7")
        .json(&json!({"uid": "alice", "password": "password-a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let devices: Value = http
        .get(server.url("/api/v1/devices"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        devices["sessions"][0]["ip"], "198.51.100.7",
        "the address the client wrote in its own line was believed"
    );

    // Forward-auth: a second line of a header the proxy sets is refused, whichever comes
    // first.
    let anon = reqwest::Client::new();
    for (name, first, second) in [
        ("x-forwarded-uri", "/public/x", "/deny/x"),
        (
            "x-forwarded-host",
            "files.example.test",
            "closed.example.test",
        ),
    ] {
        let mut req = anon
            .get(server.url("/api/v1/forward-auth/traefik"))
            .header("x-forwarded-method", "GET")
            .header("x-forwarded-proto", "https");
        for h in ["x-forwarded-uri", "x-forwarded-host"] {
            if h != name {
                req = req.header(
                    h,
                    if h == "x-forwarded-uri" {
                        "/public/x"
                    } else {
                        "files.example.test"
                    },
                );
            }
        }
        let r = req
            .header(name, first)
            .header(name, second)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "two {name} lines");
    }
    let r = super::traefik(&anon, &server, "files.example.test", "/public/x")
        .header("x-forwarded-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "two X-Forwarded-Method lines");
    let r = anon
        .get(server.url("/api/v1/forward-auth/nginx"))
        .header("x-original-url", "https://files.example.test/public/x")
        .header("x-original-url", "https://files.example.test/deny/x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "two X-Original-URL lines");
    // Sanity: one line each is a decision.
    let r = super::traefik(&anon, &server, "files.example.test", "/public/x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
