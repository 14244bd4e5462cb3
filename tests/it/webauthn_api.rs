//! Security keys through the JSON API alone, answered by webauthn-rs's software
//! authenticator (`SoftToken`): what an API client (not a browser) sees. Two keys, each
//! answers; an answer works once; a cloned key (its counter going back) is refused; a
//! key registered to another user is refused even with a valid signature over this
//! user's challenge; removing the last key turns the provider off.
//!
//! The soft token keeps no resident keys, so the discoverable passkey sign-in is left to
//! the Chromium test (`webauthn.rs`).

use reqwest::Client;
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softtoken::SoftToken;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

use crate::common::{Backend, Server, TestDb, api_login, browser};

/// The origin the server is configured for (`http://localhost:<port>`): WebAuthn needs a
/// domain, not an IP address.
fn origin(server: &Server) -> url::Url {
    url::Url::parse(&server.url("").replace("127.0.0.1", "localhost")).unwrap()
}

fn token() -> SoftToken {
    SoftToken::new(false).unwrap().0
}

async fn post(http: &Client, server: &Server, path: &str, body: Value) -> (u16, Value) {
    let r = http
        .post(server.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Registers `key` for the signed-in `http` under `name`, through the generic routes.
async fn register(http: &Client, server: &Server, key: &mut SoftToken, name: &str) -> Value {
    let (s, begun) = post(http, server, "/api/v1/2fa/webauthn/enroll", json!({})).await;
    assert_eq!(s, 200, "{begun}");
    let options: CreationChallengeResponse =
        serde_json::from_value(begun["options"].clone()).unwrap();
    let credential = key.do_registration(origin(server), options).unwrap();
    let body = json!({"name": name, "answer": credential});
    let (s, done) = post(http, server, "/api/v1/2fa/webauthn/enroll/finish", body).await;
    assert_eq!(s, 201, "{done}");
    done["credential"].clone()
}

/// The signed-in user's security keys and passkeys, as the API lists them.
async fn credentials(http: &Client, server: &Server) -> Value {
    let r = http
        .get(server.url("/api/v1/2fa/webauthn/credentials"))
        .send();
    r.await.unwrap().json().await.unwrap()
}

/// A password login waiting for its second factor, and the request options of its
/// security-key challenge.
async fn challenge(server: &Server, uid: &str, pw: &str) -> (Client, RequestChallengeResponse) {
    let http = browser();
    let body = api_login(&http, server, uid, pw).await;
    assert_eq!(body["stage"], "second_factor_pending");
    let path = "/api/v1/login/challenge/begin";
    let (s, begun) = post(&http, server, path, json!({"provider": "webauthn"})).await;
    assert_eq!(s, 200, "{begun}");
    (
        http,
        serde_json::from_value(begun["options"].clone()).unwrap(),
    )
}

/// Sends `assertion` as the answer; the status and the stage it led to.
async fn answer(http: &Client, server: &Server, assertion: &Value) -> (u16, Value) {
    let body = json!({"provider": "webauthn", "code": assertion.to_string()});
    let (s, r) = post(http, server, "/api/v1/login/challenge", body).await;
    (s, r["stage"].clone())
}

crate::common::both!(security_keys_through_the_api_with_a_software_authenticator);

async fn security_keys_through_the_api_with_a_software_authenticator(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    db.add_user("bob", "password-b");
    let server = Server::start(&db).await;
    let (mut a, mut b, mut c) = (token(), token(), token());
    let alice = browser();
    api_login(&alice, &server, "alice", "password-a").await;
    let key_a = register(&alice, &server, &mut a, "Key A").await;
    register(&alice, &server, &mut b, "Key B").await;
    let bob = browser();
    api_login(&bob, &server, "bob", "password-b").await;
    register(&bob, &server, &mut c, "Bob's key").await;
    let listed = credentials(&alice, &server).await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Key A", "Key B"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["sign_in"] == false)
    );
    // Bob cannot rename or remove alice's key by its id: it is not found for him.
    let a_id = key_a["id"].as_str().unwrap();
    let path = format!("/api/v1/2fa/webauthn/credentials/{a_id}");
    let r = bob.delete(server.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = bob
        .patch(server.url(&path))
        .json(&json!({"name": "mine"}))
        .send();
    assert_eq!(r.await.unwrap().status(), 404);
    assert_eq!(
        credentials(&alice, &server).await,
        listed,
        "alice's keys unchanged"
    );

    // Either key answers the challenge.
    for key in [&mut b, &mut a] {
        let (http, options) = challenge(&server, "alice", "password-a").await;
        let assertion = json!(key.do_authentication(origin(&server), options).unwrap());
        assert_eq!(
            answer(&http, &server, &assertion).await,
            (200, json!("authenticated"))
        );
    }

    // An answer works once: the same assertion in the same login (its ceremony is used
    // up) and, signed anew over a fresh challenge, the old one in another login.
    let clone_of_a = SoftToken::from_cbor(&a.to_cbor().unwrap()).unwrap();
    let (http, options) = challenge(&server, "alice", "password-a").await;
    let assertion = json!(a.do_authentication(origin(&server), options).unwrap());
    assert_eq!(answer(&http, &server, &assertion).await.0, 200);
    let (again, _) = challenge(&server, "alice", "password-a").await;
    assert_eq!(answer(&again, &server, &assertion).await.0, 401, "replayed");

    // A copy of key A taken before its last use: its counter goes back.
    let mut clone_of_a = clone_of_a;
    let (http, options) = challenge(&server, "alice", "password-a").await;
    let stale = json!(
        clone_of_a
            .do_authentication(origin(&server), options)
            .unwrap()
    );
    assert_eq!(answer(&http, &server, &stale).await.0, 401, "a cloned key");

    // Bob's key signs alice's challenge (told it may use its own credential): a valid
    // signature by a key that is not hers.
    let (http, mut options) = challenge(&server, "alice", "password-a").await;
    let (_, bob_options) = challenge(&server, "bob", "password-b").await;
    options.public_key.allow_credentials = bob_options.public_key.allow_credentials;
    let foreign = json!(c.do_authentication(origin(&server), options).unwrap());
    assert_eq!(
        answer(&http, &server, &foreign).await.0,
        401,
        "another user's key"
    );
    let whoami = http.get(server.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(whoami.status(), 401, "still not signed in");

    // Removing a key, then the last one (from a session just signed in with key B): the
    // provider is off and the password is enough again.
    let (http, options) = challenge(&server, "alice", "password-a").await;
    let assertion = json!(b.do_authentication(origin(&server), options).unwrap());
    assert_eq!(answer(&http, &server, &assertion).await.0, 200);
    let delete = |id: &str| {
        let req = http.delete(server.url(&format!("/api/v1/2fa/webauthn/credentials/{id}")));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert_eq!(delete(ids[0]).await, 204);
    // While 2FA is enforced for her, the last key (her last factor) stays.
    let enforce = |on: &str| {
        db.cli(&["twofactorauth", "enforce", on], "")
            .status
            .success()
    };
    assert!(enforce("--on"));
    assert_eq!(
        delete(ids[1]).await,
        409,
        "the last factor under enforcement"
    );
    assert!(enforce("--off"));
    assert_eq!(delete(ids[1]).await, 204);
    let state = db.store().await.provider_states("alice").await.unwrap();
    assert!(!state.iter().any(|s| s.provider == "webauthn"));
    let body = api_login(&browser(), &server, "alice", "password-a").await;
    assert_eq!(body["stage"], "authenticated");
    assert_eq!(key_a["kind"], "security_key");
}

/// `attestation = "direct"`: a security key registers only when its attestation chains to
/// a trusted vendor CA and names an allowed model; another authenticator is refused with
/// a reason, and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_attestation_admits_only_the_trusted_models() {
    use crypto_glue::traits::{EncodePem, LineEndingPem};
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    let (mut trusted, vendor_ca) = SoftToken::new(false).unwrap();
    let mut other = token();
    let ca_file = db.dir.path().join("vendor-ca.pem");
    std::fs::write(&ca_file, vendor_ca.to_pem(LineEndingPem::LF).unwrap()).unwrap();
    let config = db.dir.path().join("twofold.toml");
    std::fs::write(
        &config,
        format!(
            "[webauthn]\nattestation = \"direct\"\n[[webauthn.trusted_authenticators]]\nca_file = \"{}\"\naaguids = [\"{}\"]\n",
            ca_file.display(),
            webauthn_authenticator_rs::softtoken::AAGUID
        ),
    )
    .unwrap();
    let server = Server::start_with(&db, &[("TWOFOLD_CONFIG", config.to_str().unwrap())]).await;
    let alice = browser();
    api_login(&alice, &server, "alice", "password-a").await;

    let (s, begun) = post(&alice, &server, "/api/v1/2fa/webauthn/enroll", json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(begun["options"]["publicKey"]["attestation"], "direct");
    let options: CreationChallengeResponse =
        serde_json::from_value(begun["options"].clone()).unwrap();
    let credential = other.do_registration(origin(&server), options).unwrap();
    let body = json!({"name": "Other", "answer": credential});
    let (s, refused) = post(&alice, &server, "/api/v1/2fa/webauthn/enroll/finish", body).await;
    assert_eq!(s, 400, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a model the administrator allows"),
        "{refused}"
    );
    let stored = db
        .store()
        .await
        .webauthn_credentials_of("alice")
        .await
        .unwrap();
    assert!(stored.is_empty());

    register(&alice, &server, &mut trusted, "Vendor key").await;
    let stored = db
        .store()
        .await
        .webauthn_credentials_of("alice")
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);

    // Passkeys carry no attestation: they are off, and the pages do not offer them.
    let body = json!({"sign_in": true});
    let (s, _) = post(&alice, &server, "/api/v1/2fa/webauthn/enroll", body).await;
    assert_eq!(s, 400);
    let (s, _) = post(
        &browser(),
        &server,
        "/api/v1/login/passwordless/webauthn/begin",
        json!({}),
    )
    .await;
    assert_eq!(s, 404);
    let page = |path: &'static str| {
        let req = alice.get(server.url(path));
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let security = page("/settings/security").await;
    assert!(security.contains("webauthn-register") && !security.contains("passkey-register"));
    assert!(
        !browser()
            .get(server.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("passkey-login")
    );
}

crate::common::both!(defect_16_6_a_cloned_key_fails_on_a_challenge_begun_before_the_real_use);

/// Two challenges begun before the real key's use: the real key answers one, a copy of
/// the key (taken before that use) answers the other with the same counter. The copy's
/// answer is compared with the stored counter, not with the one its challenge began
/// with, and is refused.
async fn defect_16_6_a_cloned_key_fails_on_a_challenge_begun_before_the_real_use(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let mut key = token();
    let alice = browser();
    api_login(&alice, &server, "alice", "password-a").await;
    register(&alice, &server, &mut key, "Key").await;
    let mut copy = SoftToken::from_cbor(&key.to_cbor().unwrap()).unwrap();
    let (real_login, real_options) = challenge(&server, "alice", "password-a").await;
    let (copy_login, copy_options) = challenge(&server, "alice", "password-a").await;
    let real = json!(
        key.do_authentication(origin(&server), real_options)
            .unwrap()
    );
    assert_eq!(
        answer(&real_login, &server, &real).await,
        (200, json!("authenticated"))
    );
    let copied = json!(
        copy.do_authentication(origin(&server), copy_options)
            .unwrap()
    );
    assert_eq!(
        answer(&copy_login, &server, &copied).await,
        (401, Value::Null),
        "the copy's counter was already used"
    );
    // The real key goes on working.
    let (http, options) = challenge(&server, "alice", "password-a").await;
    let next = json!(key.do_authentication(origin(&server), options).unwrap());
    assert_eq!(answer(&http, &server, &next).await.0, 200);
}

crate::common::both!(defect_16_1_passkeys_are_named_when_the_password_changes);

/// A passkey signs in without the password, so changing the password leaves it: the
/// answer names it, and the same step can remove it; logging out everywhere names it
/// too; an admin's reset of WebAuthn and `twofactorauth cleanup webauthn` remove passkeys
/// as well (a lost device may hold one).
async fn defect_16_1_passkeys_are_named_when_the_password_changes(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let alice = browser();
    api_login(&alice, &server, "alice", "password-a").await;
    let add_passkey = |name: &'static str| {
        let (alice, server) = (&alice, &server);
        async move {
            // Passkeys ask for user verification, which this soft token only claims.
            let mut key = SoftToken::new(true).unwrap().0;
            let body = json!({"sign_in": true});
            let (s, begun) = post(alice, server, "/api/v1/2fa/webauthn/enroll", body).await;
            assert_eq!(s, 200, "{begun}");
            let options: CreationChallengeResponse =
                serde_json::from_value(begun["options"].clone()).unwrap();
            let credential = key.do_registration(origin(server), options).unwrap();
            let body = json!({"name": name, "answer": credential, "sign_in": true});
            let path = "/api/v1/2fa/webauthn/enroll/finish";
            let (s, done) = post(alice, server, path, body).await;
            assert_eq!(s, 201, "{done}");
        }
    };
    add_passkey("Phone").await;
    // The password page names it and offers to remove it with the change.
    let page = alice
        .get(server.url("/settings/password"))
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("id=\"remove-passkeys\"") && html.contains("Phone"),
        "{html}"
    );
    let change = |current: &'static str, new: &'static str, remove: bool| {
        let (alice, server) = (&alice, &server);
        async move {
            let body = json!({"current_password": current, "new_password": new,
                              "remove_passkeys": remove});
            post(alice, server, "/api/v1/password", body).await
        }
    };
    let (s, done) = change("password-a", "password-b-long", false).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["passkeys_remaining"], json!(["Phone"]));
    assert_eq!(done["passkeys_removed"], 0);
    let (s, done) = change("password-b-long", "password-c-long", true).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["passkeys_remaining"], json!([]));
    assert_eq!(done["passkeys_removed"], 1);

    add_passkey("Laptop").await;
    let r = alice
        .post(server.url("/api/v1/logout-everywhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ended: Value = r.json().await.unwrap();
    assert_eq!(ended["passkeys_remaining"], json!(["Laptop"]));

    // Cleanup reaches a user who has only a passkey, and removes it.
    let count = "SELECT COUNT(*) FROM webauthn_credentials";
    assert_eq!(crate::common::sql_count(&db, count).await, 1);
    let out = db.cli(&["twofactorauth", "cleanup", "webauthn", "--yes"], "");
    assert!(out.status.success(), "{}", crate::common::text(&out.stderr));
    let said = crate::common::text(&out.stdout);
    assert!(
        said.contains("(1 user(s))") && said.contains("passkeys"),
        "{said}"
    );
    assert_eq!(crate::common::sql_count(&db, count).await, 0);
}

crate::common::both!(removing_the_last_two_keys_at_once_leaves_one_under_enforcement);

/// Under enforcement the last security key stays, also when two requests remove the last
/// two at the same moment: the "last one" check and the removal are one step.
async fn removing_the_last_two_keys_at_once_leaves_one_under_enforcement(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let alice = browser();
    api_login(&alice, &server, "alice", "password-a").await;
    let mut first = token();
    register(&alice, &server, &mut first, "Key 0").await;
    assert!(
        db.cli(&["twofactorauth", "enforce", "--on"], "")
            .status
            .success()
    );
    for round in 1..=5 {
        register(&alice, &server, &mut token(), &format!("Key {round}")).await;
        let listed = credentials(&alice, &server).await;
        let ids: Vec<String> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), 2);
        let delete = |id: &str| {
            let req = alice.delete(server.url(&format!("/api/v1/2fa/webauthn/credentials/{id}")));
            async move { req.send().await.unwrap().status().as_u16() }
        };
        let (a, b) = tokio::join!(delete(&ids[0]), delete(&ids[1]));
        let mut statuses = [a, b];
        statuses.sort();
        assert_eq!(statuses, [204, 409], "round {round}");
        let left = db
            .store()
            .await
            .webauthn_credentials_of("alice")
            .await
            .unwrap();
        assert_eq!(left.len(), 1, "round {round}");
        let state = db.store().await.provider_states("alice").await.unwrap();
        assert!(
            state
                .iter()
                .any(|s| s.provider == "webauthn" && s.enabled == 1)
        );
    }
}

