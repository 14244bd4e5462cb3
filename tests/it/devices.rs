//! App passwords over the API, connected devices, the client login flow, and
//! forward-auth as Traefik and Caddy call it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Backend, Server, TestDb, api_login, both, browser, csrf_of};
use crate::two_factor::oathtool;

both!(
    app_passwords_and_basic_auth,
    devices_revoke_and_logout_everywhere,
    client_login_flow,
    forward_auth_for_traefik_and_caddy,
    a_burst_of_first_uses_is_recorded_once,
    defect_24_5_many_sessions_are_listed_a_page_at_a_time,
    defect_17_12_any_case_of_a_user_name_signs_in_everywhere,
);

async fn logged_in(server: &Server, uid: &str, pw: &str) -> reqwest::Client {
    let http = browser();
    api_login(&http, server, uid, pw).await;
    http
}

async fn app_passwords_and_basic_auth(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = logged_in(&server, "alice", "password-a").await;
    let plain = reqwest::Client::new();
    let me = |user: &'static str, pw: String| {
        let plain = plain.clone();
        let url = server.url("/api/v1/me");
        async move {
            plain
                .get(url)
                .basic_auth(user, Some(pw))
                .header("user-agent", "caldav-sync/1.0")
                .send()
                .await
                .unwrap()
        }
    };

    // Without 2FA, the main password works for Basic.
    assert_eq!(me("alice", "password-a".into()).await.status(), 200);

    // Names are required; bad input creates nothing.
    for body in [
        json!({"name": ""}),
        json!({"name": "x".repeat(101)}),
        json!({}),
    ] {
        let r = http
            .post(server.url("/api/v1/app-passwords"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
    }
    let r = http
        .post(server.url("/api/v1/app-passwords"))
        .json(&json!({"name": "Thunderbird"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let pw = created["password"].as_str().unwrap().to_string();
    assert_eq!(created["login_name"], "alice");
    let list: Value = http
        .get(server.url("/api/v1/app-passwords"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("password").is_none(), "shown once only");
    assert_eq!(list[0]["last_used_at"], 0);

    // Stored as a keyed hash only.
    let stored = db.store().await.app_passwords_of("alice").await.unwrap();
    assert_ne!(stored[0].token_hash, pw);
    assert!(!stored[0].token_hash.contains(&pw));

    assert_eq!(me("alice", pw.clone()).await.status(), 200);
    let list: Value = http
        .get(server.url("/api/v1/app-passwords"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(list[0]["last_used_at"].as_i64().unwrap() > 0);
    assert_eq!(list[0]["last_used_ip"], "127.0.0.1");
    assert_eq!(list[0]["user_agent"], "caldav-sync/1.0");
    // Someone else's login name with Alice's app password: no.
    db.add_user("bob", "password-b");
    assert_eq!(me("bob", pw.clone()).await.status(), 401);

    // With 2FA on, the main password is refused with the reason; the app password works.
    let e: Value = http
        .post(server.url("/api/v1/2fa/totp"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = e["secret"].as_str().unwrap();
    http.post(server.url("/api/v1/2fa/totp/verify"))
        .json(&json!({"code": oathtool(secret, 0)}))
        .send()
        .await
        .unwrap();
    let r = me("alice", "password-a".into()).await;
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("Basic realm=\"twofold\"")
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "app_password_required");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("create an app password")
    );
    assert_eq!(me("alice", pw.clone()).await.status(), 200);
    assert_eq!(me("alice", "wrong".into()).await.status(), 401);

    let id = created["id"].as_str().unwrap();
    assert_eq!(
        http.delete(server.url(&format!("/api/v1/app-passwords/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        http.delete(server.url(&format!("/api/v1/app-passwords/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(me("alice", pw).await.status(), 401);
}

async fn devices_revoke_and_logout_everywhere(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let laptop = logged_in(&server, "alice", "password-a").await;
    let phone = logged_in(&server, "alice", "password-a").await;
    laptop
        .post(server.url("/api/v1/app-passwords"))
        .json(&json!({"name": "phone"}))
        .send()
        .await
        .unwrap();

    let d: Value = laptop
        .get(server.url("/api/v1/devices"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sessions = d["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(d["app_passwords"].as_array().unwrap().len(), 1);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(sessions[0]["ip"], "127.0.0.1");

    assert_eq!(
        laptop
            .delete(server.url(&format!("/api/v1/sessions/{other}")))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        phone
            .get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        laptop
            .get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Another user's session id cannot be revoked by Alice.
    db.add_user("bob", "password-b");
    let bob = logged_in(&server, "bob", "password-b").await;
    let bobs: Value = bob
        .get(server.url("/api/v1/devices"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bob_id = bobs["sessions"][0]["id"].as_str().unwrap();
    assert_eq!(
        laptop
            .delete(server.url(&format!("/api/v1/sessions/{bob_id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        bob.get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let r = laptop
        .post(server.url("/api/v1/logout-everywhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ended: serde_json::Value = r.json().await.unwrap();
    assert_eq!(ended["passkeys_remaining"], serde_json::json!([]));
    assert_eq!(
        laptop
            .get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let store = db.store().await;
    assert!(
        store
            .sessions_of("alice", twofold::app::now())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.app_passwords_of("alice").await.unwrap().is_empty());
}

async fn client_login_flow(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    // Alice has 2FA.
    let setup = logged_in(&server, "alice", "password-a").await;
    let e: Value = setup
        .post(server.url("/api/v1/2fa/totp"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = e["secret"].as_str().unwrap().to_string();
    setup
        .post(server.url("/api/v1/2fa/totp/verify"))
        .json(&json!({"code": oathtool(&secret, 0)}))
        .send()
        .await
        .unwrap();

    let client = reqwest::Client::new();
    let started: Value = client
        .post(server.url("/api/v1/login/flow"))
        .header("user-agent", "Desktop Sync 3.1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let login_url = started["login"]
        .as_str()
        .unwrap()
        .replace("localhost", "127.0.0.1");
    let token = started["poll"]["token"].as_str().unwrap().to_string();
    let poll = || {
        let client = client.clone();
        let (url, token) = (server.url("/api/v1/login/flow/poll"), token.clone());
        async move {
            client
                .post(url)
                .json(&json!({"token": token}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(poll().await.status(), 404, "nothing before the user grants");

    // The browser: not signed in → login (with 2FA) → back to the grant page.
    let b = browser();
    let r = b.get(&login_url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to_login = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to_login.starts_with("/login?rd="));
    let html = b
        .get(server.url(&to_login))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = b
        .post(server.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("uid", "alice"),
            ("password", "password-a"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/login/challenge");
    let html = b
        .get(server.url("/login/challenge"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = b
        .post(server.url("/login/challenge"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("provider", "totp"),
            ("code", &oathtool(&secret, 30)),
        ])
        .send()
        .await
        .unwrap();
    let back = r.headers()["location"]
        .to_str()
        .unwrap()
        .replace("localhost", "127.0.0.1");
    assert_eq!(back, login_url, "back to the grant page after login");
    let html = b.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Desktop Sync 3.1"));
    assert_eq!(poll().await.status(), 404, "not granted yet");
    let r = b
        .post(&back)
        .form(&[("csrf", csrf_of(&html).as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Access granted"));

    let r = poll().await;
    assert_eq!(r.status(), 200);
    let creds: Value = r.json().await.unwrap();
    assert_eq!(creds["login_name"], "alice");
    let app_password = creds["app_password"].as_str().unwrap();
    let me = client
        .get(server.url("/api/v1/me"))
        .basic_auth("alice", Some(app_password))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    // Nothing of it works twice.
    assert_eq!(poll().await.status(), 404);
    assert_eq!(b.get(&back).send().await.unwrap().status(), 404);
    let list: Value = b
        .get(server.url("/api/v1/app-passwords"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["name"], "Desktop Sync 3.1");
    // A made-up token is simply unknown.
    let r = client
        .post(server.url("/api/v1/login/flow/poll"))
        .json(&json!({"token": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

async fn forward_auth_for_traefik_and_caddy(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    db.add_user("bob", "password-b");
    assert!(db.cli(&["group", "add", "admins"], "").status.success());
    assert!(
        db.cli(&["group", "add-member", "admins", "alice"], "")
            .status
            .success()
    );
    let config = db.dir.path().join("twofold.toml");
    std::fs::write(
        &config,
        r#"
[forward_auth]
default_policy = "one_factor"
allowed_domains = ["example.org"]

[[forward_auth.rules]]
host = "files.example.org"
path = "/public/"
policy = "bypass"

[[forward_auth.rules]]
host = "*.example.org"
path = "/admin"
policy = "one_factor"
groups = ["admins"]

[[forward_auth.rules]]
host = "vault.example.org"
policy = "two_factor"

[[forward_auth.rules]]
host = "closed.example.org"
policy = "deny"
"#,
    )
    .unwrap();
    let server = Server::start_with(&db, &[("TWOFOLD_CONFIG", config.to_str().unwrap())]).await;
    let fa = server.url("/api/v1/forward-auth/traefik");
    let ask = |client: &reqwest::Client, host: &str, uri: &str| {
        client
            .get(&fa)
            .header("x-forwarded-method", "GET")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", host.to_string())
            .header("x-forwarded-uri", uri.to_string())
    };
    let anon = browser();
    let r = ask(&anon, "files.example.org", "/public/readme")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "bypass");
    let r = ask(&anon, "closed.example.org", "/").send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = ask(&anon, "files.example.org", "/private")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a non-browser gets 401");
    assert!(r.headers().contains_key("www-authenticate"));
    let r = ask(&anon, "files.example.org", "/private?x=1")
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FOUND,
        "Traefik/Caddy: browsers are redirected"
    );
    let location = r.headers()["location"].to_str().unwrap();
    assert!(
        location.ends_with("/login?rd=https%3A%2F%2Ffiles.example.org%2Fprivate%3Fx%3D1"),
        "{location}"
    );
    // A host outside the allowed domains: redirected, but without a way back (no open redirect).
    let r = ask(&anon, "evil.org", "/x")
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(!r.headers()["location"].to_str().unwrap().contains("rd="));
    // The login page ignores a foreign rd.
    let r = anon
        .get(server.url("/login?rd=https%3A%2F%2Fevil.org%2F"))
        .send()
        .await
        .unwrap();
    assert!(
        !r.headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("twofold_rd="))
    );

    let alice = logged_in(&server, "alice", "password-a").await;
    let r = ask(&alice, "files.example.org", "/private")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["remote-user"], "alice");
    assert_eq!(r.headers()["remote-groups"], "admins");
    assert_eq!(r.headers()["remote-name"], "alice");
    assert_eq!(
        ask(&alice, "wiki.example.org", "/admin/users")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        ask(&alice, "vault.example.org", "/")
            .send()
            .await
            .unwrap()
            .status(),
        403,
        "two_factor needs a second factor"
    );
    let bob = logged_in(&server, "bob", "password-b").await;
    assert_eq!(
        ask(&bob, "wiki.example.org", "/admin/users")
            .send()
            .await
            .unwrap()
            .status(),
        403,
        "not in admins"
    );
    assert_eq!(
        ask(&bob, "wiki.example.org", "/")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Missing proxy headers: a clear error, not a decision.
    let r = alice.get(&fa).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("X-Forwarded-Host"));

    // Redirect back after login through the portal.
    let b = browser();
    b.get(server.url("/login?rd=https%3A%2F%2Ffiles.example.org%2Fprivate"))
        .send()
        .await
        .unwrap();
    let html = b
        .get(server.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = b
        .post(server.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("uid", "bob"),
            ("password", "password-b"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "https://files.example.org/private");

    if backend == Backend::Postgres {
        // Fail closed: with the database gone nobody passes, not even a known session.
        db.drop_database().await;
        assert_eq!(
            ask(&alice, "files.example.org", "/private")
                .send()
                .await
                .unwrap()
                .status(),
            503
        );
        let r = ask(&reqwest::Client::new(), "files.example.org", "/private")
            .basic_auth("alice", Some("password-a"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_page_creates_and_revokes_app_passwords() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = browser();
    let html = http
        .get(server.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    http.post(server.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("uid", "alice"),
            ("password", "password-a"),
        ])
        .send()
        .await
        .unwrap();
    let html = http
        .get(server.url("/settings/devices"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("(this browser)"));
    let csrf = csrf_of(&html);
    let r = http
        .post(server.url("/settings/devices/app-passwords"))
        .form(&[("csrf", csrf.as_str()), ("name", "  ")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http
        .post(server.url("/settings/devices/app-passwords"))
        .form(&[("csrf", csrf.as_str()), ("name", "Phone")])
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    let key = "<code id=\"new-app-password\">";
    let start = html.find(key).unwrap() + key.len();
    let pw = html[start..].split('<').next().unwrap().to_string();
    let ok = reqwest::Client::new()
        .get(server.url("/api/v1/me"))
        .basic_auth("alice", Some(&pw))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let html = http
        .get(server.url("/settings/devices"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains(&pw), "shown once");
    let id = db.store().await.app_passwords_of("alice").await.unwrap()[0]
        .id
        .clone();
    let r = http
        .post(server.url("/settings/devices/revoke"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("kind", "app_password"),
            ("id", id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let gone = reqwest::Client::new()
        .get(server.url("/api/v1/me"))
        .basic_auth("alice", Some(&pw))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 401);
}

/// A sync client starting up opens many connections at once with a new app password:
/// its first use is recorded (and audited) once, not once per request in flight.
async fn a_burst_of_first_uses_is_recorded_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = logged_in(&server, "alice", "password-a").await;
    let created: Value = http
        .post(server.url("/api/v1/app-passwords"))
        .json(&json!({"name": "Sync"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pw = created["password"].as_str().unwrap().to_string();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (url, pw) = (server.url("/api/v1/me"), pw.clone());
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .get(url)
                .basic_auth("alice", Some(pw))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let out = db.cli(&["audit", "--user", "alice", "--json"], "");
    let first_uses = crate::common::text(&out.stdout)
        .lines()
        .filter(|l| l.contains("app_password_first_used"))
        .count();
    assert_eq!(first_uses, 1);
}

/// Issue 24: a user with many sessions (here 121) gets them a page at a time, on the
/// devices page (50) and from the API (`?page=&per_page=`, at most 200), not one list of
/// hundreds of kilobytes.
async fn defect_24_5_many_sessions_are_listed_a_page_at_a_time(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let alice = logged_in(&server, "alice", "password-a").await;
    // 120 more live sessions, copies of hers with their own ids and token hashes.
    crate::common::sql(
        &db,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120)
         INSERT INTO sessions (id, token_hash, uid, stage, remember, created_at, last_seen_at,
                               expires_at, ip, user_agent, factors, auth_at)
         SELECT 'copy-' || (1000 + i), 'hash-' || (1000 + i), s.uid, s.stage, s.remember,
                s.created_at + i, s.last_seen_at, s.expires_at, s.ip, 'Browser ' || i,
                s.factors, s.auth_at
         FROM n, sessions s WHERE s.uid = 'alice'",
    )
    .await;
    let devices = |query: &'static str| {
        let r = alice
            .get(server.url(&format!("/api/v1/devices{query}")))
            .send();
        async move {
            let r = r.await.unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or_default())
        }
    };
    let (status, first) = devices("").await;
    assert_eq!(status, 200);
    assert_eq!(first["sessions"].as_array().unwrap().len(), 50);
    assert_eq!(
        (
            first["sessions_total"].as_i64(),
            first["page"].as_i64(),
            first["per_page"].as_i64()
        ),
        (Some(121), Some(1), Some(50))
    );
    let (_, last) = devices("?page=3").await;
    assert_eq!(last["sessions"].as_array().unwrap().len(), 21);
    let (_, big) = devices("?per_page=200").await;
    assert_eq!(big["sessions"].as_array().unwrap().len(), 121);
    // Every session on exactly one page.
    let mut ids = std::collections::BTreeSet::new();
    for q in ["?page=1", "?page=2", "?page=3"] {
        for s in devices(q).await.1["sessions"].as_array().unwrap() {
            assert!(ids.insert(s["id"].as_str().unwrap().to_string()), "{s}");
        }
    }
    assert_eq!(ids.len(), 121);
    for bad in ["?per_page=201", "?per_page=0", "?page=0", "?page=x"] {
        assert_eq!(devices(bad).await.0, StatusCode::BAD_REQUEST, "{bad}");
    }
    // The page: 50 sessions and a link on; the last page links back.
    let page = |path: &'static str| {
        let r = alice.get(server.url(path)).send();
        async move { r.await.unwrap().text().await.unwrap() }
    };
    let html = page("/settings/devices").await;
    let sessions = |html: &str| {
        let list = html.split("id=\"sessions\"").nth(1).unwrap();
        list.split("</ul>").next().unwrap().matches("<li>").count()
    };
    assert_eq!(sessions(&html), 50);
    assert!(html.contains("href=\"/settings/devices?page=2\""), "{html}");
    assert!(html.contains("1 of 3"), "{html}");
    let html = page("/settings/devices?page=3").await;
    assert_eq!(sessions(&html), 21);
    assert!(html.contains("rel=\"prev\" href=\"/settings/devices?page=2\""));
    assert!(!html.contains("rel=\"next\""));
}

/// Issue 17.12: `Dave` signs in as `DAVE` or `dave` at the API, with HTTP Basic (password
/// and app password), and the CLI finds him in any case; `dave` cannot be added beside him.
async fn defect_17_12_any_case_of_a_user_name_signs_in_everywhere(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("Dave", "password-d");
    let out = db.cli(&["user", "add", "dave", "--password-stdin"], "password-x\n");
    assert!(!out.status.success(), "a case twin was created");
    let out = db.cli(&["user", "show", "DAVE"], "");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("uid:          Dave"));
    let server = Server::start(&db).await;
    let http = browser();
    let r = http
        .post(server.url("/api/v1/login"))
        .json(&json!({"uid": "DAVE", "password": "password-d"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["uid"], "Dave");
    let r = http
        .post(server.url("/api/v1/app-passwords"))
        .json(&json!({"name": "sync"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let app = r.json::<Value>().await.unwrap()["password"]
        .as_str()
        .unwrap()
        .to_string();
    let me = |user: &'static str, pw: String| {
        let url = server.url("/api/v1/me");
        async move {
            reqwest::Client::new()
                .get(url)
                .basic_auth(user, Some(pw))
                .send()
                .await
                .unwrap()
        }
    };
    for user in ["dave", "DAVE", "Dave"] {
        for pw in ["password-d".to_string(), app.clone()] {
            let r = me(user, pw).await;
            assert_eq!(r.status(), 200, "{user}");
            assert_eq!(r.json::<Value>().await.unwrap()["uid"], "Dave");
        }
    }
    assert_eq!(me("davey", app.clone()).await.status(), 401);
}
