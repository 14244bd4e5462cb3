//! Second factors end to end through the real binary: TOTP enrollment checked with
//! `oathtool` and `zbarimg`, the login challenge, replay (also concurrent), backup codes,
//! enforcement and admin commands, a provider disabled system-wide, throttling.

use std::process::Command;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::common::{
    Backend, Server, TestDb, api_login, both, browser, sql_count, stage_after_password, text,
};

both!(
    totp_enrollment_then_login_needs_a_code,
    one_code_two_concurrent_logins_one_wins,
    backup_codes_work_once,
    enforcement_through_the_cli_decides_the_login_stage,
    setup_required_in_the_login_flow,
    disabled_provider_warns_and_never_lets_in_single_factor,
    admin_commands_mirror_occ,
    challenge_is_throttled,
    defect_17_9_state_says_what_the_sign_in_asks,
    defect_17_16_enforce_flags_do_what_they_say,
);

/// A TOTP code from oathtool, the reference implementation, `offset` seconds from now.
pub fn oathtool(secret_b32: &str, offset: i64) -> String {
    let now = twofold::app::now() + offset;
    let out = Command::new("oathtool")
        .args(["--totp=SHA1", "-d", "6", "-s", "30s", "-b", "--now"])
        .arg(format!("@{now}"))
        .arg(secret_b32)
        .output()
        .expect("oathtool is installed (Debian package oathtool)");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

pub(crate) async fn challenge(
    http: &Client,
    server: &Server,
    provider: &str,
    code: &str,
) -> reqwest::Response {
    http.post(server.url("/api/v1/login/challenge"))
        .json(&json!({"provider": provider, "code": code}))
        .send()
        .await
        .unwrap()
}

/// Logs in (no 2FA yet), enrolls TOTP with a code from now, returns the base32 secret.
pub(crate) async fn enroll_totp(server: &Server, uid: &str, pw: &str) -> (Client, String) {
    let http = browser();
    api_login(&http, server, uid, pw).await;
    let r = http
        .post(server.url("/api/v1/2fa/totp"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let e: Value = r.json().await.unwrap();
    let secret = e["secret"].as_str().unwrap().to_string();
    let r = http
        .post(server.url("/api/v1/2fa/totp/verify"))
        .json(&json!({"code": oathtool(&secret, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    (http, secret)
}

async fn totp_enrollment_then_login_needs_a_code(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = browser();
    let body = api_login(&http, &server, "alice", "password-a").await;
    assert_eq!(
        body["stage"], "authenticated",
        "no 2FA yet: one factor is all there is"
    );

    let r = http
        .post(server.url("/api/v1/2fa/totp"))
        .send()
        .await
        .unwrap();
    let e: Value = r.json().await.unwrap();
    let secret = e["secret"].as_str().unwrap();
    let uri = e["uri"].as_str().unwrap();
    assert_eq!(
        twofold::providers::totp::otp::from_base32(secret)
            .unwrap()
            .len(),
        20,
        "160-bit secret"
    );
    assert_eq!(
        uri,
        format!(
            "otpauth://totp/twofold:alice?secret={secret}&issuer=twofold&algorithm=SHA1&digits=6&period=30"
        )
    );
    assert!(e["qr_svg"].as_str().unwrap().contains("<svg"));

    // The PNG download decodes (zbarimg) back to the same URI.
    let png = http
        .get(server.url("/api/v1/2fa/totp/qr.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    let path = db.dir.path().join("qr.png");
    std::fs::write(&path, png.bytes().await.unwrap()).unwrap();
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "--nodbus"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout).trim(), uri);

    // A secret being set up is the session's ceremony, not yet the user's secret.
    assert!(db.store().await.totp("alice").await.unwrap().is_none());
    assert_eq!(
        sql_count(
            &db,
            "SELECT COUNT(*) FROM ceremonies WHERE provider = 'totp'"
        )
        .await,
        1
    );

    // Not active until verified: a wrong code leaves it pending.
    let r = http
        .post(server.url("/api/v1/2fa/totp/verify"))
        .json(&json!({"code": "000000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let status: Value = http
        .get(server.url("/api/v1/2fa"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["providers"], json!([]));
    let r = http
        .post(server.url("/api/v1/2fa/totp/verify"))
        .json(&json!({"code": oathtool(secret, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The secret is encrypted at rest: the database never holds it in the clear.
    let row = db.store().await.totp("alice").await.unwrap().unwrap();
    assert!(!row.secret.contains(secret));
    assert_eq!(row.confirmed, 1);
    let status: Value = http
        .get(server.url("/api/v1/2fa"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["providers"][0]["provider"], "totp");
    assert_eq!(status["providers"][0]["active"], true);

    // From now on the password alone is not enough.
    let fresh = browser();
    let body = api_login(&fresh, &server, "alice", "password-a").await;
    assert_eq!(body["stage"], "second_factor_pending");
    assert_eq!(
        fresh
            .get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        fresh
            .get(server.url("/api/v1/2fa"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let p: Value = fresh
        .get(server.url("/api/v1/login/providers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["providers"], json!(["totp"]));
    assert_eq!(p["some_unavailable"], false);
    assert_eq!(
        challenge(&fresh, &server, "totp", "123456").await.status(),
        401
    );
    assert_eq!(
        challenge(&fresh, &server, "totp", "12345").await.status(),
        401
    );
    // The code of the next step (enrollment used this one: replay guard).
    let code = oathtool(secret, 30);
    let r = challenge(&fresh, &server, "totp", &code).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("twofold_session=")),
        "session id rotated at the second step"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["stage"], "authenticated");
    assert_eq!(
        fresh
            .get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // The same code again, in another login: refused (replay).
    let other = browser();
    api_login(&other, &server, "alice", "password-a").await;
    assert_eq!(
        challenge(&other, &server, "totp", &code).await.status(),
        401
    );
    assert_eq!(
        other
            .get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

async fn one_code_two_concurrent_logins_one_wins(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let (_, secret) = enroll_totp(&server, "alice", "password-a").await;
    let (a, b) = (browser(), browser());
    api_login(&a, &server, "alice", "password-a").await;
    api_login(&b, &server, "alice", "password-a").await;
    let code = oathtool(&secret, 30);
    let (ra, rb) = tokio::join!(
        challenge(&a, &server, "totp", &code),
        challenge(&b, &server, "totp", &code)
    );
    let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
    statuses.sort();
    assert_eq!(
        statuses,
        [200, 401],
        "exactly one of two concurrent uses of a code wins"
    );
}

async fn backup_codes_work_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    db.add_user("bob", "password-b");
    let server = Server::start(&db).await;

    // Without another factor there are no backup codes to be had.
    let bob = browser();
    api_login(&bob, &server, "bob", "password-b").await;
    assert_eq!(
        bob.post(server.url("/api/v1/2fa/backup-codes"))
            .send()
            .await
            .unwrap()
            .status(),
        409
    );

    let (http, _) = enroll_totp(&server, "alice", "password-a").await;
    let r = http
        .post(server.url("/api/v1/2fa/backup-codes"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let first: Vec<String> =
        serde_json::from_value(r.json::<Value>().await.unwrap()["codes"].clone()).unwrap();
    assert_eq!(first.len(), 10);
    // Regenerating invalidates all earlier codes.
    let r = http
        .post(server.url("/api/v1/2fa/backup-codes"))
        .send()
        .await
        .unwrap();
    let codes: Vec<String> =
        serde_json::from_value(r.json::<Value>().await.unwrap()["codes"].clone()).unwrap();
    let status: Value = http
        .get(server.url("/api/v1/2fa"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["backup_codes_left"], 10);

    let b1 = browser();
    api_login(&b1, &server, "alice", "password-a").await;
    assert_eq!(
        challenge(&b1, &server, "backup_codes", &first[0])
            .await
            .status(),
        401,
        "old code"
    );
    let p: Value = b1
        .get(server.url("/api/v1/login/providers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["providers"], json!(["totp", "backup_codes"]));
    // Typed in upper case with spaces: still the same code.
    let typed = codes[0].to_uppercase().replace('-', " ");
    assert_eq!(
        challenge(&b1, &server, "backup_codes", &typed)
            .await
            .status(),
        200
    );
    let status: Value = b1
        .get(server.url("/api/v1/2fa"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["backup_codes_left"], 9);
    // Last used is offered first now.
    let b2 = browser();
    api_login(&b2, &server, "alice", "password-a").await;
    let p: Value = b2
        .get(server.url("/api/v1/login/providers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["providers"][0], "backup_codes");
    assert_eq!(
        challenge(&b2, &server, "backup_codes", &codes[0])
            .await
            .status(),
        401,
        "single use"
    );
    assert_eq!(
        challenge(&b2, &server, "backup_codes", &codes[1])
            .await
            .status(),
        200
    );

    // Removing TOTP leaves backup codes that no longer count: one factor again.
    assert_eq!(
        http.delete(server.url("/api/v1/2fa/totp"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let b3 = browser();
    assert_eq!(
        api_login(&b3, &server, "alice", "password-a").await["stage"],
        "authenticated"
    );
}

async fn enforcement_through_the_cli_decides_the_login_stage(backend: Backend) {
    let db = TestDb::new(backend).await;
    for u in ["staffer", "guest", "both", "nobody"] {
        db.add_user(u, "password-x");
    }
    for g in ["staff", "guests"] {
        assert!(db.cli(&["group", "add", g], "").status.success());
    }
    for (g, u) in [
        ("staff", "staffer"),
        ("guests", "guest"),
        ("staff", "both"),
        ("guests", "both"),
    ] {
        assert!(db.cli(&["group", "add-member", g, u], "").status.success());
    }
    let server = Server::start(&db).await;
    let out = db.cli(&["twofactorauth", "enforce"], "");
    assert_eq!(
        text(&out.stdout).trim(),
        "Two-factor authentication is not enforced."
    );
    for u in ["staffer", "guest", "both", "nobody"] {
        assert_eq!(
            stage_after_password(&server, u, "password-x").await,
            "authenticated"
        );
    }

    // Groups selected: members of them; selected wins over excluded.
    let out = db.cli(
        &[
            "twofactorauth",
            "enforce",
            "--on",
            "--group",
            "staff",
            "--exclude",
            "guests",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("members of the group(s) staff"));
    for (u, want) in [
        ("staffer", "setup_required"),
        ("guest", "authenticated"),
        ("both", "setup_required"),
        ("nobody", "authenticated"),
    ] {
        assert_eq!(
            stage_after_password(&server, u, "password-x").await,
            want,
            "{u}"
        );
    }

    // No groups selected: everyone but the excluded.
    let out = db.cli(
        &["twofactorauth", "enforce", "--on", "--exclude", "guests"],
        "",
    );
    assert!(text(&out.stdout).contains("enforced for all users, except members of guests"));
    for (u, want) in [
        ("staffer", "setup_required"),
        ("guest", "authenticated"),
        ("both", "authenticated"),
        ("nobody", "setup_required"),
    ] {
        assert_eq!(
            stage_after_password(&server, u, "password-x").await,
            want,
            "{u}"
        );
    }

    // A group that does not exist: clear error, nothing changes.
    let out = db.cli(
        &["twofactorauth", "enforce", "--on", "--group", "ghosts"],
        "",
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("ghosts"));
    assert!(
        text(&db.cli(&["twofactorauth", "enforce"], "").stdout)
            .contains("except members of guests")
    );

    assert!(
        db.cli(&["twofactorauth", "enforce", "--off"], "")
            .status
            .success()
    );
    assert_eq!(
        stage_after_password(&server, "nobody", "password-x").await,
        "authenticated"
    );
}

async fn setup_required_in_the_login_flow(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    assert!(
        db.cli(&["twofactorauth", "enforce", "--on"], "")
            .status
            .success()
    );
    let server = Server::start(&db).await;
    let http = browser();
    assert_eq!(
        api_login(&http, &server, "alice", "password-a").await["stage"],
        "setup_required"
    );
    assert_eq!(
        http.get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
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
    assert!(
        r.headers().contains_key("set-cookie"),
        "new session id once authenticated"
    );
    assert_eq!(r.json::<Value>().await.unwrap()["stage"], "authenticated");
    assert_eq!(
        http.get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // While enforced, the last factor cannot be removed by the user…
    assert_eq!(
        http.delete(server.url("/api/v1/2fa/totp"))
            .send()
            .await
            .unwrap()
            .status(),
        409
    );
    // …but an admin can reset it (lost phone), and setup is required again.
    let out = db.cli(&["twofactorauth", "disable", "alice", "totp"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        stage_after_password(&server, "alice", "password-a").await,
        "setup_required"
    );
}

async fn disabled_provider_warns_and_never_lets_in_single_factor(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    db.add_user("bob", "password-b");
    let server = Server::start(&db).await;
    let (http, _) = enroll_totp(&server, "alice", "password-a").await;
    let codes: Value = http
        .post(server.url("/api/v1/2fa/backup-codes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    enroll_totp(&server, "bob", "password-b").await;

    let out = db.cli(&["provider", "disable", "totp"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&db.cli(&["provider", "list"], "").stdout).contains("totp           disabled"));

    let a = browser();
    assert_eq!(
        api_login(&a, &server, "alice", "password-a").await["stage"],
        "second_factor_pending"
    );
    let p: Value = a
        .get(server.url("/api/v1/login/providers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["providers"], json!(["backup_codes"]));
    assert_eq!(p["some_unavailable"], true);
    assert_eq!(challenge(&a, &server, "totp", "123456").await.status(), 400);
    let code = codes["codes"][0].as_str().unwrap();
    assert_eq!(
        challenge(&a, &server, "backup_codes", code).await.status(),
        200
    );

    // Bob has nothing else: he is told, and stays out.
    let b = browser();
    assert_eq!(
        api_login(&b, &server, "bob", "password-b").await["stage"],
        "second_factor_pending"
    );
    let p: Value = b
        .get(server.url("/api/v1/login/providers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["providers"], json!([]));
    assert_eq!(p["some_unavailable"], true);
    assert_eq!(
        b.get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let page = b
        .get(server.url("/login/challenge"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Could not load at least one of your enabled two-factor methods."));

    // Backup codes cannot be switched off system-wide.
    let out = db.cli(&["provider", "disable", "backup_codes"], "");
    assert!(!out.status.success());
    assert!(db.cli(&["provider", "enable", "totp"], "").status.success());
}

async fn admin_commands_mirror_occ(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    db.add_user("bob", "password-b");
    let server = Server::start(&db).await;
    let (http, _) = enroll_totp(&server, "alice", "password-a").await;
    http.post(server.url("/api/v1/2fa/backup-codes"))
        .send()
        .await
        .unwrap();

    let out = db.cli(&["twofactorauth", "state", "alice"], "");
    let said = text(&out.stdout);
    assert!(
        said.contains("Two-factor authentication is enabled for user alice"),
        "{said}"
    );
    assert!(
        said.contains("- totp") && said.contains("- backup_codes"),
        "{said}"
    );
    assert!(said.contains("Backup codes left: 10"));
    let out = db.cli(&["twofactorauth", "state", "bob"], "");
    assert!(text(&out.stdout).contains("not enabled for user bob"));

    for (args, want) in [
        (
            vec!["twofactorauth", "disable", "alice", "backup_codes"],
            "does not support being disabled by an admin",
        ),
        (
            vec!["twofactorauth", "enable", "bob", "totp"],
            "no confirmed TOTP secret",
        ),
        (
            vec!["twofactorauth", "enable", "alice", "sms"],
            "provider sms not found",
        ),
        (
            vec!["twofactorauth", "state", "nobody"],
            "user nobody not found",
        ),
    ] {
        let out = db.cli(&args, "");
        assert!(!out.status.success(), "{args:?}");
        assert!(
            text(&out.stderr).contains(want),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert!(
        db.cli(&["twofactorauth", "enable", "alice", "totp"], "")
            .status
            .success()
    );

    // Cleanup asks first; "n" removes nothing.
    let out = db.cli(&["twofactorauth", "cleanup", "totp"], "n\n");
    assert!(!out.status.success());
    assert!(text(&db.cli(&["twofactorauth", "state", "alice"], "").stdout).contains("- totp"));
    let out = db.cli(&["twofactorauth", "cleanup", "totp", "--yes"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("have been removed (1 user(s))"));
    assert!(text(&out.stderr).contains("1/1"), "progress is shown");
    assert!(db.store().await.totp("alice").await.unwrap().is_none());
    // Alice is back to one factor: backup codes alone do not count.
    assert_eq!(
        stage_after_password(&server, "alice", "password-a").await,
        "authenticated"
    );
}

async fn challenge_is_throttled(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let (_, secret) = enroll_totp(&server, "alice", "password-a").await;
    let http = browser();
    api_login(&http, &server, "alice", "password-a").await;
    // Five free failures, then a delay (2 s, doubling) before any further attempt.
    for _ in 0..5 {
        assert_eq!(
            challenge(&http, &server, "totp", "000000").await.status(),
            401
        );
    }
    let r = challenge(&http, &server, "totp", &oathtool(&secret, 30)).await;
    assert_eq!(r.status(), 429, "even a right code waits out the delay");
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        http.get(server.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

/// Issue 17.9: after `disable USER totp`, backup codes are left, but the sign-in asks for
/// the password only; `state` must say so rather than "enabled".
async fn defect_17_9_state_says_what_the_sign_in_asks(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let (http, _) = enroll_totp(&server, "alice", "password-a").await;
    let r = http
        .post(server.url("/api/v1/2fa/backup-codes"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let out = db.cli(&["twofactorauth", "disable", "alice", "totp"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));

    assert_eq!(
        stage_after_password(&server, "alice", "password-a").await,
        "authenticated"
    );
    let said = text(&db.cli(&["twofactorauth", "state", "alice"], "").stdout);
    assert!(
        said.contains("Two-factor authentication is not enabled for user alice"),
        "{said}"
    );
    assert!(said.contains("password only"), "{said}");
    assert!(
        said.contains("- backup_codes (not asked at sign-in while no other factor is active)"),
        "{said}"
    );

    // Enforced: the sign-in asks to set up a factor, and `state` says that.
    assert!(
        db.cli(&["twofactorauth", "enforce", "--on"], "")
            .status
            .success()
    );
    assert_eq!(
        stage_after_password(&server, "alice", "password-a").await,
        "setup_required"
    );
    let said = text(&db.cli(&["twofactorauth", "state", "alice"], "").stdout);
    assert!(
        said.contains("not enabled for user alice; it is enforced"),
        "{said}"
    );
    assert!(said.contains("asks to set up a factor"), "{said}");
}

/// Issue 17.16: `--group` without `--on` changed lists nobody saw; `--on` alone replaced
/// the groups without a word.
async fn defect_17_16_enforce_flags_do_what_they_say(backend: Backend) {
    let db = TestDb::new(backend).await;
    // Only serve, migrate and user add create a database.
    assert!(db.cli(&["migrate"], "").status.success());
    for g in ["family", "guests"] {
        assert!(db.cli(&["group", "add", g], "").status.success());
    }
    for args in [
        vec!["twofactorauth", "enforce", "--group", "family"],
        vec!["twofactorauth", "enforce", "--exclude", "guests"],
        vec!["twofactorauth", "enforce", "--off", "--group", "family"],
    ] {
        let out = db.cli(&args, "");
        assert!(!out.status.success(), "{args:?}");
        assert!(
            text(&out.stderr).contains("only with --on"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let said = text(&db.cli(&["twofactorauth", "enforce"], "").stdout);
    assert_eq!(said.trim(), "Two-factor authentication is not enforced.");
    assert_eq!(
        sql_count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE event = 'enforcement_changed'"
        )
        .await,
        0,
        "nothing was recorded as changed"
    );

    let out = db.cli(
        &[
            "twofactorauth",
            "enforce",
            "--on",
            "--group",
            "family",
            "--exclude",
            "guests",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = db.cli(&["twofactorauth", "enforce", "--on"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("enforced for all users."), "{said}");
    assert!(
        said.contains("selection of groups (family) was replaced"),
        "{said}"
    );
    assert!(
        said.contains("exclusion of groups (guests) was replaced"),
        "{said}"
    );
}
