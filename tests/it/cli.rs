//! The `twofold` command line: clear errors, non-zero exits, and nothing changed on a
//! refused command.

use crate::common::{Backend, Server, TestDb, both, text};

both!(
    user_lifecycle,
    bad_user_input_changes_nothing,
    groups_from_the_cli
);

async fn user_lifecycle(backend: Backend) {
    let db = TestDb::new(backend).await;
    let out = db.cli(
        &[
            "user",
            "add",
            "alice",
            "--display-name",
            "Alice A",
            "--email",
            "alice@example.org",
            "--admin",
            "--password-stdin",
        ],
        "password-a\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("created user alice (admin)"));

    let out = db.cli(&["user", "show", "alice"], "");
    let shown = text(&out.stdout);
    assert!(
        shown.contains("Alice A") && shown.contains("alice@example.org"),
        "{shown}"
    );
    assert!(shown.contains("admin:        yes"));

    let out = db.cli(&["user", "disable", "alice"], "");
    assert!(out.status.success());
    assert!(text(&db.cli(&["user", "list"], "").stdout).contains("no "));
    assert!(db.cli(&["user", "enable", "alice"], "").status.success());

    let out = db.cli(
        &["user", "passwd", "alice", "--password-stdin"],
        "password-b\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let store = db.store().await;
    let config = twofold::config::PasswordConfig {
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        argon2_parallelism: 1,
        min_length: 8,
        min_score: 0,
        hash_workers: 1,
        hash_queue: 64,
        ..Default::default()
    };
    let accounts = twofold::accounts::Accounts::new(
        store.clone(),
        twofold::accounts::PasswordHasher::new(&config).unwrap(),
        twofold::accounts::PasswordPolicy::new(&config, ""),
    );
    assert!(accounts.authenticate("alice", "password-b").await.is_ok());

    // Delete asks; "n" keeps the user.
    let out = db.cli(&["user", "delete", "alice"], "n\n");
    assert!(!out.status.success());
    assert!(store.user("alice").await.unwrap().is_some());
    let out = db.cli(&["user", "delete", "alice", "--yes"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(store.user("alice").await.unwrap().is_none());
}

async fn bad_user_input_changes_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["user", "add", "alice", "--password-stdin"],
            "password-z\n",
            "already exists",
        ),
        (
            &["user", "add", "bob", "--password-stdin"],
            "short\n",
            "at least 8",
        ),
        (
            &["user", "add", "bob", "--password-stdin"],
            "",
            "no password",
        ),
        (&["user", "add", "bob"], "", "--password-stdin"),
        (
            &["user", "add", "b ob", "--password-stdin"],
            "password-b\n",
            "may only contain",
        ),
        (
            &["user", "add", "bob", "--email", "nope", "--password-stdin"],
            "password-b\n",
            "not an email",
        ),
        (
            &[
                "user",
                "add",
                "bob",
                "--group",
                "ghosts",
                "--password-stdin",
            ],
            "password-b\n",
            "does not exist",
        ),
        (&["user", "show", "nobody"], "", "not found"),
        (
            &["user", "passwd", "nobody", "--password-stdin"],
            "password-b\n",
            "not found",
        ),
        (&["user", "frobnicate"], "", "unrecognized subcommand"),
        (&["user", "list", "--limit", "0"], "", "--limit"),
        (&["user", "list", "--offset=-1"], "", "--offset"),
        (
            &["user", "add", "bob", "--password", "x"],
            "",
            "unexpected argument",
        ),
    ];
    for (args, stdin, want) in cases {
        let out = db.cli(args, stdin);
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(
            err.starts_with("error: "),
            "the reason comes first: {args:?}: {err}"
        );
    }
    let store = db.store().await;
    assert_eq!(store.count_users().await.unwrap(), 1);
    let listed = text(&db.cli(&["user", "list"], "").stdout);
    assert!(listed.contains("1 user(s)"), "{listed}");
    // Like `occ user:list`: a page at a time, and a search.
    crate::common::sql(
        &db,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
         INSERT INTO users (uid, display_name, email, password_hash, enabled, is_admin, created_at)
         SELECT 'u' || (100 + i), 'Person ' || i, '', u.password_hash, 1, 0, 0
         FROM n, users u WHERE u.uid = 'alice'",
    )
    .await;
    let listed = text(
        &db.cli(&["user", "list", "--limit", "10", "--offset", "5"], "")
            .stdout,
    );
    assert!(listed.contains("10 of 31 user(s) (from 6;"), "{listed}");
    assert!(listed.contains("u105 ") && listed.contains("u114 ") && !listed.contains("u115 "));
    let listed = text(&db.cli(&["user", "list", "--search", "person 2"], "").stdout);
    assert!(listed.contains("11 user(s)"), "{listed}");
}

async fn groups_from_the_cli(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    assert!(db.cli(&["group", "add", "staff"], "").status.success());
    let out = db.cli(&["group", "add", "staff"], "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("already exists"));
    assert!(
        db.cli(&["group", "add-member", "staff", "alice"], "")
            .status
            .success()
    );
    assert!(
        !db.cli(&["group", "add-member", "staff", "nobody"], "")
            .status
            .success()
    );
    assert!(text(&db.cli(&["group", "list"], "").stdout).contains("staff: alice"));
    assert!(
        db.cli(&["group", "remove-member", "staff", "alice"], "")
            .status
            .success()
    );
    assert!(db.cli(&["group", "remove", "staff"], "").status.success());
    assert!(!db.cli(&["group", "remove", "staff"], "").status.success());
    assert!(text(&db.cli(&["group", "list"], "").stdout).contains("0 group(s)"));
}

#[test]
fn config_check_reports_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[server]\nlisten = \"127.0.0.1:9999\"\n").unwrap();
    let out = crate::common::run_cli(&[], &["config", "check", good.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("valid"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[server]\nlisten_port = 9999\n").unwrap();
    let out = crate::common::run_cli(&[], &["config", "check", bad.to_str().unwrap()], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("listen_port"),
        "{}",
        text(&out.stderr)
    );

    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[server\n").unwrap();
    let out = crate::common::run_cli(&[], &["config", "check", broken.to_str().unwrap()], "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("broken.toml"));

    let out = crate::common::run_cli(&[], &["config", "check", "/nonexistent.toml"], "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("cannot read config file"));

    let env = vec![("TWOFOLD_SERVER_LISTEN".to_string(), "nowhere".to_string())];
    let out = crate::common::run_cli(&env, &["config", "check"], "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("server.listen"));
}

#[test]
fn serve_refuses_a_bad_config() {
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        (
            "TWOFOLD_SERVER_DATA_DIR".to_string(),
            dir.path().display().to_string(),
        ),
        (
            "TWOFOLD_SESSION_LIFETIME_MINUTES".to_string(),
            "soon".to_string(),
        ),
    ];
    let out = crate::common::run_cli(&env, &["serve"], "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("TWOFOLD_SESSION_LIFETIME_MINUTES"));
    // Nothing was created.
    assert!(!dir.path().join("twofold.db").exists());
    assert!(!dir.path().join("server.key").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_man_pages_and_healthcheck() {
    let db = TestDb::new(Backend::Sqlite).await;
    let out = db.cli(&["completions", "bash"], "");
    assert!(out.status.success());
    let script = text(&out.stdout);
    assert!(script.contains("complete") && script.contains("twofactorauth"));
    let out = db.cli(&["completions", "tcsh"], "");
    assert!(!out.status.success(), "an unknown shell is refused");
    let out = db.cli(&["man"], "");
    assert!(text(&out.stdout).starts_with(".ie") || text(&out.stdout).contains(".TH twofold"));
    let dir = db.dir.path().join("man");
    let out = db.cli(&["man", "--dir", dir.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.join("twofold.1").exists() && dir.join("twofold-user.1").exists());

    // Healthcheck: fails with nothing listening, succeeds against the running server.
    let mut env = db.env();
    env.push(("TWOFOLD_SERVER_LISTEN".into(), "127.0.0.1:9".into()));
    let out = crate::common::run_cli(&env, &["healthcheck"], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("nothing answers"),
        "{}",
        text(&out.stderr)
    );
    let server = Server::start(&db).await;
    let mut env = db.env();
    env.push((
        "TWOFOLD_SERVER_LISTEN".into(),
        server.base.trim_start_matches("http://").into(),
    ));
    let out = crate::common::run_cli(&env, &["healthcheck"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Issue 17.15: `completions bash | head -1` panicked on the closed pipe; the server's log
/// carried colour codes into a file; a clean shutdown logged a WARN about the change log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_17_15_closed_pipes_plain_logs_and_a_quiet_shutdown() {
    let db = TestDb::new(Backend::Sqlite).await;
    for args in [&["completions", "bash"][..], &["man"][..]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_twofold"))
            .args(args)
            .env_clear()
            .envs(db.env())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before anything is read, as `head` does after its line.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = text(&out.stderr);
        assert!(out.status.success(), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }

    // A user exists: no first-start account, whose file is announced at WARN on purpose.
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let ansi = server.stderr().contains('\u{1b}');
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    // (Under load the signal can come before the server's handler is installed, and
    // the default action ends it without a word: then there is no shutdown to check.)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !server.stderr().contains("shutting down") && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let log = server.stderr();
    assert!(!log.contains("WARN") && !log.contains("ERROR"), "{log}");
    assert!(!ansi, "colour codes in a log file: {log:?}");
}

/// Issue 17.14: "pool timed out" named neither the server nor the cause, and an I/O
/// error was said twice. One line, the cause once, host and port, never the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_17_14_errors_say_the_cause_once() {
    let db = TestDb::new(Backend::Sqlite).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut env = db.env();
    env.retain(|(k, _)| k != "TWOFOLD_DATABASE_URL");
    env.push((
        "TWOFOLD_DATABASE_URL".into(),
        format!("postgres://postgres:hunter22secret@127.0.0.1:{port}/x"),
    ));
    let out = crate::common::run_cli(&env, &["user", "list"], "");
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!err.contains("pool timed out"), "{err}");
    assert!(err.to_lowercase().contains("refused"), "{err}");
    assert!(!err.contains("hunter22secret"), "{err}");

    // A PostgreSQL error: its message once, without the line of PostgreSQL's source.
    if let Ok(admin) = std::env::var("TWOFOLD_TEST_POSTGRES_URL") {
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path("/twofold_no_such_database");
        let mut env = db.env();
        env.retain(|(k, _)| k != "TWOFOLD_DATABASE_URL");
        env.push(("TWOFOLD_DATABASE_URL".into(), url.to_string()));
        let out = crate::common::run_cli(&env, &["user", "list"], "");
        let err = text(&out.stderr);
        assert!(!out.status.success());
        assert_eq!(err.matches("does not exist").count(), 1, "{err}");
        assert!(!err.contains(" at line "), "{err}");
    }

    let out = db.cli(
        &["--config", "/nonexistent/twofold.toml", "user", "list"],
        "",
    );
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}
