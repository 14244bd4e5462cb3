//! The second review's defects (issue 16), one test each, named after the item. Each
//! failed on the code before its fix.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{
    Backend, Server, TestDb, api_login, bootstrap_password, both, browser, csrf_of, sql, sql_count,
};
use crate::two_factor::oathtool;

both!(
    every_api_route_has_its_row_and_keeps_it,
    defect_16_1_an_enrollment_belongs_to_the_session_that_began_it,
    defect_16_5_admin_changes_need_a_recent_sign_in,
    defect_16_8_a_login_racing_a_disable_makes_no_session,
    defect_24_8_an_unknown_user_name_is_not_stored_in_the_clear,
    defect_24_4_sessions_per_user_are_bounded,
    defect_24_3_the_audit_trail_is_pruned_after_its_retention
);

async fn totp_active(db: &TestDb, uid: &str) -> bool {
    db.store().await.totp(uid).await.unwrap().is_some()
}

async fn verify(server: &Server, http: &reqwest::Client, code: &str) -> reqwest::Response {
    http.post(server.url("/api/v1/2fa/totp/verify"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
}

async fn qr_status(server: &Server, http: &reqwest::Client) -> StatusCode {
    http.get(server.url("/api/v1/2fa/totp/qr.png"))
        .send()
        .await
        .unwrap()
        .status()
}

/// A TOTP setup in progress is state of the session that began it: no other session of
/// the user sees or confirms it, it expires, finishing it needs the same recent sign-in
/// as beginning it, and confirming it does not renew the session's sign-in time.
async fn defect_16_1_an_enrollment_belongs_to_the_session_that_began_it(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    db.add_user("bob", "password-b");
    let server = Server::start(&db).await;
    let (owner, other) = (browser(), browser());
    api_login(&owner, &server, "alice", "password-a").await;
    api_login(&other, &server, "alice", "password-a").await;
    let r = owner
        .post(server.url("/api/v1/2fa/totp"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let secret = r.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();

    // Another session of the same user neither sees the secret nor confirms it.
    assert_eq!(qr_status(&server, &other).await, StatusCode::NOT_FOUND);
    let page = other
        .get(server.url("/settings/security"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains(&secret),
        "the security page of another session"
    );
    let r = verify(&server, &other, &oathtool(&secret, 0)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(!totp_active(&db, "alice").await);
    assert_eq!(qr_status(&server, &owner).await, StatusCode::OK);

    // Past the re-authentication window, the beginning session cannot finish either.
    sql(&db, "UPDATE sessions SET auth_at = 0").await;
    let r = verify(&server, &owner, &oathtool(&secret, 0)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("reauth_required"));
    assert!(!totp_active(&db, "alice").await);

    // After confirming the password it can; the confirmation keeps the sign-in time.
    let r = owner
        .post(server.url("/api/v1/reauth"))
        .json(&json!({"password": "password-a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    sql(
        &db,
        "UPDATE sessions SET auth_at = auth_at - 60 WHERE auth_at > 0",
    )
    .await;
    let signed_in_at = sql_count(&db, "SELECT MAX(auth_at) FROM sessions").await;
    let r = verify(&server, &owner, &oathtool(&secret, 0)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(totp_active(&db, "alice").await);
    assert_eq!(
        sql_count(&db, "SELECT MAX(auth_at) FROM sessions").await,
        signed_in_at,
        "a new factor is not a new sign-in"
    );
    assert_eq!(
        sql_count(&db, "SELECT COUNT(*) FROM sessions WHERE factors = 2").await,
        1,
        "the confirming session has proved two factors, the other has not"
    );

    // A setup expires.
    let bob = browser();
    api_login(&bob, &server, "bob", "password-b").await;
    let r = bob
        .post(server.url("/api/v1/2fa/totp"))
        .send()
        .await
        .unwrap();
    let secret = r.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    sql(&db, "UPDATE ceremonies SET expires_at = 1").await;
    assert_eq!(qr_status(&server, &bob).await, StatusCode::NOT_FOUND);
    let r = verify(&server, &bob, &oathtool(&secret, 0)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(!totp_active(&db, "bob").await);
}

/// An admin session past the re-authentication window may look but not change: removing
/// a user's factor, switching a provider off and changing enforcement are refused
/// (API: 403 `reauth_required`; pages: sent to confirm the password) and change nothing,
/// until the admin confirms their password.
async fn defect_16_5_admin_changes_need_a_recent_sign_in(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let admin_pw = bootstrap_password(&server);
    db.add_user("alice", "password-a");
    crate::two_factor::enroll_totp(&server, "alice", "password-a").await;
    let admin = browser();
    api_login(&admin, &server, "admin", &admin_pw).await;
    let html = admin
        .get(server.url("/admin/security"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);
    sql(&db, "UPDATE sessions SET auth_at = 0").await;

    let changes = [
        (
            "PUT",
            "/api/v1/admin/enforcement",
            Some(json!({"enforced": true})),
        ),
        (
            "PUT",
            "/api/v1/admin/providers/totp",
            Some(json!({"enabled": false})),
        ),
        ("DELETE", "/api/v1/admin/users/alice/2fa/totp", None),
    ];
    for (method, path, body) in &changes {
        let req = match *method {
            "PUT" => admin.put(server.url(path)),
            _ => admin.delete(server.url(path)),
        };
        let req = match body {
            Some(b) => req.json(b),
            None => req,
        };
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(
            r.text().await.unwrap().contains("reauth_required"),
            "{path}"
        );
    }
    for (path, form) in [
        ("/admin/security/enforcement", vec![("enforced", "on")]),
        (
            "/admin/security/providers",
            vec![("provider", "totp"), ("enabled", "false")],
        ),
        (
            "/admin/security/reset",
            vec![("uid", "alice"), ("provider", "totp")],
        ),
    ] {
        let mut form = form;
        form.push(("csrf", &csrf));
        let r = admin
            .post(server.url(path))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            r.headers()["location"],
            "/settings/reauth?next=/admin/security",
            "{path}"
        );
    }
    // Nothing changed.
    let e: Value = admin
        .get(server.url("/api/v1/admin/enforcement"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(e["enforced"], false);
    assert!(db.store().await.totp("alice").await.unwrap().is_some());
    assert_eq!(
        sql_count(
            &db,
            "SELECT COUNT(*) FROM provider_settings WHERE enabled = 0"
        )
        .await,
        0,
        "no provider was switched off"
    );

    // After confirming the password, the same changes go through.
    let r = admin
        .post(server.url("/api/v1/reauth"))
        .json(&json!({"password": admin_pw}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = admin
        .delete(server.url("/api/v1/admin/users/alice/2fa/totp"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert!(db.store().await.totp("alice").await.unwrap().is_none());
}

/// The session is stored only while its user is enabled, checked in the same statement:
/// a login whose password was checked just before the user was disabled (or deleted)
/// leaves no session behind.
async fn defect_16_8_a_login_racing_a_disable_makes_no_session(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    db.add_user("bob", "password-b");
    let out = db.cli(&["user", "disable", "alice"], "");
    assert!(out.status.success());
    // The CLI says when a running server applies it (SQLite: the change-log poll).
    let said = crate::common::text(&out.stdout);
    let expected = match backend {
        Backend::Sqlite => "within 100 ms",
        Backend::Postgres => "at once",
    };
    assert!(said.contains(expected), "{said}");
    let store = db.store().await;
    let row = |uid: &str| twofold::store::SessionRow {
        id: format!("s-{uid}"),
        token_hash: format!("h-{uid}"),
        uid: uid.to_string(),
        stage: "authenticated".into(),
        remember: 0,
        created_at: 1,
        last_seen_at: 1,
        expires_at: i64::MAX / 2,
        ip: String::new(),
        user_agent: String::new(),
        factors: 1,
        auth_at: 1,
    };
    assert!(
        !store.insert_session(&row("alice")).await.unwrap(),
        "disabled"
    );
    assert!(
        !store.insert_session(&row("nobody")).await.unwrap(),
        "deleted"
    );
    assert!(store.insert_session(&row("bob")).await.unwrap());
    assert_eq!(sql_count(&db, "SELECT COUNT(*) FROM sessions").await, 1);
}

/// The rows of the table "What each request needs" in docs/security.md:
/// (method, path, requirement).
fn requirement_rows() -> Vec<(String, String, String)> {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/security.md"),
    )
    .unwrap();
    let section = doc
        .split("## What each request needs")
        .nth(1)
        .expect("docs/security.md has the table of what each request needs");
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            match cells.as_slice() {
                [m, p, n] if p.starts_with('/') => {
                    Some((m.to_string(), p.to_string(), n.to_string()))
                }
                _ => None,
            }
        })
        .collect()
}

/// A concrete path for a templated one (the requirement is checked before the names
/// are looked up).
fn concrete(path: &str) -> String {
    path.replace("{provider}", "webauthn")
        .replace("{id}", "totp")
        .replace("{uid}", "alice")
}

/// A body that gets past the input checks to the requirement, for the changes.
fn body_for(method: &str, path: &str) -> Option<Value> {
    match (method, path) {
        ("POST", "/api/v1/app-passwords") => Some(json!({"name": "x"})),
        ("POST", "/api/v1/push/subscriptions") => Some(json!({
            "endpoint": "https://fcm.googleapis.com/fcm/send/x",
            "keys": {"p256dh": "x", "auth": "y"}
        })),
        ("POST", "/api/v1/login/challenge/begin") => Some(json!({"provider": "totp"})),
        ("POST", "/api/v1/login/challenge") => Some(json!({"provider": "totp", "code": "1"})),
        ("POST", "/api/v1/2fa/totp/verify") => Some(json!({"code": "123456"})),
        ("POST", "/api/v1/2fa/{provider}/enroll") => Some(json!({})),
        ("POST", "/api/v1/2fa/{provider}/enroll/finish") => Some(json!({"answer": "123456"})),
        ("POST", "/api/v1/password") => {
            Some(json!({"current_password": "x", "new_password": "y-long-enough-1"}))
        }
        ("POST", "/api/v1/reauth") => Some(json!({"password": "x"})),
        ("PUT", "/api/v1/admin/enforcement") => Some(json!({"enforced": false})),
        ("PUT", "/api/v1/admin/providers/{id}") => Some(json!({"enabled": true})),
        ("PATCH", "/api/v1/2fa/{provider}/credentials/{id}") => Some(json!({"name": "x"})),
        _ => None,
    }
}

async fn send(
    server: &Server,
    http: &reqwest::Client,
    method: &str,
    path: &str,
) -> (StatusCode, String) {
    let url = server.url(&concrete(path));
    // As the pages' script does: past the cross-site guard to the requirement.
    let req = http
        .request(method.parse().unwrap(), url)
        .header("x-requested-with", "fetch");
    let req = match body_for(method, path) {
        Some(b) => req.json(&b),
        None => req,
    };
    let r = req.send().await.unwrap();
    (r.status(), r.text().await.unwrap_or_default())
}

/// docs/security.md's table names every route of the API once, and each route asks for
/// what its row says: no session → 401; a user's session for an admin row → 403; a
/// session signed in long ago for a `recent` row (and for starting or finishing an
/// enrollment) → 403 `reauth_required`.
async fn every_api_route_has_its_row_and_keeps_it(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let admin_pw = bootstrap_password(&server);
    db.add_user("alice", "password-a");
    let rows = requirement_rows();
    let doc: Value = reqwest::get(server.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut routes = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.insert((method.to_uppercase(), path.clone()));
        }
    }
    let mut documented = std::collections::BTreeSet::new();
    for (m, p, _) in &rows {
        assert!(
            documented.insert((m.clone(), p.clone())),
            "{m} {p} has two rows in docs/security.md"
        );
    }
    let missing: Vec<_> = routes.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&routes).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "docs/security.md: routes without a row {missing:?}; rows without a route {stale:?}"
    );

    let stranger = reqwest::Client::new();
    let user = browser();
    api_login(&user, &server, "alice", "password-a").await;
    let admin = browser();
    api_login(&admin, &server, "admin", &admin_pw).await;
    let mut probed = 0;
    for (method, path, needs) in &rows {
        let signed_in = [
            "login",
            "enrolling",
            "signed_in",
            "recent",
            "password",
            "admin",
            "admin_recent",
        ];
        assert!(
            needs == "public" || signed_in.contains(&needs.as_str()),
            "{method} {path}: unknown requirement {needs}"
        );
        if needs == "public" {
            continue;
        }
        let (status, body) = send(&server, &stranger, method, path).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a session: {body}"
        );
        if needs.starts_with("admin") {
            let (status, body) = send(&server, &user, method, path).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{method} {path} as a user: {body}"
            );
            assert!(body.contains("\"forbidden\""), "{method} {path}: {body}");
        }
        probed += 1;
    }
    // Past the re-authentication window.
    sql(&db, "UPDATE sessions SET auth_at = 0").await;
    for (method, path, needs) in &rows {
        let who = match needs.as_str() {
            "recent" => &user,
            "enrolling" if method != "GET" => &user,
            "admin_recent" => &admin,
            _ => continue,
        };
        let (status, body) = send(&server, who, method, path).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{method} {path} long after sign-in: {body}"
        );
        assert!(body.contains("reauth_required"), "{method} {path}: {body}");
        probed += 1;
    }
    assert!(probed > 30, "{probed} probes");
}

/// People type their password into the name box: a failed login for a name nobody has is
/// counted as `unknown`, never the typed text (a throttle event names it by `unknown:`
/// and a keyed hash); a known user's failure names the user.
async fn defect_24_8_an_unknown_user_name_is_not_stored_in_the_clear(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    for (uid, password) in [
        ("Tr0ub4dor-secret", "x"),
        ("Tr0ub4dor-secret", "y"),
        ("alice", "wrong"),
    ] {
        let r = reqwest::Client::new()
            .post(server.url("/api/v1/login"))
            .json(&json!({"uid": uid, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let count = |q| sql_count(&db, q);
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_log WHERE target LIKE '%Tr0ub4dor%' OR detail LIKE '%Tr0ub4dor%' OR actor LIKE '%Tr0ub4dor%'").await,
        0
    );
    // Failures of unknown names are one counted row per address and hour (issue 24).
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_log WHERE event = 'login_failed' AND target = 'unknown' AND repeats = 2").await,
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_log WHERE event = 'login_failed' AND target = 'alice'")
            .await,
        1
    );
}

/// A user keeps at most `session.max_per_user` sessions: signing in again and again ends
/// the longest idle ones, not the new one.
async fn defect_24_4_sessions_per_user_are_bounded(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    db.add_user("bob", "password-b");
    let server = Server::start_with(&db, &[("TWOFOLD_SESSION_MAX_PER_USER", "3")]).await;
    let bob = browser();
    api_login(&bob, &server, "bob", "password-b").await;
    let mut browsers = Vec::new();
    for _ in 0..5 {
        // The sessions before this one were last seen longer ago.
        sql(
            &db,
            "UPDATE sessions SET last_seen_at = last_seen_at - 100 WHERE uid = 'alice'",
        )
        .await;
        let b = browser();
        api_login(&b, &server, "alice", "password-a").await;
        browsers.push(b);
    }
    assert_eq!(
        sql_count(&db, "SELECT COUNT(*) FROM sessions WHERE uid = 'alice'").await,
        3
    );
    let status = |b: &reqwest::Client| {
        let r = b.get(server.url("/api/v1/session")).send();
        async move { r.await.unwrap().status() }
    };
    assert_eq!(
        status(&browsers[0]).await,
        StatusCode::UNAUTHORIZED,
        "the oldest ended"
    );
    assert_eq!(
        status(&browsers[4]).await,
        StatusCode::OK,
        "the newest kept"
    );
    assert_eq!(
        status(&bob).await,
        StatusCode::OK,
        "another user's sessions untouched"
    );
}

/// Events older than `log.audit_retention_days` (180) go: `twofold audit prune` deletes
/// them (in batches) and says what remains; the listing says how big the trail is.
async fn defect_24_3_the_audit_trail_is_pruned_after_its_retention(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    sql(
        &db,
        "INSERT INTO audit_log (id, at, event, actor, target, ip, user_agent, detail)
         VALUES ('old-1', 1000, 'login_failed', '', 'alice', '', '', ''),
                ('old-2', 2000, 'login_failed', '', 'alice', '', '', ''),
                ('new-1', 4102444800, 'login_failed', '', 'alice', '', '', '')",
    )
    .await;
    let total = "SELECT COUNT(*) FROM audit_log";
    let before = sql_count(&db, total).await;
    assert_eq!(before, 3);
    let out = db.cli(&["audit"], "");
    assert!(out.status.success());
    let said = crate::common::text(&out.stderr);
    assert!(
        said.contains(&format!("{before} events in the audit trail")),
        "{said}"
    );
    let out = db.cli(&["audit", "prune"], "");
    assert!(out.status.success(), "{}", crate::common::text(&out.stderr));
    let said = crate::common::text(&out.stdout);
    assert!(said.contains("deleted 2 audit events"), "{said}");
    assert_eq!(
        sql_count(&db, total).await,
        before - 2,
        "the recent ones stay"
    );
    // Keeping everything: prune needs an explicit age, and bad ages are refused.
    let keep_all = db
        .env()
        .into_iter()
        .chain([(
            "TWOFOLD_LOG_AUDIT_RETENTION_DAYS".to_string(),
            "0".to_string(),
        )])
        .collect::<Vec<_>>();
    let out = crate::common::run_cli(&keep_all, &["audit", "prune"], "");
    assert!(!out.status.success());
    let out = db.cli(&["audit", "prune", "--older-than", "3w"], "");
    assert!(!out.status.success());
    assert_eq!(sql_count(&db, total).await, before - 2, "nothing more went");
}

/// One client cannot take every connection slot: past `max_connections_per_address`
/// its new connections are closed at once while another address is still served; and a
/// request head larger than `max_header_bytes` gets 431 instead of being held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_24_5_one_address_cannot_hold_every_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = TestDb::new(Backend::Sqlite).await;
    let server = Server::start_with(
        &db,
        &[
            ("TWOFOLD_SERVER_MAX_CONNECTIONS_PER_ADDRESS", "3"),
            ("TWOFOLD_SERVER_MAX_HEADER_BYTES", "16384"),
        ],
    )
    .await;
    let addr: std::net::SocketAddr = server
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let from = |source: &str| {
        let source: std::net::IpAddr = source.parse().unwrap();
        async move {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind((source, 0).into()).unwrap();
            socket.connect(addr).await.unwrap()
        }
    };
    // Three half-sent requests hold the address's three slots (from an address of its
    // own: the test harness's readiness check keeps a connection from 127.0.0.1).
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut c = from("127.0.0.3").await;
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        held.push(c);
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut fourth = from("127.0.0.3").await;
    let _ = fourth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), fourth.read(&mut buf))
        .await
        .expect("closed at once, not left waiting")
        .unwrap_or(0);
    assert_eq!(
        n,
        0,
        "the fourth connection from one address is closed: {:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    // Another address is served meanwhile.
    let mut other = from("127.0.0.2").await;
    other
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    other.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A slot comes back when its connection closes.
    drop(held.pop());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut again = from("127.0.0.3").await;
    again
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    again.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A head past the bound is refused, not held.
    let mut big = from("127.0.0.2").await;
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(40_000)
    );
    let _ = big.write_all(head.as_bytes()).await;
    let mut answer = String::new();
    let _ = big.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.40}");
}