crate::common::both!(removing_two_different_factors_at_once_leaves_one_under_enforcement);

/// Under enforcement one factor always stays, also when two requests remove two
/// different factors (TOTP and the last security key) at the same moment.
async fn removing_two_different_factors_at_once_leaves_one_under_enforcement(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let alice = browser();
    api_login(&alice, &server, "alice", "password-a").await;
    assert!(
        db.cli(&["twofactorauth", "enforce", "--on"], "")
            .status
            .success()
    );
    for round in 1..=5 {
        let state = db.store().await.provider_states("alice").await.unwrap();
        let active = |p: &str| state.iter().any(|s| s.provider == p && s.enabled == 1);
        if !active("totp") {
            let (s, begun) = post(&alice, &server, "/api/v1/2fa/totp/enroll", json!({})).await;
            assert_eq!(s, 200, "{begun}");
            let code = crate::two_factor::oathtool(begun["options"]["secret"].as_str().unwrap(), 0);
            let body = json!({"answer": code});
            let (s, done) = post(&alice, &server, "/api/v1/2fa/totp/enroll/finish", body).await;
            assert_eq!(s, 201, "{done}");
        }
        if !active("webauthn") {
            register(&alice, &server, &mut token(), &format!("Key {round}")).await;
        }
        let listed = credentials(&alice, &server).await;
        let key = listed[0]["id"].as_str().unwrap().to_string();
        let remove_totp = alice.delete(server.url("/api/v1/2fa/totp")).send();
        let remove_key = alice
            .delete(server.url(&format!("/api/v1/2fa/webauthn/credentials/{key}")))
            .send();
        let (a, b) = tokio::join!(remove_totp, remove_key);
        let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [204, 409], "round {round}");
        let state = db.store().await.provider_states("alice").await.unwrap();
        let left = state
            .iter()
            .filter(|s| s.enabled == 1 && s.provider != "backup_codes");
        assert_eq!(left.count(), 1, "round {round}: one factor stays");
    }
}
