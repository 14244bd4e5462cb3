//! Push approval (issue 18) through the JSON API: a login waits after its password, and
//! another session of the user holding two factors (or a two-factor app password)
//! approves it by picking the number the login shows. Number matching, single decision,
//! self-approval, other users, fatigue pause, the live streams, and two instances on
//! one PostgreSQL.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, Server, TestDb, api_login, both, browser, config_file, sql_count};
use crate::two_factor::{challenge, enroll_totp, oathtool};

/// Alice with TOTP, and push on: returns a session holding two factors (the one that
/// set TOTP up), the one that turned push on, and the TOTP secret.
async fn alice_with_push(server: &Server) -> (Client, Client, String) {
    let (first, secret) = enroll_totp(server, "alice", "password-a").await;
    let second = browser();
    api_login(&second, server, "alice", "password-a").await;
    // The next time step: the enrollment's code is used up (replay guard).
    let r = challenge(&second, server, "totp", &oathtool(&secret, 30)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = second
        .post(server.url("/api/v1/2fa/push/enroll/finish"))
        .json(&json!({"answer": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    (first, second, secret)
}

const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// A new login of alice from Firefox, waiting at the second factor.
async fn waiting_login(server: &Server) -> Client {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .user_agent(FIREFOX)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let body = api_login(&http, server, "alice", "password-a").await;
    assert_eq!(body["stage"], "second_factor_pending");
    http
}

async fn begin(http: &Client, server: &Server) -> reqwest::Response {
    http.post(server.url("/api/v1/login/challenge/begin"))
        .json(&json!({"provider": "push"}))
        .send()
        .await
        .unwrap()
}

async fn list(http: &Client, server: &Server) -> reqwest::Response {
    http.get(server.url("/api/v1/approvals"))
        .send()
        .await
        .unwrap()
}

async fn decide(http: &Client, server: &Server, id: &str, body: Value) -> reqwest::Response {
    http.post(server.url(&format!("/api/v1/approvals/{id}")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn stage(http: &Client, server: &Server) -> Value {
    let r = challenge(http, server, "push", "").await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    json!({"status": status.as_u16(), "body": body})
}

both!(approving_with_the_right_number_signs_the_waiting_login_in);

async fn approving_with_the_right_number_signs_the_waiting_login_in(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let (approver, _, _) = alice_with_push(&server).await;
    let waiting = waiting_login(&server).await;

    let providers: Value = waiting
        .get(server.url("/api/v1/login/providers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        providers["providers"]
            .as_array()
            .unwrap()
            .contains(&json!("push")),
        "{providers}"
    );
    let r = begin(&waiting, &server).await;
    assert_eq!(r.status(), 200);
    let prompt: Value = r.json().await.unwrap();
    let id = prompt["approval_id"].as_str().unwrap().to_string();
    let number = prompt["number"].as_i64().unwrap();
    assert!((10..=99).contains(&number), "{prompt}");
    assert!(prompt["expires_at"].as_i64().unwrap() > 0);
    // A reload or a second begin shows the same prompt, never a second one.
    let again: Value = begin(&waiting, &server).await.json().await.unwrap();
    assert_eq!(again["approval_id"], prompt["approval_id"]);
    assert_eq!(again["number"], prompt["number"]);
    assert_eq!(
        sql_count(&db, "SELECT COUNT(*) FROM push_approvals").await,
        1
    );

    // The approver sees it with three numbers, one of them the right one, and never
    // which.
    let r = list(&approver, &server).await;
    assert_eq!(r.status(), 200);
    let shown: Value = r.json().await.unwrap();
    assert_eq!(shown.as_array().unwrap().len(), 1, "{shown}");
    assert_eq!(shown[0]["id"], id.as_str());
    let choices: Vec<i64> = shown[0]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(choices.len(), 3);
    assert!(choices.contains(&number));
    assert!(shown[0].get("number").is_none(), "{shown}");
    let device = shown[0]["device"].as_str().unwrap();
    assert!(device.starts_with("Firefox on Windows"), "{device}");

    // Waiting: the login says so, and is let in nowhere.
    let s = stage(&waiting, &server).await;
    assert_eq!(s["body"]["stage"], "awaiting_approval", "{s}");
    let r = list(&waiting, &server).await;
    assert_eq!(r.status(), 401, "a half-signed-in session decides nothing");
    let r = decide(
        &waiting,
        &server,
        &id,
        json!({"decision": "approve", "number": number}),
    )
    .await;
    assert_eq!(r.status(), 401);

    // Approving needs the number.
    let r = decide(&approver, &server, &id, json!({"decision": "approve"})).await;
    assert_eq!(r.status(), 400);
    let r = decide(&approver, &server, &id, json!({"decision": "maybe"})).await;
    assert_eq!(r.status(), 400);
    let r = decide(
        &approver,
        &server,
        &id,
        json!({"decision": "approve", "number": number}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["decision"], "approved");
    // Decided once.
    let r = decide(&approver, &server, &id, json!({"decision": "reject"})).await;
    assert_eq!(r.status(), 409);

    let s = stage(&waiting, &server).await;
    assert_eq!(s["body"]["stage"], "authenticated", "{s}");
    let me = waiting.get(server.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(me.status(), 200);
    // The approval was used: it lets nobody else in.
    let s = stage(&waiting, &server).await;
    assert_eq!(s["status"], 400, "{s}");
    for event in ["push_requested", "push_approved"] {
        let n: i64 = sqlx_count_event(&db, event).await;
        assert_eq!(n, 1, "{event}");
    }
}

async fn sqlx_count_event(db: &TestDb, event: &str) -> i64 {
    let store = db.store().await;
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE event = $1")
        .bind(event)
        .fetch_one(store.reader())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_number_or_a_rejection_refuses_and_repeated_refusals_pause_push() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let (approver, _, _) = alice_with_push(&server).await;
    let waiting = waiting_login(&server).await;

    // A wrong pick rejects.
    let prompt: Value = begin(&waiting, &server).await.json().await.unwrap();
    let id = prompt["approval_id"].as_str().unwrap().to_string();
    let number = prompt["number"].as_i64().unwrap();
    let shown: Value = list(&approver, &server).await.json().await.unwrap();
    let wrong = shown[0]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .find(|n| *n != number)
        .unwrap();
    let r = decide(
        &approver,
        &server,
        &id,
        json!({"decision": "approve", "number": wrong}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["decision"], "wrong_number");
    let s = stage(&waiting, &server).await;
    assert_eq!(s["status"], 401, "{s}");
    assert_eq!(s["body"]["error"]["code"], "invalid_code", "{s}");
    let me = waiting.get(server.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(me.status(), 401, "not signed in");

    // A new prompt (a new id), rejected.
    let second: Value = begin(&waiting, &server).await.json().await.unwrap();
    assert_ne!(second["approval_id"], prompt["approval_id"]);
    let id2 = second["approval_id"].as_str().unwrap();
    let r = decide(&approver, &server, id2, json!({"decision": "reject"})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["decision"], "rejected");
    assert_eq!(stage(&waiting, &server).await["status"], 401);

    // The third refusal pauses push: no more prompts, other factors still offered.
    let third: Value = begin(&waiting, &server).await.json().await.unwrap();
    let id3 = third["approval_id"].as_str().unwrap();
    decide(&approver, &server, id3, json!({"decision": "reject"})).await;
    assert_eq!(stage(&waiting, &server).await["status"], 401);
    let r = begin(&waiting, &server).await;
    assert_eq!(r.status(), 429, "{}", r.text().await.unwrap());
    assert_eq!(sqlx_count_event(&db, "push_paused").await, 1);
    assert_eq!(sqlx_count_event(&db, "push_rejected").await, 3);
    let page = waiting
        .get(server.url("/login/challenge"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"push-paused\""), "{page}");
    assert!(
        page.contains("name=\"code\""),
        "the code form is still there"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_users_other_two_factor_sessions_and_app_passwords_decide() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    db.add_user("bob", "password-b");
    let server = Server::start(&db).await;
    let (approver, _, _) = alice_with_push(&server).await;
    let (bob, _) = enroll_totp(&server, "bob", "password-b").await;
    let waiting = waiting_login(&server).await;
    let prompt: Value = begin(&waiting, &server).await.json().await.unwrap();
    let id = prompt["approval_id"].as_str().unwrap().to_string();
    let number = prompt["number"].as_i64().unwrap();

    // Another user sees nothing and cannot decide it.
    let theirs: Value = list(&bob, &server).await.json().await.unwrap();
    assert_eq!(theirs, json!([]));
    let r = decide(
        &bob,
        &server,
        &id,
        json!({"decision": "approve", "number": number}),
    )
    .await;
    assert_eq!(r.status(), 404);
    // Unknown, malformed and overlong ids.
    for bad in ["nope", "%00", &"x".repeat(300)] {
        let r = decide(&approver, &server, bad, json!({"decision": "reject"})).await;
        assert!(r.status().is_client_error(), "{bad}: {}", r.status());
    }
    // A session with one factor (signed in before the user had a second one) cannot.
    let one = browser();
    api_login(&one, &server, "bob", "password-b").await;
    let r = list(&one, &server).await;
    assert_eq!(r.status(), 401, "bob's new login waits for his code");
    let store = db.store().await;
    sqlx::query("UPDATE sessions SET factors = 1 WHERE uid = 'alice' AND stage = 'authenticated'")
        .execute(store.writer())
        .await
        .unwrap();
    let r = list(&approver, &server).await;
    assert_eq!(r.status(), 403);
    let r = decide(
        &approver,
        &server,
        &id,
        json!({"decision": "approve", "number": number}),
    )
    .await;
    assert_eq!(r.status(), 403);
    sqlx::query("UPDATE sessions SET factors = 2 WHERE uid = 'alice' AND stage = 'authenticated'")
        .execute(store.writer())
        .await
        .unwrap();
    assert_eq!(
        sql_count(
            &db,
            "SELECT COUNT(*) FROM push_approvals WHERE state <> 'pending'"
        )
        .await,
        0,
        "nothing was decided"
    );

    // A two-factor app password (a phone app, a script) decides over HTTP Basic.
    let r = approver
        .post(server.url("/api/v1/app-passwords"))
        .json(&json!({"name": "phone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let app_pw = r.json::<Value>().await.unwrap()["password"]
        .as_str()
        .unwrap()
        .to_string();
    let app = reqwest::Client::new();
    let r = app
        .get(server.url("/api/v1/approvals"))
        .basic_auth("alice", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let shown: Value = app
        .get(server.url("/api/v1/approvals"))
        .basic_auth("alice", Some(&app_pw))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown[0]["id"], id.as_str());
    let r = app
        .post(server.url(&format!("/api/v1/approvals/{id}")))
        .basic_auth("alice", Some(&app_pw))
        .json(&json!({"decision": "approve", "number": number}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(
        stage(&waiting, &server).await["body"]["stage"],
        "authenticated"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_cannot_be_turned_on_without_another_device_to_approve() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let (only, _) = enroll_totp(&server, "alice", "password-a").await;
    let r = only
        .post(server.url("/api/v1/2fa/push/enroll/finish"))
        .json(&json!({"answer": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "{}", r.text().await.unwrap());
    let status: Value = only
        .get(server.url("/api/v1/2fa"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let on = status["providers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["provider"] == "push" && p["active"] == true);
    assert!(!on, "{status}");
}

/// Reads server-sent events from `r` until one of `event` whose data contains `needle`.
async fn wait_for_event(r: &mut reqwest::Response, event: &str, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut seen = String::new();
    loop {
        let chunk = tokio::time::timeout_at(deadline, r.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {event} event with {needle} in: {seen}"))
            .unwrap()
            .unwrap_or_else(|| panic!("the stream ended: {seen}"));
        seen.push_str(&String::from_utf8_lossy(&chunk));
        for block in seen.split("\n\n") {
            if block.contains(&format!("event: {event}")) && block.contains(needle) {
                return block.to_string();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_streams_bring_a_new_prompt_to_the_approver_and_the_decision_to_the_login() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let (approver, _, _) = alice_with_push(&server).await;
    // Connected before the prompt exists.
    let mut feed = approver
        .get(server.url("/api/v1/approvals/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    assert!(
        feed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    // Proxies must not hold the events back (nginx buffers unless told not to).
    assert_eq!(feed.headers()["x-accel-buffering"], "no");
    wait_for_event(&mut feed, "approvals", "[]").await;

    let waiting = waiting_login(&server).await;
    let mut wait = waiting
        .get(server.url("/api/v1/login/challenge/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(wait.status(), 200);
    assert_eq!(wait.headers()["x-accel-buffering"], "no");
    wait_for_event(&mut wait, "push", "\"none\"").await;
    let prompt: Value = begin(&waiting, &server).await.json().await.unwrap();
    let id = prompt["approval_id"].as_str().unwrap();
    wait_for_event(&mut feed, "approvals", id).await;
    wait_for_event(&mut wait, "push", "\"pending\"").await;

    let number = prompt["number"].as_i64().unwrap();
    decide(
        &approver,
        &server,
        id,
        json!({"decision": "approve", "number": number}),
    )
    .await;
    wait_for_event(&mut wait, "push", "\"approved\"").await;
    assert_eq!(
        stage(&waiting, &server).await["body"]["stage"],
        "authenticated"
    );
    // The approver's list empties again.
    wait_for_event(&mut feed, "approvals", "[]").await;
}

/// The login waits on instance A, the approval is given on instance B: A's stream hears
/// it through PostgreSQL's NOTIFY (several instances need PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_is_approved_across_two_instances_on_postgresql() {
    let db = TestDb::new(Backend::Postgres).await;
    db.add_user("alice", "password-a");
    let config = config_file(&db, "");
    let a = Server::start_with(&db, &[("TWOFOLD_CONFIG", &config)]).await;
    let b = Server::start_with(&db, &[("TWOFOLD_CONFIG", &config)]).await;
    for s in [&a, &b] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !s
            .stderr()
            .contains("listening for changes from other instances")
        {
            assert!(tokio::time::Instant::now() < deadline, "{}", s.stderr());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let (approver, _, _) = alice_with_push(&b).await;
    let waiting = waiting_login(&a).await;
    let prompt: Value = begin(&waiting, &a).await.json().await.unwrap();
    let id = prompt["approval_id"].as_str().unwrap();
    let mut wait = waiting
        .get(a.url("/api/v1/login/challenge/events"))
        .send()
        .await
        .unwrap();
    wait_for_event(&mut wait, "push", "\"pending\"").await;
    let number = prompt["number"].as_i64().unwrap();
    let r = decide(
        &approver,
        &b,
        id,
        json!({"decision": "approve", "number": number}),
    )
    .await;
    assert_eq!(r.status(), 200);
    // Heard through NOTIFY within the 15 s the reader waits: without it, A would look
    // again only at the prompt's expiry (2 minutes).
    wait_for_event(&mut wait, "push", "\"approved\"").await;
    assert_eq!(stage(&waiting, &a).await["body"]["stage"], "authenticated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_prompt_is_refused_once_decides_nothing_and_is_audited() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let (approver, _, _) = alice_with_push(&server).await;
    let waiting = waiting_login(&server).await;
    let prompt: Value = begin(&waiting, &server).await.json().await.unwrap();
    let id = prompt["approval_id"].as_str().unwrap();
    let number = prompt["number"].as_i64().unwrap();
    // Two minutes later (the clock moved by the database).
    let store = db.store().await;
    sqlx::query(
        "UPDATE push_approvals SET expires_at = expires_at - 600, created_at = created_at - 600",
    )
    .execute(store.writer())
    .await
    .unwrap();
    let shown: Value = list(&approver, &server).await.json().await.unwrap();
    assert_eq!(
        shown,
        json!([]),
        "an expired request is no one's to approve"
    );
    let r = decide(
        &approver,
        &server,
        id,
        json!({"decision": "approve", "number": number}),
    )
    .await;
    assert_eq!(r.status(), 409);
    let mut wait = waiting
        .get(server.url("/api/v1/login/challenge/events"))
        .send()
        .await
        .unwrap();
    wait_for_event(&mut wait, "push", "\"expired\"").await;
    let s = stage(&waiting, &server).await;
    assert_eq!(s["status"], 401, "{s}");
    assert_eq!(sqlx_count_event(&db, "push_expired").await, 1);
    // Told once: the next answer opens a new request.
    let s = stage(&waiting, &server).await;
    assert_eq!(s["body"]["stage"], "awaiting_approval", "{s}");
    assert_eq!(
        sql_count(
            &db,
            "SELECT COUNT(*) FROM push_approvals WHERE state = 'pending'"
        )
        .await,
        1
    );
}

/// Every signed-in page asks for the approvals stream: for a user without push the answer
/// is 204 (nothing will come, and `EventSource` does not reconnect), not an open stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_push_the_approvals_stream_is_not_held_open() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let (http, _) = enroll_totp(&server, "alice", "password-a").await;
    let r = http
        .get(server.url("/api/v1/approvals/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}
