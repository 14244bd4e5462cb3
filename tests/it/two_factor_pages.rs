//! The second-factor pages and the admin security page and API, over HTTP.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{
    Backend, Server, TestDb, bootstrap_password, both, browser, csrf_of, stage_after_password, text,
};
use crate::two_factor::oathtool;

both!(
    challenge_and_settings_pages,
    setup_required_page_then_security_page,
    admin_sets_enforcement_from_web_and_api,
    password_step_is_throttled,
    the_admin_user_list_is_paged_and_searchable,
    defect_17_8_admin_page_refusals_say_what_they_are,
);

fn secret_of(html: &str) -> String {
    let key = "<code id=\"totp-secret\">";
    let start = html.find(key).unwrap() + key.len();
    html[start..].split('<').next().unwrap().to_string()
}

async fn page_login(
    http: &reqwest::Client,
    server: &Server,
    uid: &str,
    pw: &str,
) -> reqwest::Response {
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
            ("uid", uid),
            ("password", pw),
        ])
        .send()
        .await
        .unwrap()
}

async fn get(http: &reqwest::Client, server: &Server, path: &str) -> String {
    http.get(server.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn post(
    http: &reqwest::Client,
    server: &Server,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    http.post(server.url(path)).form(form).send().await.unwrap()
}

async fn challenge_and_settings_pages(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = browser();
    assert_eq!(
        page_login(&http, &server, "alice", "password-a")
            .await
            .headers()["location"],
        "/"
    );

    // Set up TOTP on the security page: QR and secret, then Verify.
    let html = get(&http, &server, "/settings/security").await;
    assert!(html.contains("Authenticator app: not set up"));
    assert!(
        html.contains("Set up an authenticator app first"),
        "no backup codes without a factor"
    );
    let r = post(
        &http,
        &server,
        "/settings/security/totp/begin",
        &[("csrf", &csrf_of(&html))],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = get(&http, &server, "/settings/security").await;
    assert!(html.contains("<svg"), "QR code inline");
    let secret = secret_of(&html);
    let csrf = csrf_of(&html);
    let r = post(
        &http,
        &server,
        "/settings/security/totp/verify",
        &[("csrf", &csrf), ("code", "000000")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("That code is not valid."));
    let r = post(
        &http,
        &server,
        "/settings/security/totp/verify",
        &[("csrf", &csrf), ("code", &oathtool(&secret, 0))],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = get(&http, &server, "/settings/security").await;
    assert!(html.contains("Authenticator app: active"));
    // Refused input shows the page again with a message, not a bare error.
    for (path, form, status) in [
        (
            "/settings/security/webauthn/credentials/rename",
            vec![("csrf", csrf.as_str()), ("id", "nope"), ("name", "   ")],
            StatusCode::BAD_REQUEST,
        ),
        (
            "/settings/security/webauthn/credentials/rename",
            vec![("csrf", csrf.as_str()), ("id", "nope"), ("name", "Key")],
            StatusCode::NOT_FOUND,
        ),
        (
            "/settings/security/nope/begin",
            vec![("csrf", csrf.as_str())],
            StatusCode::NOT_FOUND,
        ),
        // A stale "set up" form while TOTP is active: no talk of enforcement.
        (
            "/settings/security/totp/begin",
            vec![("csrf", csrf.as_str())],
            StatusCode::CONFLICT,
        ),
    ] {
        let r = post(&http, &server, path, &form).await;
        assert_eq!(r.status(), status, "{path}");
        let html = r.text().await.unwrap();
        assert!(html.contains("That was not accepted"), "{path}: {html}");
        assert!(
            html.contains("Authenticator app: active"),
            "the page itself"
        );
    }

    // Backup codes: shown once on the page.
    let r = post(
        &http,
        &server,
        "/settings/security/backup-codes",
        &[("csrf", &csrf)],
    )
    .await;
    let html = r.text().await.unwrap();
    assert!(html.contains("they are shown only once"));
    let codes: Vec<String> = html
        .split("<li><code>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    assert!(
        !get(&http, &server, "/settings/security")
            .await
            .contains(&codes[0]),
        "never shown again"
    );

    // A new login goes to the challenge; several methods: a choice, last used first.
    let b = browser();
    let r = page_login(&b, &server, "alice", "password-a").await;
    assert_eq!(r.headers()["location"], "/login/challenge");
    assert_eq!(
        b.get(server.url("/")).send().await.unwrap().headers()["location"],
        "/login/challenge"
    );
    let html = get(&b, &server, "/login/challenge").await;
    assert!(html.contains("value=\"totp\" checked"), "{html}");
    assert!(html.contains("Backup code"));
    let csrf = csrf_of(&html);
    let r = post(
        &b,
        &server,
        "/login/challenge",
        &[("csrf", &csrf), ("provider", "totp"), ("code", "000000")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = post(
        &b,
        &server,
        "/login/challenge",
        &[
            ("csrf", &csrf),
            ("provider", "backup_codes"),
            ("code", &codes[0]),
        ],
    )
    .await;
    assert_eq!(r.headers()["location"], "/?notice=backup_code_used");
    let html = get(&b, &server, "/?notice=backup_code_used").await;
    assert!(
        html.contains("You signed in with a backup code. 9 unused backup codes left"),
        "{html}"
    );

    // French challenge page.
    let c = browser();
    page_login(&c, &server, "alice", "password-a").await;
    let fr = c
        .get(server.url("/login/challenge"))
        .header("accept-language", "fr")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(fr.contains("Authentification à deux facteurs") && fr.contains("Code de secours"));
    // French security page: each provider's own section speaks the page's language.
    let fr = b
        .get(server.url("/settings/security"))
        .header("accept-language", "fr")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // (askama writes an apostrophe as &#39;)
    for text in [
        "Application d&#39;authentification : active",
        "Clés de sécurité",
        "Clés d&#39;accès",
        "Codes de secours",
    ] {
        assert!(fr.contains(text), "{text}: {fr}");
    }
}

async fn setup_required_page_then_security_page(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    assert!(
        db.cli(&["twofactorauth", "enforce", "--on"], "")
            .status
            .success()
    );
    let server = Server::start(&db).await;
    let http = browser();
    let r = page_login(&http, &server, "alice", "password-a").await;
    assert_eq!(r.headers()["location"], "/login/setup");
    assert_eq!(
        http.get(server.url("/settings/security"))
            .send()
            .await
            .unwrap()
            .headers()["location"],
        "/login/setup"
    );
    let html = get(&http, &server, "/login/setup").await;
    assert!(html.contains("Your administrator requires two-factor authentication"));
    assert!(html.contains("<svg"));
    let secret = secret_of(&html);
    let r = post(
        &http,
        &server,
        "/login/setup",
        &[
            ("csrf", &csrf_of(&html)),
            ("provider", "totp"),
            ("code", &oathtool(&secret, 0)),
        ],
    )
    .await;
    assert_eq!(r.headers()["location"], "/settings/security");
    let html = get(&http, &server, "/settings/security").await;
    assert!(html.contains("Two-factor authentication is required for your account."));
    // Removing the last factor while enforced is refused with a message.
    let r = post(
        &http,
        &server,
        "/settings/security/totp/remove",
        &[("csrf", &csrf_of(&html))],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Two-factor authentication is required for your account.")
    );
    assert!(db.store().await.totp("alice").await.unwrap().is_some());
}

async fn admin_sets_enforcement_from_web_and_api(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let admin_pw = bootstrap_password(&server);
    db.add_user("alice", "password-a");
    db.add_user("guest", "password-g");
    for (cmd, args) in [
        ("add", vec!["staff"]),
        ("add", vec!["guests"]),
        ("add-member", vec!["staff", "alice"]),
        ("add-member", vec!["guests", "guest"]),
    ] {
        let mut a = vec!["group", cmd];
        a.extend(args);
        assert!(db.cli(&a, "").status.success());
    }

    // A non-admin gets 403 from both.
    let user = browser();
    page_login(&user, &server, "alice", "password-a").await;
    assert_eq!(
        user.get(server.url("/admin/security"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        user.get(server.url("/api/v1/admin/enforcement"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    let admin = browser();
    page_login(&admin, &server, "admin", &admin_pw).await;
    let html = get(&admin, &server, "/admin/security").await;
    assert!(html.contains("Two-factor authentication is not enforced."));
    let csrf = csrf_of(&html);
    // Web: enforce for staff, exclude guests.
    let r = admin
        .post(server.url("/admin/security/enforcement"))
        .body(format!(
            "csrf={csrf}&enforced=on&group=staff&exclude=guests"
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("enforced for members of the group(s) staff")
    );
    assert!(
        text(&db.cli(&["twofactorauth", "enforce"], "").stdout)
            .contains("members of the group(s) staff")
    );
    assert_eq!(
        stage_after_password(&server, "alice", "password-a").await,
        "setup_required"
    );
    assert_eq!(
        stage_after_password(&server, "guest", "password-g").await,
        "authenticated"
    );

    // API: everyone except guests.
    let r = admin
        .put(server.url("/api/v1/admin/enforcement"))
        .json(&json!({"enforced": true, "groups": [], "excluded": ["guests"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        stage_after_password(&server, "guest", "password-g").await,
        "authenticated"
    );
    assert_eq!(
        stage_after_password(&server, "alice", "password-a").await,
        "setup_required"
    );
    // Bad input changes nothing.
    for body in [
        json!({"enforced": true, "groups": ["ghosts"]}),
        json!({"enforced": "yes"}),
        json!({"enforced": true, "groups": ["a b"]}),
    ] {
        let r = admin
            .put(server.url("/api/v1/admin/enforcement"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{body}");
    }
    let e: Value = admin
        .get(server.url("/api/v1/admin/enforcement"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        e,
        json!({"enforced": true, "groups": [], "excluded": ["guests"]})
    );

    // Providers through the API; backup codes cannot be switched off.
    let r = admin
        .put(server.url("/api/v1/admin/providers/backup_codes"))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = admin
        .put(server.url("/api/v1/admin/providers/totp"))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let p: Value = admin
        .get(server.url("/api/v1/admin/providers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        p[0],
        json!({"id": "totp", "enabled": false, "always_on": false, "unavailable": null})
    );
    let status: Value = admin
        .get(server.url("/api/v1/admin/users/alice/2fa"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["enforced"], true);
    assert_eq!(
        admin
            .get(server.url("/api/v1/admin/users/nobody/2fa"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

async fn password_step_is_throttled(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = reqwest::Client::new();
    let attempt = |pw: &'static str| {
        let http = http.clone();
        let url = server.url("/api/v1/login");
        async move {
            http.post(url)
                .json(&json!({"uid": "alice", "password": pw}))
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..5 {
        assert_eq!(attempt("wrong-password").await.status(), 401);
    }
    let r = attempt("password-a").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    // The address's own bucket (shared addresses get 20 before delays): failures on
    // other names fill it, and then an unknown name gets the same answer as a real one.
    for i in 0..15 {
        let r = http
            .post(server.url("/api/v1/login"))
            .json(&json!({"uid": format!("someone-{i}"), "password": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "failure {i} on another name");
    }
    let r = http
        .post(server.url("/api/v1/login"))
        .json(&json!({"uid": "nobody", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
}

/// The admin page lists users 50 at a time, with a search by uid or name: an install of a
/// million users must not load them all (nor 3 queries each) to show the page.
async fn the_admin_user_list_is_paged_and_searchable(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let admin_pw = bootstrap_password(&server);
    // 120 more users, copies of the admin's row: u1001 … u1120, display names "Person N".
    crate::common::sql(
        &db,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120)
         INSERT INTO users (uid, display_name, email, password_hash, enabled, is_admin, created_at)
         SELECT 'u' || (1000 + i), 'Person ' || i, '', u.password_hash, 1, 0, 0
         FROM n, users u WHERE u.uid = 'admin'",
    )
    .await;
    let admin = browser();
    page_login(&admin, &server, "admin", &admin_pw).await;
    let rows = |html: &str| html.matches("<tr><th scope=\"row\">").count();
    let html = get(&admin, &server, "/admin/security").await;
    assert_eq!(rows(&html), 50);
    assert!(html.contains("121 users match; page 1 of 3"), "{html}");
    // (askama writes the `&` of the link as `&#38;`.)
    assert!(
        html.contains("rel=\"next\" href=\"/admin/security?q=&#38;page=2\""),
        "{html}"
    );
    assert!(!html.contains("rel=\"prev\""));
    let html = get(&admin, &server, "/admin/security?page=3").await;
    assert_eq!(rows(&html), 21);
    assert!(html.contains(">u1120<"));
    assert!(!html.contains("rel=\"next\""));
    // By display name, any case; `%` and `_` are letters, not patterns.
    let html = get(&admin, &server, "/admin/security?q=PERSON%2011").await;
    assert!(html.contains("11 users match; page 1 of 1"), "{html}");
    let html = get(&admin, &server, "/admin/security?q=%25").await;
    assert!(html.contains("0 users match"), "{html}");
    // Nonsense pages are the first or an empty one, never an error.
    for q in ["page=0", "page=-4", "page=99999999999999999"] {
        let r = admin
            .get(server.url(&format!("/admin/security?{q}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{q}");
    }
    let r = admin
        .get(server.url("/admin/security?page=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        400,
        "a page that is not a number is a clear error"
    );
}

/// Issue 17.8: the admin page answered every refusal with "The form expired" (and every
/// not-found with "unknown group"), and offered a Reset for backup codes that can never
/// work. Each refusal now says what it is, and only resettable methods get a button.
async fn defect_17_8_admin_page_refusals_say_what_they_are(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let out = db.cli(
        &["user", "add", "--admin", "root", "--password-stdin"],
        "password-r\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = Server::start(&db).await;
    let (alice, _) = crate::two_factor::enroll_totp(&server, "alice", "password-a").await;
    let r = alice
        .post(server.url("/api/v1/2fa/backup-codes"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());

    let admin = browser();
    page_login(&admin, &server, "root", "password-r").await;
    let html = get(&admin, &server, "/admin/security?q=alice").await;
    assert!(html.contains("value=\"totp\""), "{html}");
    assert!(
        !html.contains("value=\"backup_codes\""),
        "no Reset for backup codes"
    );
    assert!(html.contains("backup_codes"), "still listed as active");
    let csrf = csrf_of(&html);

    let post = |path: &'static str, form: Vec<(&'static str, &'static str)>| {
        let admin = admin.clone();
        let url = server.url(path);
        let csrf = csrf.clone();
        async move {
            let mut form: Vec<(&str, &str)> = form;
            form.push(("csrf", &csrf));
            let r = admin.post(url).form(&form).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    for (path, form, status, want) in [
        (
            "/admin/security/reset",
            vec![("uid", "alice"), ("provider", "backup_codes")],
            400,
            "An administrator cannot reset this method",
        ),
        (
            "/admin/security/reset",
            vec![("uid", "nobody"), ("provider", "totp")],
            400,
            "This user no longer exists",
        ),
        (
            "/admin/security/reset",
            vec![("uid", "alice"), ("provider", "sms")],
            400,
            "This two-factor method is not known here",
        ),
        (
            "/admin/security/providers",
            vec![("provider", "backup_codes"), ("enabled", "false")],
            400,
            "This method is always available",
        ),
    ] {
        let (got, body) = post(path, form.clone()).await;
        assert_eq!(got.as_u16(), status, "{path} {form:?}");
        assert!(body.contains(want), "{path} {form:?}: {body}");
        assert!(!body.contains("The form expired"), "{path} {form:?}");
    }
    assert_eq!(
        stage_after_password(&server, "alice", "password-a").await,
        "second_factor_pending",
        "nothing was reset"
    );
    // The TOTP reset still works.
    let (got, body) = post(
        "/admin/security/reset",
        vec![("uid", "alice"), ("provider", "totp")],
    )
    .await;
    assert_eq!(got, StatusCode::OK, "{body}");
    assert_eq!(
        stage_after_password(&server, "alice", "password-a").await,
        "authenticated"
    );
}
