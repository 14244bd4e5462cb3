//! What a new self-hoster runs into in the first hour (issue 17): a missing key file, a
//! command run from the wrong folder.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Backend, Server, TestDb, text};

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
fn serve_outcome(env: &[(String, String)]) -> Result<String, String> {
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
        .write_all(b"password-c\n")
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
}
