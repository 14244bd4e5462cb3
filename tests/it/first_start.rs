//! What a new self-hoster runs into in the first hour (issue 17): a `public_url` on an IP
//! address or on plain http, a missing key file, a command run from the wrong folder, a
//! PostgreSQL server that wants TLS.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Backend, Server, TestDb, bootstrap_password, browser, csrf_of, text};

/// Runs `twofold ARGS…` in `cwd` with only `env` (and PATH) set.
fn cli_in(cwd: &Path, env: &[(String, String)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twofold"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `twofold serve` on a free port: `Err(stderr)` when it exits, `Ok(stderr)` when it
/// got as far as listening (it is then stopped).
pub(crate) fn serve_outcome(env: &[(String, String)]) -> Result<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let err = dir.path().join("serve.err");
    let mut child = Command::new(env!("CARGO_BIN_EXE_twofold"))
        .arg("serve")
        .env_clear()
        .envs(env.iter().cloned())
        .env("TWOFOLD_SERVER_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let logged = std::fs::read_to_string(&err).unwrap_or_default();
        if let Ok(Some(status)) = child.try_wait() {
            assert!(!status.success(), "{logged}");
            return Err(std::fs::read_to_string(&err).unwrap_or_default());
        }
        if logged.contains("twofold listening") {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(logged);
        }
        assert!(
            Instant::now() < deadline,
            "serve neither exited nor listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// 17.2: WebAuthn needs a domain name, nothing else does. On an IP address the server
/// starts, says once that security keys and passkeys are unavailable, and no page offers
/// them; `config check` says the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_17_2_a_public_url_on_an_ip_address_starts_without_webauthn() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = Server::start_with(
        &db,
        &[("TWOFOLD_SERVER_PUBLIC_URL", "http://127.0.0.1:8080")],
    )
    .await;
    let log = server.stderr();
    assert_eq!(
        log.matches("security keys and passkeys (WebAuthn) are unavailable")
            .count(),
        1,
        "one warning at start: {log}"
    );
    assert!(log.contains("domain name"), "{log}");

    let password = bootstrap_password(&server);
    let http = browser();
    let r = http
        .post(server.url("/api/v1/login"))
        .json(&json!({"uid": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "everything else works");

    let security = http
        .get(server.url("/settings/security"))
        .send()
        .await
        .unwrap();
    assert_eq!(security.status(), StatusCode::OK);
    let page = security.text().await.unwrap();
    assert!(page.contains("id=\"provider-unavailable\""), "{page}");
    assert!(
        !page.contains("id=\"no-keys\""),
        "security keys are not offered"
    );
    assert!(
        !page.contains("id=\"no-passkeys\""),
        "passkeys are not offered"
    );

    let admin = http
        .get(server.url("/admin/security"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        admin.contains("id=\"provider-unavailable-webauthn\""),
        "{admin}"
    );

    let providers: serde_json::Value = http
        .get(server.url("/api/v1/admin/providers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let webauthn = providers
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "webauthn")
        .unwrap();
    assert_eq!(webauthn["enabled"], false, "{providers}");
    assert!(
        webauthn["unavailable"]
            .as_str()
            .is_some_and(|why| why.contains("domain name")),
        "{providers}"
    );

    let login = reqwest::get(server.url("/login"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !login.contains("passkey-section"),
        "no passkey sign-in offered"
    );

    // A ceremony asked for anyway is refused, not attempted.
    let begin = http
        .post(server.url("/api/v1/2fa/webauthn/enroll"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(begin.status().is_client_error(), "{}", begin.status());

    // `config check`: valid, with the same warning, also with a localhost rp_id.
    let env = vec![
        (
            "TWOFOLD_SERVER_PUBLIC_URL".to_string(),
            "http://192.168.1.20:8080".to_string(),
        ),
        (
            "TWOFOLD_WEBAUTHN_RP_ID".to_string(),
            "localhost".to_string(),
        ),
        (
            "TWOFOLD_SERVER_DATA_DIR".to_string(),
            db.dir.path().display().to_string(),
        ),
    ];
    let out = crate::common::run_cli(&env, &["config", "check"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("warning: security keys and passkeys (WebAuthn) are unavailable"),
        "{stdout}"
    );
}

/// 17.3: plain http on a public name makes browsers drop the Secure cookies. A warning at
/// start and in `config check`, and the sign-in page says what is wrong instead of "the
/// form expired".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_17_3_plain_http_on_a_public_name_is_explained() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("camille", "password-c");
    let public = "http://auth.example.org:8080";
    let server = Server::start_with(&db, &[("TWOFOLD_SERVER_PUBLIC_URL", public)]).await;
    let log = server.stderr();
    assert!(
        log.contains("plain http on a name other than localhost"),
        "{log}"
    );

    // A browser keeps a Secure cookie only over https (and on localhost, which is why a
    // cookie-keeping client on 127.0.0.1 would still send it): a client that keeps no
    // cookie is what the browser on auth.example.org does.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(server.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let r = http
        .post(server.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("uid", "camille"),
            ("password", "password-c"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body = r.text().await.unwrap();
    assert!(!body.contains("The form expired"), "{body}");
    assert!(
        body.contains("over https") && body.contains("localhost"),
        "{body}"
    );

    let env = vec![("TWOFOLD_SERVER_PUBLIC_URL".to_string(), public.to_string())];
    let out = crate::common::run_cli(&env, &["config", "check"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .contains("warning: server.public_url http://auth.example.org:8080 is plain http"),
        "{}",
        text(&out.stdout)
    );
}

/// 17.4: a database that holds users is never given a new key: the server refuses to
/// start, naming the key it looked for, and creates none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_17_4_a_missing_key_beside_a_database_is_an_error() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("camille", "password-c");
    let key = db.dir.path().join("server.key");
    drop(Server::start(&db).await);
    assert!(key.exists());
    std::fs::remove_file(&key).unwrap();

    let mut env = db.env();
    env.push(("PATH".into(), std::env::var("PATH").unwrap_or_default()));
    let err = serve_outcome(&env).expect_err("serve started without its key");
    assert!(
        err.contains("server key") && err.contains(&key.display().to_string()),
        "{err}"
    );
    assert!(!key.exists(), "no new key was made");

    let out = db.cli(&["twofactorauth", "state", "camille"], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains(&key.display().to_string()),
        "{}",
        text(&out.stderr)
    );
    assert!(!key.exists(), "no new key was made");

    // A new database gets its key with it.
    let fresh = TestDb::new(Backend::Sqlite).await;
    let out = fresh.cli(&["migrate"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(fresh.dir.path().join("server.key").exists());
}

/// 17.5: only `serve`, `migrate` and `user add` may create a database; every other
/// command run where there is none refuses, says where it looked, and creates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_17_5_commands_in_the_wrong_folder_create_nothing() {
    let cwd = tempfile::tempdir().unwrap();
    let commands: &[&[&str]] = &[
        &["twofactorauth", "state", "camille"],
        &["twofactorauth", "enforce"],
        &["provider", "list"],
        &["user", "list"],
        &["user", "show", "camille"],
        &["group", "list"],
        &["audit"],
    ];
    for args in commands {
        let out = cli_in(cwd.path(), &[], args);
        assert!(!out.status.success(), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("no twofold database at")
                && err.contains("twofold-data/twofold.db")
                && err.contains("TWOFOLD_SERVER_DATA_DIR"),
            "{args:?}: {err}"
        );
        assert!(
            listing(cwd.path()).is_empty(),
            "{args:?} created {:?}",
            listing(cwd.path())
        );
    }
    // `user add` starts an installation: database and key together.
    let env: Vec<(String, String)> = vec![
        ("TWOFOLD_PASSWORD_ARGON2_MEMORY_KIB".into(), "64".into()),
        ("TWOFOLD_PASSWORD_ARGON2_ITERATIONS".into(), "1".into()),
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_twofold"))
        .args(["user", "add", "camille", "--password-stdin"])
        .current_dir(cwd.path())
        .env_clear()
        .envs(env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Violet-Harbor-Quartz-1987\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let data = cwd.path().join("twofold-data");
    assert!(data.join("twofold.db").exists() && data.join("server.key").exists());

    // On PostgreSQL: an empty database is not a twofold database, and stays empty.
    let pg = TestDb::new(Backend::Postgres).await;
    let out = pg.cli(&["user", "list"], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no twofold database at"),
        "{}",
        text(&out.stderr)
    );
    let out = pg.cli(&["config", "check"], "");
    assert!(
        text(&out.stdout).contains("connected, empty"),
        "{}",
        text(&out.stdout)
    );
}

/// 17.7: PostgreSQL over TLS works (`sslmode`), and `config check` tries the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_17_7_postgres_over_tls_and_config_check_connects() {
    let db = TestDb::new(Backend::Postgres).await;
    let mut env = db.env();
    let url = format!("{}?sslmode=require", db.url);
    env.retain(|(k, _)| k != "TWOFOLD_DATABASE_URL");
    env.push(("TWOFOLD_DATABASE_URL".into(), url));
    let out = crate::common::run_cli(&env, &["migrate"], "");
    let err = text(&out.stderr);
    assert!(!err.contains("without TLS support"), "{err}");
    // The local test server has TLS on: `require` (encrypt, do not verify) connects.
    assert!(out.status.success(), "{err}");
    let out = crate::common::run_cli(&env, &["config", "check"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("connected, a twofold database"),
        "{}",
        text(&out.stdout)
    );

    // `verify-full` checks the certificate: a self-signed one without sslrootcert is a
    // TLS error, not "built without TLS support".
    env.retain(|(k, _)| k != "TWOFOLD_DATABASE_URL");
    env.push((
        "TWOFOLD_DATABASE_URL".into(),
        format!("{}?sslmode=verify-full", db.url),
    ));
    let out = crate::common::run_cli(&env, &["user", "list"], "");
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(!err.contains("without TLS support"), "{err}");

    // An unreachable database is reported by `config check`.
    let env = vec![(
        "TWOFOLD_DATABASE_URL".to_string(),
        "postgres://twofold:secret@127.0.0.1:1/twofold".to_string(),
    )];
    let out = crate::common::run_cli(&env, &["config", "check"], "");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("postgres://twofold:***@127.0.0.1:1/twofold")
            && err.contains("cannot connect"),
        "{err}"
    );
    assert!(!err.contains("secret"), "{err}");
}
