//! No secret reaches the logs: a whole session of use with debug logging and the audit
//! trail on stdout, then every secret that crossed the wire is looked for in what the
//! server printed.

use serde_json::{Value, json};

use crate::common::{Backend, Server, TestDb, api_login, browser};
use crate::two_factor::{challenge, enroll_totp, oathtool};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_logs() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "Sup3r-secret-pw");
    let server = Server::start_with(
        &db,
        &[
            ("TWOFOLD_LOG", "debug"),
            ("TWOFOLD_LOG_AUDIT_STDOUT", "true"),
        ],
    )
    .await;
    let mut secrets: Vec<String> = vec!["Sup3r-secret-pw".into(), "Wr0ng-guess-pw".into()];
    let (setup, totp_secret) = enroll_totp(&server, "alice", "Sup3r-secret-pw").await;
    secrets.push(totp_secret.clone());
    let codes: Value = setup
        .post(server.url("/api/v1/2fa/backup-codes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let backup: Vec<String> = codes["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    secrets.extend(backup.iter().cloned());
    // A failed and a successful login, a wrong and a right code, a backup code.
    reqwest::Client::new()
        .post(server.url("/api/v1/login"))
        .json(&json!({"uid": "alice", "password": "Wr0ng-guess-pw"}))
        .send()
        .await
        .unwrap();
    let http = browser();
    let r = http
        .post(server.url("/api/v1/login"))
        .json(&json!({"uid": "alice", "password": "Sup3r-secret-pw"}))
        .send()
        .await
        .unwrap();
    for c in r.headers().get_all("set-cookie") {
        let value = c.to_str().unwrap().split(';').next().unwrap();
        secrets.push(value.split_once('=').unwrap().1.to_string());
    }
    let code = oathtool(&totp_secret, 30);
    secrets.push(code.clone());
    challenge(&http, &server, "totp", "123456").await;
    let r = challenge(&http, &server, "totp", &code).await;
    assert_eq!(r.status(), 200);
    for c in r.headers().get_all("set-cookie") {
        let value = c.to_str().unwrap().split(';').next().unwrap();
        secrets.push(value.split_once('=').unwrap().1.to_string());
    }
    let other = browser();
    api_login(&other, &server, "alice", "Sup3r-secret-pw").await;
    challenge(&other, &server, "backup_codes", &backup[0]).await;
    // An app password, used over Basic; a client login flow.
    let app: Value = http
        .post(server.url("/api/v1/app-passwords"))
        .json(&json!({"name": "phone"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let app_password = app["password"].as_str().unwrap().to_string();
    secrets.push(app_password.clone());
    reqwest::Client::new()
        .get(server.url("/api/v1/me"))
        .basic_auth("alice", Some(&app_password))
        .send()
        .await
        .unwrap();
    let flow: Value = reqwest::Client::new()
        .post(server.url("/api/v1/login/flow"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let login = flow["login"].as_str().unwrap();
    secrets.push(login.rsplit('/').next().unwrap().to_string());
    secrets.push(flow["poll"]["token"].as_str().unwrap().to_string());
    http.get(server.url(&format!(
        "/login/flow/{}",
        login.rsplit('/').next().unwrap()
    )))
    .send()
    .await
    .unwrap();
    reqwest::Client::new()
        .post(server.url("/api/v1/login/flow/poll"))
        .json(&json!({"token": flow["poll"]["token"]}))
        .send()
        .await
        .unwrap();

    let printed = format!("{}\n{}", server.stdout(), server.stderr());
    assert!(
        printed.contains("\"audit\""),
        "the audit trail was printed on stdout"
    );
    assert!(printed.contains("DEBUG"), "debug logging was on");
    for secret in &secrets {
        assert!(
            secret.len() >= 6,
            "not a secret worth looking for: {secret}"
        );
        assert!(
            !appears(&printed, secret),
            "a secret reached the logs: {secret}"
        );
    }
}

/// Whether `secret` is in `text`. A six-digit code is only counted standing alone: the
/// microseconds of a log timestamp (`.123456Z`) are not a leaked code.
fn appears(text: &str, secret: &str) -> bool {
    if !secret.bytes().all(|b| b.is_ascii_digit()) {
        return text.contains(secret);
    }
    text.match_indices(secret).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + secret.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit() || c == '.')
            && !after.is_some_and(|c| c.is_ascii_digit())
    })
}
