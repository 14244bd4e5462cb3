//! The login pages in a real headless browser (Debian's Chromium, driven by
//! playwright-core from tests/browser): password, TOTP challenge, home, devices, logout.

use std::process::Command;

use serde_json::{Value, json};

use crate::common::{Backend, Server, TestDb, browser, text};
use crate::two_factor::oathtool;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_totp_in_chromium() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    // Alice enrolls TOTP through the API.
    let http = browser();
    http.post(server.url("/api/v1/login"))
        .json(&json!({"uid": "alice", "password": "password-a"}))
        .send()
        .await
        .unwrap();
    let e: Value = http
        .post(server.url("/api/v1/2fa/totp"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = e["secret"].as_str().unwrap().to_string();
    let r = http
        .post(server.url("/api/v1/2fa/totp/verify"))
        .json(&json!({"code": oathtool(&secret, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/login.mjs");
    let out = Command::new("node")
        .arg(script)
        .env(
            "TWOFOLD_BASE",
            server.url("").replace("127.0.0.1", "localhost"),
        )
        .env("TWOFOLD_UID", "alice")
        .env("TWOFOLD_PASSWORD", "password-a")
        .env("TWOFOLD_TOTP_SECRET", &secret)
        .output()
        .expect("node is installed");
    assert!(
        out.status.success(),
        "browser run failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let seen: Value = serde_json::from_str(text(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(seen["loginTitle"], "Sign in · twofold");
    assert_eq!(seen["challengeHeading"], "Two-factor authentication");
    assert_eq!(seen["wrongCode"], "That code is not valid. Try again.");
    assert_eq!(seen["signedIn"], "Signed in as alice (alice)");
    assert_eq!(seen["loggedOut"], true);
    // The live hint ran in the browser (its script allowed by the CSP) and said why.
    assert_eq!(seen["passwordTitle"], "Change your password · twofold");
    let hint = seen["passwordHint"].as_str().unwrap_or_default();
    assert!(hint.contains("common"), "{hint}");
    // The app password the browser was shown works for a sync client.
    let pw = seen["appPassword"].as_str().unwrap();
    let me = reqwest::Client::new()
        .get(server.url("/api/v1/me"))
        .basic_auth("alice", Some(pw))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
}

/// Push approval between two Chromium "devices" (tests/browser/push.mjs): the waiting
/// login goes on by itself once the other device picks the right number; a rejection
/// is shown on the waiting page; the banner speaks the approver's language.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_approval_between_two_chromium_devices() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let (http, secret) = crate::two_factor::enroll_totp(&server, "alice", "password-a").await;
    // An app password made with two factors is one more way to approve: push can go on.
    let r = http
        .post(server.url("/api/v1/app-passwords"))
        .json(&json!({"name": "phone app"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http
        .post(server.url("/api/v1/2fa/push/enroll/finish"))
        .json(&json!({"answer": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/push.mjs");
    let out = Command::new("node")
        .arg(script)
        .env(
            "TWOFOLD_BASE",
            server.url("").replace("127.0.0.1", "localhost"),
        )
        .env("TWOFOLD_UID", "alice")
        .env("TWOFOLD_PASSWORD", "password-a")
        .env("TWOFOLD_TOTP_SECRET", &secret)
        .output()
        .expect("node is installed");
    assert!(
        out.status.success(),
        "browser run failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let seen: Value = serde_json::from_str(text(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(seen["sameAfterReload"], true, "{seen}");
    assert_eq!(
        seen["bannerTitle"],
        "Quelqu'un se connecte à votre compte. Est-ce vous ?"
    );
    assert_eq!(seen["choices"], 3);
    assert_eq!(seen["signedIn"], "Signed in as alice (alice)");
    assert_eq!(
        seen["rejected"],
        "The sign-in request was rejected or expired. Send a new one, or use another method."
    );
    assert_eq!(seen["stillAtChallenge"], true);
    // One request per login, whatever the reloads: two logins, two requests.
    let store = db.store().await;
    let prompts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM push_approvals")
        .fetch_one(store.reader())
        .await
        .unwrap();
    assert_eq!(prompts, 2);
}
