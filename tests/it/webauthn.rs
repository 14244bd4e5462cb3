//! WebAuthn security keys in a real browser: Debian's Chromium with CDP virtual
//! authenticators, driven by tests/browser/webauthn.mjs.

use std::process::Command;

use serde_json::{Value, json};

use crate::common::{Backend, Server, TestDb, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_keys_in_chromium() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/webauthn.mjs");
    let out = Command::new("node")
        .arg(script)
        .env(
            "TWOFOLD_BASE",
            server.url("").replace("127.0.0.1", "localhost"),
        )
        .env("TWOFOLD_UID", "alice")
        .env("TWOFOLD_PASSWORD", "password-a")
        .output()
        .expect("node is installed");
    assert!(
        out.status.success(),
        "browser run failed:\n{}\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr),
        server.stderr()
    );
    let seen: Value = serde_json::from_str(text(&out.stdout).lines().last().unwrap()).unwrap();
    // Listed by date, then name (both were added within the same second here).
    assert_eq!(seen["keys"], json!(["Key A", "Key B"]));
    assert_eq!(seen["renamed"], json!(["Key A", "Key B2"]));
    assert_eq!(seen["challengeButton"], "Use your security key");
    assert_eq!(seen["signedInWithB"], "Signed in as alice (alice)");
    // A captured answer sent twice at once passes once; replayed later, it is refused.
    // The loser is 401 when both were in flight together (the answer or the session was
    // already taken), 400 when the browser sent it after the winner's new cookie arrived
    // (that session no longer waits for a second factor).
    let raced: Vec<u64> = serde_json::from_value(seen["raced"].clone()).unwrap();
    assert!(
        raced[0] == 200 && [400, 401].contains(&raced[1]),
        "exactly one passes: {raced:?}"
    );
    assert_eq!(seen["replayed"], json!([401]));
    assert_eq!(seen["freshAfterReplay"], json!([200]));
    assert_eq!(seen["signedInWithA"], true);
    assert_eq!(seen["strangerRefused"], true);
    assert_eq!(seen["staleCopyRefused"], true, "a cloned key is refused");
    assert_eq!(seen["afterRemovingB"], json!(["Key A"]));
    assert_eq!(seen["noKeysLeft"], true);
    assert_eq!(seen["passkeys"], json!(["Laptop"]));
    assert!(
        seen["sameCredentialTwice"]
            .as_str()
            .unwrap()
            .contains("One credential cannot be both"),
        "{}",
        seen["sameCredentialTwice"]
    );
    assert_eq!(seen["signedInWithPasskey"], "Signed in as alice (alice)");
    assert_eq!(
        seen["passkeyForwardAuth"], 200,
        "a passkey sign-in passes a two_factor rule"
    );
    // The trail: two keys added, second factor passed with a key, both removed.
    let out = db.cli(&["audit", "--user", "alice", "--json"], "");
    let events: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |event: &str, detail: &str| {
        events
            .iter()
            .filter(|e| e["event"] == event && e["detail"].as_str().unwrap().starts_with(detail))
            .count()
    };
    assert_eq!(count("factor_added", "webauthn"), 2);
    assert!(count("second_factor_passed", "webauthn") >= 3);
    assert_eq!(count("factor_removed", "webauthn"), 2);
    assert_eq!(count("factor_added", "passkey"), 1);
    assert_eq!(count("login_succeeded", "passwordless:webauthn"), 1);
    // No second-factor key left: the provider is off (the passkey is not a second factor).
    let state = db.store().await.provider_states("alice").await.unwrap();
    assert!(!state.iter().any(|s| s.provider == "webauthn"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_key_set_up_in_the_login_flow() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("bob", "password-b");
    assert!(
        db.cli(&["twofactorauth", "enforce", "--on"], "")
            .status
            .success()
    );
    let server = Server::start(&db).await;
    let out = Command::new("node")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/browser/webauthn.mjs"
        ))
        .env(
            "TWOFOLD_BASE",
            server.url("").replace("127.0.0.1", "localhost"),
        )
        .env("TWOFOLD_UID", "bob")
        .env("TWOFOLD_PASSWORD", "password-b")
        .env("TWOFOLD_MODE", "setup")
        .output()
        .expect("node is installed");
    assert!(
        out.status.success(),
        "browser run failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let seen: Value = serde_json::from_str(text(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(seen["setupSignedIn"], "Signed in as bob (bob)");
    let state = db.store().await.provider_states("bob").await.unwrap();
    assert!(
        state
            .iter()
            .any(|s| s.provider == "webauthn" && s.enabled == 1)
    );
}

crate::common::both!(webauthn_bad_input_gets_clear_errors_and_changes_nothing);

/// The WebAuthn endpoints without a browser: every wrong or out-of-order request gets a
/// clear error and stores nothing.
async fn webauthn_bad_input_gets_clear_errors_and_changes_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = crate::common::browser();
    crate::common::api_login(&http, &server, "alice", "password-a").await;
    let post = |path: &str, body: Value| {
        let req = http.post(server.url(path)).json(&body);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }
    };
    // Finishing what was never begun.
    let (s, body) = post(
        "/api/v1/2fa/webauthn/enroll/finish",
        json!({"name": "k", "answer": {"id": "x"}}),
    )
    .await;
    assert_eq!(s, 400, "{body}");
    // Begun, then garbage as the answer, a bad name, an unknown field.
    let (s, body) = post("/api/v1/2fa/webauthn/enroll", json!({})).await;
    assert_eq!(s, 200, "{body}");
    let options: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(options["options"]["publicKey"]["rp"]["id"], "localhost");
    assert_eq!(
        options["options"]["publicKey"]["attestation"], "none",
        "attestation none by default"
    );
    for (body, needle) in [
        (json!({"name": "k", "answer": {"id": "x"}}), "credential"),
        (json!({"name": " ", "answer": {}}), "name"),
        (json!({"name": "k", "answer": {}, "admin": true}), "admin"),
    ] {
        let (s, text) = post("/api/v1/2fa/webauthn/enroll/finish", body).await;
        assert_eq!(s, 400, "{text}");
        assert!(text.contains(needle), "{needle}: {text}");
    }
    assert!(
        db.store()
            .await
            .webauthn_credentials_of("alice")
            .await
            .unwrap()
            .is_empty()
    );
    // A challenge for a provider the user does not have; a passkey answer that is junk.
    let pending = crate::common::browser();
    let (setup, _) = crate::two_factor::enroll_totp(&server, "alice", "password-a").await;
    drop(setup);
    crate::common::api_login(&pending, &server, "alice", "password-a").await;
    let r = pending
        .post(server.url("/api/v1/login/challenge/begin"))
        .json(&json!({"provider": "webauthn"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = pending
        .post(server.url("/api/v1/login/challenge"))
        .json(&json!({"provider": "webauthn", "code": "{}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "not a usable method");
    let anon = crate::common::browser();
    let r = anon
        .post(server.url("/api/v1/login/passwordless/webauthn"))
        .json(&json!({"answer": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "no passwordless sign-in in progress");
    let r = anon
        .post(server.url("/api/v1/login/passwordless/webauthn/begin"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = anon
        .post(server.url("/api/v1/login/passwordless/webauthn"))
        .json(&json!({"answer": {"id": "nope"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a junk answer is a failed sign-in");
    assert!(
        anon.get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status()
            == 401
    );
}

crate::common::both!(the_generic_provider_routes_serve_any_provider_and_refuse_the_rest);

/// The provider routes are generic: TOTP enrolls through them like a security key; a
/// provider without named credentials lists none; passwordless sign-in only with a
/// provider that signs in and is on system-wide; an unknown provider is "not found".
async fn the_generic_provider_routes_serve_any_provider_and_refuse_the_rest(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = crate::common::browser();
    crate::common::api_login(&http, &server, "alice", "password-a").await;
    let r = http
        .post(server.url("/api/v1/2fa/totp/enroll"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let begun: Value = r.json().await.unwrap();
    let secret = begun["options"]["secret"].as_str().unwrap().to_string();
    let r = http
        .post(server.url("/api/v1/2fa/totp/enroll/finish"))
        .json(&json!({"answer": "000000x"}))
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 201, "a wrong first code activates nothing");
    let r = http
        .post(server.url("/api/v1/2fa/totp/enroll/finish"))
        .json(&json!({"answer": crate::two_factor::oathtool(&secret, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["stage"], "authenticated");
    let state = db.store().await.provider_states("alice").await.unwrap();
    assert!(state.iter().any(|s| s.provider == "totp" && s.enabled == 1));
    // TOTP has no named credentials, and does not sign in without the password.
    let r = http
        .get(server.url("/api/v1/2fa/totp/credentials"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
    let r = http
        .post(server.url("/api/v1/2fa/totp/enroll"))
        .json(&json!({"sign_in": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    for (path, want) in [
        ("/api/v1/login/passwordless/totp/begin", 404),
        ("/api/v1/login/passwordless/nope/begin", 404),
        ("/api/v1/2fa/nope/enroll", 404),
        ("/api/v1/login/passwordless/webauthn/begin", 200),
    ] {
        let r = crate::common::browser()
            .post(server.url(path))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), want, "{path}");
    }
    let r = http
        .delete(server.url("/api/v1/2fa/webauthn/credentials/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Switched off system-wide: no passwordless sign-in, and the page offers none.
    assert!(
        db.cli(&["provider", "disable", "webauthn"], "")
            .status
            .success()
    );
    let r = crate::common::browser()
        .post(server.url("/api/v1/login/passwordless/webauthn/begin"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Nor can a key be added while it is off: the switch holds for new factors too.
    let r = http
        .post(server.url("/api/v1/2fa/webauthn/enroll"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("switched off"));
    let page = crate::common::browser()
        .get(server.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"password\"") && !page.contains("passkey-login"));
}
