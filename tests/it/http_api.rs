//! The real binary over HTTP: health, the JSON login API, cookies, bad input, fail closed.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Backend, Server, TestDb, bootstrap_password, both, browser};

both!(
    first_start_bootstraps_an_admin_who_can_log_in,
    api_login_session_and_logout,
    unknown_user_and_wrong_password_get_the_same_answer,
    bad_requests_get_clear_errors_and_create_nothing,
    disabling_a_user_ends_their_sessions,
    defect_17_6_the_first_password_is_kept_out_of_the_journal,
);

/// Under systemd stdout is the journal: without a terminal the first administrator
/// password goes to a private file whose path is logged, never to stdout or stderr.
async fn defect_17_6_the_first_password_is_kept_out_of_the_journal(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let file = db.dir.path().join("first-admin-password.txt");
    let text = std::fs::read_to_string(&file).expect("the password file");
    assert!(text.contains("user:     admin"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        server.stderr().contains("first-admin-password.txt"),
        "the log names the file: {}",
        server.stderr()
    );
    // bootstrap_password also checks that stdout and the log do not hold it.
    let password = bootstrap_password(&server);
    assert!(
        !server.stdout().contains("password:"),
        "{}",
        server.stdout()
    );
    assert!(password.len() >= 20);
}

async fn first_start_bootstraps_an_admin_who_can_log_in(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let password = bootstrap_password(&server);
    assert!(password.len() >= 20);
    let http = browser();
    let r = http
        .post(server.url("/api/v1/login"))
        .json(&json!({"uid": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let me: Value = http
        .get(server.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["uid"], "admin");
    assert_eq!(me["is_admin"], true);
    assert!(me.get("password_hash").is_none());
    // The key file is private; a second start does not bootstrap again.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(db.dir.path().join("server.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    drop(server);
    let again = Server::start(&db).await;
    assert!(!again.stdout().contains("password:"));
}

async fn api_login_session_and_logout(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = browser();

    assert_eq!(
        http.get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let r = http
        .post(server.url("/api/v1/login"))
        .json(&json!({"uid": "alice", "password": "password-a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = crate::common::session_set_cookie(&r);
    assert!(cookie.starts_with("twofold_session="));
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http on localhost: {cookie}"
    );
    assert!(
        !cookie.contains("Max-Age"),
        "without remember-me the cookie dies with the browser"
    );
    let first_token = cookie_value(&cookie);
    assert!(r.headers().contains_key("content-security-policy"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"uid": "alice", "stage": "authenticated"}));

    let session: Value = http
        .get(server.url("/api/v1/session"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["stage"], "authenticated");
    assert_eq!(session["remember"], false);

    // Logging in again from the same browser replaces the session (new token, old one gone).
    let r = http
        .post(server.url("/api/v1/login"))
        .json(&json!({"uid": "alice", "password": "password-a", "remember": true}))
        .send()
        .await
        .unwrap();
    let cookie = crate::common::session_set_cookie(&r);
    assert!(cookie.contains("Max-Age=2592000"), "{cookie}");
    assert_ne!(cookie_value(&cookie), first_token);
    let stale = reqwest::Client::new()
        .get(server.url("/api/v1/me"))
        .header("cookie", format!("twofold_session={first_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 401);
    let store = db.store().await;
    assert_eq!(
        store
            .sessions_of("alice", twofold::app::now())
            .await
            .unwrap()
            .len(),
        1
    );

    let r = http
        .post(server.url("/api/v1/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        http.get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert!(
        store
            .sessions_of("alice", twofold::app::now())
            .await
            .unwrap()
            .is_empty()
    );
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string()
}

async fn unknown_user_and_wrong_password_get_the_same_answer(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = reqwest::Client::new();
    let mut answers = Vec::new();
    for (uid, pw) in [("alice", "wrong-password"), ("nobody", "password-a")] {
        let r = http
            .post(server.url("/api/v1/login"))
            .json(&json!({"uid": uid, "password": pw}))
            .send()
            .await
            .unwrap();
        assert!(r.headers().get("set-cookie").is_none());
        answers.push((r.status(), r.text().await.unwrap()));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, 401);
    assert!(answers[0].1.contains("invalid_credentials"));
}

async fn bad_requests_get_clear_errors_and_create_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = reqwest::Client::new();
    let url = server.url("/api/v1/login");
    let huge = format!(
        "{{\"uid\":\"alice\",\"password\":\"{}\"}}",
        "x".repeat(100_000)
    );
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (
            http.post(&url)
                .header("content-type", "application/json")
                .body("{\"uid\":"),
            400,
            "bad_request",
        ),
        (
            http.post(&url)
                .header("content-type", "application/json")
                .body("[]"),
            400,
            "bad_request",
        ),
        (
            http.post(&url).json(&json!({"uid": "alice"})),
            400,
            "password",
        ),
        (
            http.post(&url)
                .json(&json!({"uid": "alice", "password": "password-a", "admin": true})),
            400,
            "admin",
        ),
        (
            http.post(&url).body("uid=alice&password=password-a"),
            415,
            "unsupported_media_type",
        ),
        (
            http.post(&url)
                .header("content-type", "application/json")
                .body(huge),
            413,
            "payload_too_large",
        ),
    ];
    for (request, status, needle) in cases {
        let r = request.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status);
        assert!(r.headers().get("set-cookie").is_none());
        let body = r.text().await.unwrap();
        assert!(body.contains(needle), "{status}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert!(v["error"]["message"].is_string());
    }
    let store = db.store().await;
    assert!(
        store
            .sessions_of("alice", twofold::app::now())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        http.get(server.url("/nope")).send().await.unwrap().status(),
        404
    );
}

async fn disabling_a_user_ends_their_sessions(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = browser();
    let login = json!({"uid": "alice", "password": "password-a"});
    assert_eq!(
        http.post(server.url("/api/v1/login"))
            .json(&login)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(db.cli(&["user", "disable", "alice"], "").status.success());
    assert_eq!(
        http.get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        http.post(server.url("/api/v1/login"))
            .json(&login)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

/// When the database goes away nobody gets in, and /readyz says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_closed_when_the_database_is_gone() {
    let db = TestDb::new(Backend::Postgres).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = browser();
    let login = json!({"uid": "alice", "password": "password-a"});
    assert_eq!(
        http.post(server.url("/api/v1/login"))
            .json(&login)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    db.drop_database().await;
    assert_eq!(
        http.get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    assert_eq!(
        http.get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    let r = http
        .post(server.url("/api/v1/login"))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("set-cookie").is_none());
    let body = r.text().await.unwrap();
    assert!(
        !body.contains("database"),
        "no internal detail to clients: {body}"
    );
    // The page does not show a login either.
    let page = http.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 503);
    assert_eq!(
        http.get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
