//! Revocation when a password or a factor changes, re-authentication before sensitive
//! changes, client login flows that leave nothing behind, and the audit trail.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Backend, Server, TestDb, api_login, both, browser, csrf_of, sql};
use crate::two_factor::{challenge, enroll_totp, oathtool};

both!(
    defect_06_a_password_change_or_factor_reset_revokes_access,
    defect_14_an_unpolled_client_login_leaves_no_app_password,
    defect_15_sensitive_changes_need_a_recent_sign_in,
    the_password_and_reauth_pages,
    security_events_are_in_the_audit_trail,
    defect_24_7_granting_a_client_login_takes_a_deliberate_second_step
);

async fn me(server: &Server, http: &reqwest::Client) -> u16 {
    http.get(server.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn app_password(server: &Server, http: &reqwest::Client) -> String {
    let r = http
        .post(server.url("/api/v1/app-passwords"))
        .json(&json!({"name": "phone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["password"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Starts a client login flow and grants it from `http`; returns the poll token.
async fn granted_flow(server: &Server, http: &reqwest::Client) -> String {
    let started: Value = reqwest::Client::new()
        .post(server.url("/api/v1/login/flow"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = started["login"]
        .as_str()
        .unwrap()
        .split_once("/login/flow/")
        .map(|(_, t)| format!("/login/flow/{t}"))
        .unwrap();
    let html = http
        .get(server.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("client-origin"),
        "the grant page says who asked"
    );
    let r = http
        .post(server.url(&path))
        .form(&[("csrf", csrf_of(&html).as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    started["poll"]["token"].as_str().unwrap().to_string()
}

async fn poll(server: &Server, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url("/api/v1/login/flow/poll"))
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap()
}

async fn basic(server: &Server, uid: &str, pw: &str) -> u16 {
    reqwest::Client::new()
        .get(server.url("/api/v1/me"))
        .basic_auth(uid, Some(pw))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn defect_06_a_password_change_or_factor_reset_revokes_access(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    // An attacker with the phished password: a session, an app password, a flow.
    let attacker = browser();
    api_login(&attacker, &server, "alice", "password-a").await;
    let stolen = app_password(&server, &attacker).await;
    let flow = granted_flow(&server, &attacker).await;
    assert_eq!(basic(&server, "alice", &stolen).await, 200);
    // Alice changes her password.
    let alice = browser();
    api_login(&alice, &server, "alice", "password-a").await;
    let r = alice
        .post(server.url("/api/v1/password"))
        .json(&json!({"current_password": "password-a", "new_password": "password-new"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["revoked"],
        json!({"sessions": 1, "app_passwords": 1, "client_logins": 1}),
        "the user is told what ended"
    );
    assert_eq!(me(&server, &attacker).await, 401, "other session ended");
    assert_eq!(
        basic(&server, "alice", &stolen).await,
        401,
        "app password revoked"
    );
    assert_eq!(
        poll(&server, &flow).await.status(),
        404,
        "pending flow ended"
    );
    assert_eq!(me(&server, &alice).await, 200, "her own session stays");
    // A wrong current password changes nothing.
    let r = alice
        .post(server.url("/api/v1/password"))
        .json(&json!({"current_password": "nope", "new_password": "password-x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(basic(&server, "alice", "password-new").await, 200);

    // Removing a factor ends the other sessions.
    let (setup, secret) = enroll_totp(&server, "alice", "password-new").await;
    let other = browser();
    api_login(&other, &server, "alice", "password-new").await;
    let r = challenge(&other, &server, "totp", &oathtool(&secret, 30)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(me(&server, &other).await, 200);
    let r = setup
        .delete(server.url("/api/v1/2fa/totp"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(me(&server, &other).await, 401);
    assert_eq!(me(&server, &setup).await, 200);

    // The admin's "lost phone" reset ends every session of the user.
    db.add_user("carol", "password-c");
    assert!(
        db.cli(
            &["user", "add", "--admin", "root", "--password-stdin"],
            "password-r\n"
        )
        .status
        .success()
    );
    let (carol, _) = enroll_totp(&server, "carol", "password-c").await;
    let admin = browser();
    api_login(&admin, &server, "root", "password-r").await;
    let r = admin
        .delete(server.url("/api/v1/admin/users/carol/2fa/totp"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(me(&server, &carol).await, 401);
}

async fn defect_14_an_unpolled_client_login_leaves_no_app_password(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let alice = browser();
    api_login(&alice, &server, "alice", "password-a").await;
    let token = granted_flow(&server, &alice).await;
    let list = |http: reqwest::Client| {
        let url = server.url("/api/v1/app-passwords");
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        list(alice.clone()).await,
        json!([]),
        "granted but not picked up: no password exists yet"
    );
    let r = poll(&server, &token).await;
    assert_eq!(r.status(), 200);
    let creds: Value = r.json().await.unwrap();
    let pw = creds["app_password"].as_str().unwrap();
    assert_eq!(basic(&server, "alice", pw).await, 200);
    assert_eq!(list(alice).await.as_array().unwrap().len(), 1);
    assert_eq!(poll(&server, &token).await.status(), 404, "only once");
}

async fn defect_15_sensitive_changes_need_a_recent_sign_in(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let (alice, secret) = enroll_totp(&server, "alice", "password-a").await;
    // Long after the sign-in (the session's proof is aged in the database).
    sql(&db, "UPDATE sessions SET auth_at = 0").await;
    for (method, path, body) in [
        ("POST", "/api/v1/app-passwords", Some(json!({"name": "x"}))),
        ("POST", "/api/v1/2fa/backup-codes", None),
        ("DELETE", "/api/v1/2fa/totp", None),
        // Binding a new factor: whoever holds a stolen session must not add their own.
        ("POST", "/api/v1/2fa/totp", None),
        ("POST", "/api/v1/2fa/webauthn/enroll", Some(json!({}))),
        // Nor their own way in.
        (
            "POST",
            "/api/v1/2fa/webauthn/enroll",
            Some(json!({"sign_in": true})),
        ),
    ] {
        let req = match method {
            "POST" => alice.post(server.url(path)),
            _ => alice.delete(server.url(path)),
        };
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(
            r.text().await.unwrap().contains("reauth_required"),
            "{path}"
        );
    }
    assert_eq!(
        db.store()
            .await
            .app_passwords_of("alice")
            .await
            .unwrap()
            .len(),
        0,
        "nothing was created"
    );
    // The page sends the user to confirm, then back.
    let html = alice
        .get(server.url("/settings/devices"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = alice
        .post(server.url("/settings/devices/app-passwords"))
        .form(&[("csrf", csrf_of(&html).as_str()), ("name", "Phone")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/settings/reauth?next=/settings/devices"
    );
    // A wrong password does not count as a confirmation.
    let r = alice
        .post(server.url("/api/v1/reauth"))
        .json(&json!({"password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = alice
        .post(server.url("/api/v1/reauth"))
        .json(&json!({"password": "password-a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = alice
        .post(server.url("/api/v1/app-passwords"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // A sign-in with the second factor counts as recent too.
    let fresh = browser();
    api_login(&fresh, &server, "alice", "password-a").await;
    assert_eq!(
        challenge(&fresh, &server, "totp", &oathtool(&secret, 30))
            .await
            .status(),
        200
    );
    let r = fresh
        .post(server.url("/api/v1/2fa/backup-codes"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["cache-control"], "no-store");
}

async fn security_events_are_in_the_audit_trail(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    db.add_user("bob", "password-b");
    let server = Server::start(&db).await;
    let (alice, _) = enroll_totp(&server, "alice", "password-a").await;
    app_password(&server, &alice).await;
    let bob = browser();
    api_login(&bob, &server, "bob", "password-b").await;
    let events: Value = alice
        .get(server.url("/api/v1/activity"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = events.as_array().unwrap();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for want in ["login_succeeded", "factor_added", "app_password_created"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    assert!(
        events
            .iter()
            .all(|e| e["target"] == "alice" || e["actor"] == "alice"),
        "only her own events"
    );
    assert_eq!(events[0]["ip"], "127.0.0.1");
    // Admin view and CLI.
    let r = bob
        .get(server.url("/api/v1/admin/activity"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "not an admin");
    let out = db.cli(&["audit", "--user", "bob", "--json"], "");
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|e| e["event"] == "login_succeeded" && e["target"] == "bob")
    );
    assert!(
        lines
            .iter()
            .all(|e| e["target"] == "bob" || e["actor"] == "bob")
    );
    let out = db.cli(&["audit", "--since", "soon"], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
    // Admin actions taken on the pages are in the trail too, with the admin as actor.
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
    let html = admin
        .get(server.url("/admin/security"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = admin
        .post(server.url("/admin/security/reset"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("uid", "alice"),
            ("provider", "totp"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let out = db.cli(&["audit", "--user", "alice", "--json"], "");
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|e| e["event"] == "admin_reset" && e["actor"] == "root" && e["detail"] == "totp"),
        "{lines:?}"
    );
    let html = admin
        .get(server.url("/admin/activity?user=alice"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("event-admin_reset"));
    // The page shows them to a person (alice was signed out by the reset: sign in again).
    let alice = browser();
    api_login(&alice, &server, "alice", "password-a").await;
    let html = alice
        .get(server.url("/settings/activity"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("event-factor_added"), "{html}");
}

/// The pages behind the API calls above: change the password, confirm it's you.
async fn the_password_and_reauth_pages(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let alice = browser();
    api_login(&alice, &server, "alice", "password-a").await;
    let page = |path: &'static str| {
        let req = alice.get(server.url(path));
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    // Confirm it's you: a wrong password stays on the page, the right one goes on, and
    // only to a path of this site.
    let html = page("/settings/reauth?next=/settings/devices").await;
    let csrf = csrf_of(&html);
    let r = alice
        .post(server.url("/settings/reauth"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", "wrong"),
            ("next", "/settings/devices"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("reauth-error"));
    let r = alice
        .post(server.url("/settings/reauth"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", "password-a"),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/settings/security");
    // Change the password: a wrong current one or a too short new one changes nothing.
    let html = page("/settings/password").await;
    let csrf = csrf_of(&html);
    let change = |current: &'static str, new: &'static str| {
        let req = alice.post(server.url("/settings/password")).form(&[
            ("csrf", csrf.clone()),
            ("current_password", current.to_string()),
            ("new_password", new.to_string()),
        ]);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, html) = change("wrong", "password-new").await;
    assert_eq!(s, 401);
    assert!(html.contains("password-error"));
    let (s, _) = change("password-a", "short").await;
    assert_eq!(s, 400);
    assert_eq!(basic(&server, "alice", "password-a").await, 200);
    let (s, html) = change("password-a", "password-new").await;
    assert_eq!(s, 200);
    assert!(html.contains("password-changed"), "{html}");
    assert_eq!(basic(&server, "alice", "password-a").await, 401);
    assert_eq!(basic(&server, "alice", "password-new").await, 200);
}

/// Issue 24: the grant page shows the client's self-chosen name as untrusted text, and a
/// grant needs the confirmation box ticked: one click on a link a stranger sent grants
/// nothing, and the page comes back with the reason.
async fn defect_24_7_granting_a_client_login_takes_a_deliberate_second_step(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let alice = browser();
    api_login(&alice, &server, "alice", "password-a").await;
    let started: Value = reqwest::Client::builder()
        .user_agent("<b>Official</b> Sync")
        .build()
        .unwrap()
        .post(server.url("/api/v1/login/flow"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = started["login"]
        .as_str()
        .unwrap()
        .split_once("/login/flow/")
        .map(|(_, t)| format!("/login/flow/{t}"))
        .unwrap();
    let html = alice
        .get(server.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<code id=\"client-name\">&#60;b&#62;Official&#60;/b&#62; Sync</code>"),
        "{html}"
    );
    assert!(html.contains("id=\"client-name-note\""), "{html}");
    assert!(html.contains("name=\"confirm\""), "{html}");
    let token = started["poll"]["token"].as_str().unwrap().to_string();
    let polled = || poll(&server, &token);
    for confirm in [None, Some("no"), Some("")] {
        let mut form = vec![("csrf", csrf_of(&html))];
        if let Some(c) = confirm {
            form.push(("confirm", c.to_string()));
        }
        let r = alice
            .post(server.url(&path))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{confirm:?}");
        let again = r.text().await.unwrap();
        assert!(again.contains("Nothing was granted"), "{again}");
        assert!(
            again.contains("name=\"confirm\""),
            "the form again: {again}"
        );
        assert_eq!(polled().await.status(), 404, "{confirm:?}: nothing granted");
    }
    let r = alice
        .post(server.url(&path))
        .form(&[("csrf", csrf_of(&html).as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(polled().await.status(), 200);
}
