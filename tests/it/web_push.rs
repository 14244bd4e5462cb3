//! Web Push end to end: the real server sends to a local push service written in Python
//! (tests/webpush/receiver.py, PyPI `http_ece` on `cryptography`), which checks each
//! request's VAPID signature, audience, expiry and subject, and decrypts the aes128gcm
//! body with the subscription's private key — code independent of twofold's.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Server, TestDb, api_login, both, browser, csrf_of, sql_count};

const SUBJECT: &str = "mailto:ops@example.org";

/// A Python with `http_ece`: scripts/test.sh makes it; made here when missing, so that
/// `cargo test --test it web_push` works alone.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/webpush-venv");
        let python = venv.join("bin/python");
        let ready = |p: &Path| {
            Command::new(p)
                .args(["-c", "import http_ece, cryptography"])
                .status()
                .is_ok_and(|s| s.success())
        };
        if !ready(&python) {
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .unwrap();
            assert!(made.success(), "python3 -m venv failed");
            let pip = Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "http_ece==1.2.1"])
                .status()
                .unwrap();
            assert!(pip.success(), "pip install http_ece failed");
        }
        assert!(ready(&python), "no http_ece in {}", python.display());
        python
    })
}

/// The local push service: its subscriptions and what it received.
struct Receiver {
    child: Child,
    port: u16,
    subscriptions: Vec<Value>,
    log: PathBuf,
}

impl Receiver {
    fn start(dir: &Path, count: usize) -> Receiver {
        let log = dir.join(format!("push-{}.jsonl", uuid::Uuid::new_v4()));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/webpush/receiver.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(count.to_string())
            .arg(&log)
            .arg(SUBJECT)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let hello: Value = serde_json::from_str(&line).unwrap();
        Receiver {
            child,
            port: hello["port"].as_u64().unwrap() as u16,
            subscriptions: hello["subscriptions"].as_array().unwrap().clone(),
            log,
        }
    }

    /// The browser's `PushSubscription.toJSON()` for subscription `n` under `path`.
    fn subscription(&self, path: &str, n: usize) -> Value {
        json!({
            "endpoint": format!("http://127.0.0.1:{}/{path}/{n}", self.port),
            "expirationTime": null,
            "keys": {
                "p256dh": self.subscriptions[n]["p256dh"],
                "auth": self.subscriptions[n]["auth"],
            }
        })
    }

    fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits until `n` requests arrived, then a moment more for any extra one.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.received().len() < n {
            assert!(
                Instant::now() < deadline,
                "the push service got {:?}",
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        self.received()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(db: &TestDb, extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("TWOFOLD_WEB_PUSH_ALLOW_HTTP_LOOPBACK", "true"),
        ("TWOFOLD_WEB_PUSH_SUBJECT", SUBJECT),
    ];
    env.extend_from_slice(extra);
    Server::start_with(db, &env).await
}

async fn subscribe(http: &reqwest::Client, server: &Server, body: &Value) -> (StatusCode, Value) {
    let r = http
        .post(server.url("/api/v1/push/subscriptions"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn list(http: &reqwest::Client, server: &Server) -> Vec<Value> {
    let r = http
        .get(server.url("/api/v1/push/subscriptions"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Vec<Value>>().await.unwrap()
}

async fn send_test(http: &reqwest::Client, server: &Server) -> Value {
    let r = http
        .post(server.url("/api/v1/push/test"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    r.json().await.unwrap()
}

both!(
    one_encrypted_message_per_subscription,
    a_gone_subscription_is_removed,
    bad_subscriptions_are_refused_and_nothing_stored,
    devices_page_lists_and_revokes_subscriptions,
);

/// Each subscription gets exactly one message per notification; the push service checks
/// the VAPID header and decrypts the payload to what was sent.
async fn one_encrypted_message_per_subscription(backend: crate::common::Backend) {
    let db = TestDb::new(backend).await;
    let server = start(&db, &[]).await;
    db.add_user("alice", "password-a");
    let push = Receiver::start(db.dir.path(), 2);
    let http = browser();
    api_login(&http, &server, "alice", "password-a").await;

    let r = http
        .get(server.url("/api/v1/push/vapid-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let key: Value = r.json().await.unwrap();
    assert_eq!(key["public_key"].as_str().unwrap().len(), 87, "{key}");
    // Made at start beside the server key, readable by its owner only.
    let file = server.data_dir().join("vapid.key");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    for n in 0..2 {
        let (status, body) = subscribe(&http, &server, &push.subscription("push", n)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(body.get("endpoint").is_none(), "{body}");
        assert_eq!(body["service"], "127.0.0.1");
    }
    // The same endpoint again is the same subscription.
    let (status, _) = subscribe(&http, &server, &push.subscription("push", 0)).await;
    assert_eq!(status, StatusCode::CREATED);
    let subs = list(&http, &server).await;
    assert_eq!(subs.len(), 2, "{subs:?}");
    assert!(subs.iter().all(|s| s["last_used_at"] == 0));

    assert_eq!(send_test(&http, &server).await["subscriptions"], 2);
    let got = push.wait_for(2).await;
    assert_eq!(
        got.len(),
        2,
        "exactly one message per subscription: {got:?}"
    );
    let mut paths: Vec<&str> = got.iter().map(|g| g["path"].as_str().unwrap()).collect();
    paths.sort();
    assert_eq!(paths, ["/push/0", "/push/1"]);
    for g in &got {
        assert_eq!(g["error"], Value::Null, "{g}");
        assert_eq!(g["status"], 201);
        assert_eq!(g["ttl"], "120");
        assert_eq!(g["urgency"], "high");
        assert_eq!(
            g["payload"],
            json!({
                "title": "twofold",
                "body": "Test notification: this browser receives sign-in requests.",
                "url": "/settings/devices",
            })
        );
    }
    // A use is recorded once the push service took the message.
    let deadline = Instant::now() + Duration::from_secs(5);
    while list(&http, &server)
        .await
        .iter()
        .any(|s| s["last_used_at"] == 0)
    {
        assert!(Instant::now() < deadline, "last_used_at never set");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A second test at once is refused (a flood would push to every phone).
    let r = http
        .post(server.url("/api/v1/push/test"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        sql_count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE event = 'push_subscribed'"
        )
        .await,
        3
    );
    let log = format!("{}{}", server.stderr(), server.stdout());
    for s in &push.subscriptions {
        assert!(
            !log.contains(s["auth"].as_str().unwrap()),
            "a key was logged"
        );
    }
    assert!(!log.contains("/push/0"), "an endpoint was logged: {log}");
}

/// A push service that answers 410 has its subscription deleted (and audited); the
/// others stay.
async fn a_gone_subscription_is_removed(backend: crate::common::Backend) {
    let db = TestDb::new(backend).await;
    let server = start(&db, &[]).await;
    db.add_user("alice", "password-a");
    let push = Receiver::start(db.dir.path(), 2);
    let http = browser();
    api_login(&http, &server, "alice", "password-a").await;
    let (status, gone) = subscribe(&http, &server, &push.subscription("gone", 0)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, kept) = subscribe(&http, &server, &push.subscription("push", 1)).await;
    assert_eq!(status, StatusCode::CREATED);

    send_test(&http, &server).await;
    let got = push.wait_for(2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|g| g["error"] == Value::Null), "{got:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let ids: Vec<Value> = list(&http, &server)
            .await
            .into_iter()
            .map(|s| s["id"].clone())
            .collect();
        if ids == [kept["id"].clone()] {
            break;
        }
        assert!(ids.contains(&gone["id"]), "the wrong one went: {ids:?}");
        assert!(Instant::now() < deadline, "the 410 one is still there");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        sql_count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE event = 'push_subscription_expired'"
        )
        .await,
        1
    );
}

/// Input that is not a usable subscription is a 400 and leaves nothing stored; ids of
/// others are 404; past the per-user cap the oldest goes.
async fn bad_subscriptions_are_refused_and_nothing_stored(backend: crate::common::Backend) {
    let db = TestDb::new(backend).await;
    let server = start(&db, &[("TWOFOLD_WEB_PUSH_MAX_PER_USER", "3")]).await;
    db.add_user("alice", "password-a");
    db.add_user("bob", "password-b");
    let push = Receiver::start(db.dir.path(), 4);
    let http = browser();
    api_login(&http, &server, "alice", "password-a").await;

    let good = push.subscription("push", 0);
    let with = |pointer: &str, value: Value| {
        let mut v = good.clone();
        *v.pointer_mut(pointer).unwrap() = value;
        v
    };
    let p256dh = good["keys"]["p256dh"].as_str().unwrap().to_string();
    let mut off_curve = p256dh.clone();
    off_curve.replace_range(80..81, if &p256dh[80..81] == "A" { "B" } else { "A" });
    let bad = [
        with("/endpoint", json!("http://10.0.0.1/push/0")),
        with("/endpoint", json!("https://push.example.org/push/0")),
        with(
            "/endpoint",
            json!("https://u:p@fcm.googleapis.com/fcm/send/x"),
        ),
        with("/endpoint", json!("javascript:alert(1)")),
        with(
            "/endpoint",
            json!(format!("https://fcm.googleapis.com/{}", "a".repeat(2000))),
        ),
        with("/endpoint", json!(7)),
        with("/keys/p256dh", json!("not base64!")),
        with("/keys/p256dh", json!(&p256dh[..44])),
        with("/keys/p256dh", json!(off_curve)),
        with("/keys/p256dh", json!("A".repeat(5000))),
        with("/keys/auth", json!("AAAAAAAAAAAAAAAAAAAA")),
        with("/keys/auth", json!("")),
        json!({"endpoint": good["endpoint"]}),
        json!({"endpoint": good["endpoint"], "keys": good["keys"], "extra": 1}),
        json!([]),
    ];
    for body in &bad {
        let (status, answer) = subscribe(&http, &server, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
    }
    assert_eq!(
        sql_count(&db, "SELECT COUNT(*) FROM push_subscriptions").await,
        0
    );
    assert_eq!(
        sql_count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE event = 'push_subscribed'"
        )
        .await,
        0
    );

    // Another user cannot see or revoke alice's subscriptions.
    let (_, first) = subscribe(&http, &server, &good).await;
    let bob = browser();
    api_login(&bob, &server, "bob", "password-b").await;
    assert!(list(&bob, &server).await.is_empty());
    let id = first["id"].as_str().unwrap();
    for who in [&bob, &http] {
        let path = if std::ptr::eq(who, &bob) {
            format!("/api/v1/push/subscriptions/{id}")
        } else {
            "/api/v1/push/subscriptions/no-such-id".to_string()
        };
        let r = who.delete(server.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(list(&http, &server).await.len(), 1);

    // Past the cap of 3, the newest stays and the total stays at 3.
    let mut newest = Value::Null;
    for n in 1..4 {
        let (status, sub) = subscribe(&http, &server, &push.subscription("push", n)).await;
        assert_eq!(status, StatusCode::CREATED);
        newest = sub["id"].clone();
    }
    let subs = list(&http, &server).await;
    assert_eq!(subs.len(), 3, "{subs:?}");
    assert!(subs.iter().any(|s| s["id"] == newest));

    // Revoking works, once.
    let r = http
        .delete(server.url(&format!(
            "/api/v1/push/subscriptions/{}",
            newest.as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(list(&http, &server).await.len(), 2);
    assert_eq!(
        sql_count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE event = 'push_subscription_revoked'"
        )
        .await,
        1
    );
}

/// The devices page lists the user's browsers with their name from the user agent and
/// revokes one; the service worker, the manifest and the script are served as browsers
/// need them, and the page's CSP allows exactly those scripts.
async fn devices_page_lists_and_revokes_subscriptions(backend: crate::common::Backend) {
    let db = TestDb::new(backend).await;
    let server = start(&db, &[]).await;
    db.add_user("alice", "password-a");
    let push = Receiver::start(db.dir.path(), 1);
    let http = browser();
    api_login(&http, &server, "alice", "password-a").await;
    let firefox = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0";
    let r = http
        .post(server.url("/api/v1/push/subscriptions"))
        .header("user-agent", firefox)
        .json(&push.subscription("push", 0))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let r = http
        .get(server.url("/settings/devices"))
        .header("accept-language", "fr")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    for script in ["/static/webpush.js", "/static/sw.js"] {
        assert!(csp.contains(script), "{csp}");
    }
    let html = r.text().await.unwrap();
    assert!(html.contains("Firefox (Android)"), "{html}");
    assert!(html.contains("Notifier ce navigateur des demandes de connexion"));
    assert!(html.contains("<script src=\"/static/webpush.js\"></script>"));
    assert!(html.contains("<link rel=\"manifest\" href=\"/static/manifest.webmanifest\">"));

    let sw = http.get(server.url("/static/sw.js")).send().await.unwrap();
    assert_eq!(sw.status(), 200);
    assert_eq!(sw.headers()["service-worker-allowed"], "/");
    assert!(
        sw.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(sw.text().await.unwrap().contains("notificationclick"));
    let manifest = http
        .get(server.url("/static/manifest.webmanifest"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        manifest.headers()["content-type"],
        "application/manifest+json"
    );
    let manifest: Value = manifest.json().await.unwrap();
    assert_eq!(manifest["start_url"], "/settings/security");
    let script = http
        .get(server.url("/static/webpush.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(
        script
            .text()
            .await
            .unwrap()
            .contains("pushManager.subscribe")
    );

    let r = http
        .post(server.url("/settings/devices/revoke"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("kind", "push"),
            ("id", id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(list(&http, &server).await.is_empty());
    assert_eq!(
        sql_count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE event = 'push_subscription_revoked'"
        )
        .await,
        1
    );
}

/// A VAPID key file that holds no key stops `serve` with an error naming it, and the file
/// is left as it was (subscriptions are bound to the key: never replaced on its own).
#[tokio::test]
async fn a_corrupt_vapid_key_file_stops_the_start() {
    let db = TestDb::new(crate::common::Backend::Sqlite).await;
    let file = db.dir.path().join("vapid.key");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file)
            .unwrap();
        f.write_all(b"not a key\n").unwrap();
    }
    let err = crate::first_start::serve_outcome(&db.env()).unwrap_err();
    assert!(err.contains("VAPID key file"), "{err}");
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a key\n");
}

/// A push service that does not answer within `web_push.timeout_ms` is a failure: logged
/// without the endpoint, counted, the subscription kept; the request that asked for the
/// message did not wait for it.
#[tokio::test]
async fn a_push_service_that_does_not_answer_is_a_counted_failure() {
    let db = TestDb::new(crate::common::Backend::Sqlite).await;
    let server = start(
        &db,
        &[
            ("TWOFOLD_WEB_PUSH_TIMEOUT_MS", "300"),
            ("TWOFOLD_METRICS_ENABLED", "true"),
        ],
    )
    .await;
    db.add_user("alice", "password-a");
    let push = Receiver::start(db.dir.path(), 1);
    let http = browser();
    api_login(&http, &server, "alice", "password-a").await;
    let (status, _) = subscribe(&http, &server, &push.subscription("slow", 0)).await;
    assert_eq!(status, StatusCode::CREATED);
    // Sending is off the request path: the answer does not wait for the push service.
    let asked = Instant::now();
    send_test(&http, &server).await;
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = http
            .get(server.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.contains("twofold_web_push_deliveries_total{result=\"failed\"} 1") {
            break;
        }
        assert!(Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = server.stderr();
    assert!(log.contains("web push not delivered"), "{log}");
    assert!(!log.contains("/slow/0"), "the endpoint was logged: {log}");
    let subs = list(&http, &server).await;
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0]["last_used_at"], 0);
}

/// In Debian's Chromium: the devices page's script runs under the CSP and registers the
/// service worker for the whole origin; the worker shows a push message as a notification
/// whose link stays on twofold's origin. (Offline there is no browser push service, so
/// the subscription itself is the API tests' part.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_script_and_the_service_worker_run_in_chromium() {
    let db = TestDb::new(crate::common::Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    let server = start(&db, &[]).await;
    let base = server.url("").replace("127.0.0.1", "localhost");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/webpush.mjs");
    let out = Command::new("node")
        .arg(script)
        .env("TWOFOLD_BASE", &base)
        .env("TWOFOLD_UID", "alice")
        .env("TWOFOLD_PASSWORD", "password-a")
        .output()
        .expect("node is installed");
    let stdout = crate::common::text(&out.stdout);
    assert!(
        out.status.success(),
        "browser run failed:\n{stdout}\n{}",
        crate::common::text(&out.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(seen["buttonShown"], true, "{seen}");
    assert_eq!(seen["workerUrl"], format!("{base}/static/sw.js"), "{seen}");
    assert_eq!(seen["scope"], format!("{base}/"), "{seen}");
    // Offline, Chromium's push service never answers: the script gives up and says so
    // (online, it would reload the page with the new subscription).
    assert!(
        seen["subscribed"] == true
            || seen["status"] == "This browser could not be subscribed. Try again later.",
        "{seen}"
    );
    let console = seen["console"].to_string();
    assert!(!console.contains("Content Security Policy"), "{console}");
    let notifications = seen["notifications"].as_array().unwrap();
    let by_tag = |tag: &str| {
        notifications
            .iter()
            .find(|n| n["tag"] == tag)
            .unwrap_or_else(|| panic!("no notification {tag}: {seen}"))
    };
    assert_eq!(by_tag("a")["title"], "Sign-in request");
    assert_eq!(by_tag("a")["body"], "Firefox on Windows");
    assert_eq!(by_tag("a")["url"], format!("{base}/settings/security"));
    assert_eq!(by_tag("b")["url"], format!("{base}/"));
}

/// A missing VAPID key file beside stored subscriptions stops `serve` (a new key would
/// silently break every one of them); with no subscription a new key is made.
#[tokio::test]
async fn a_missing_vapid_key_with_subscriptions_stops_the_start() {
    let db = TestDb::new(crate::common::Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    let push = Receiver::start(db.dir.path(), 1);
    let file = db.dir.path().join("vapid.key");
    {
        let server = start(&db, &[]).await;
        let http = browser();
        api_login(&http, &server, "alice", "password-a").await;
        let (status, _) = subscribe(&http, &server, &push.subscription("push", 0)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    std::fs::remove_file(&file).unwrap();
    let mut env = db.env();
    env.push(("TWOFOLD_WEB_PUSH_ALLOW_HTTP_LOOPBACK".into(), "true".into()));
    let err = crate::first_start::serve_outcome(&env).unwrap_err();
    assert!(
        err.contains("VAPID key file") && err.contains(&file.display().to_string()),
        "{err}"
    );
    assert!(!file.exists(), "no new key was made");

    crate::common::sql(&db, "DELETE FROM push_subscriptions").await;
    crate::first_start::serve_outcome(&env).unwrap();
    assert!(file.exists());
}

/// A push sign-in request reaches each browser the user subscribed, once per request
/// whatever the reloads and begins; the message names where the sign-in comes from and
/// opens the page with the banner, and holds no number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_request_is_one_notification_per_subscribed_browser() {
    let db = TestDb::new(crate::common::Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    let server = start(&db, &[]).await;
    let push = Receiver::start(db.dir.path(), 1);
    let (http, _) = crate::two_factor::enroll_totp(&server, "alice", "password-a").await;
    let (status, _) = subscribe(&http, &server, &push.subscription("push", 0)).await;
    assert_eq!(status, StatusCode::CREATED);
    // The subscribed browser is the other way to approve: push can go on.
    let r = http
        .post(server.url("/api/v1/2fa/push/enroll/finish"))
        .json(&json!({"answer": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    let waiting = browser();
    api_login(&waiting, &server, "alice", "password-a").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let p: Value = waiting
            .post(server.url("/api/v1/login/challenge/begin"))
            .json(&json!({"provider": "push"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(p["approval_id"].clone());
    }
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    let got = push.wait_for(1).await;
    assert_eq!(got.len(), 1, "one message per request: {got:?}");
    let payload = &got[0]["payload"];
    assert_eq!(payload["tag"], ids[0], "{got:?}");
    assert_eq!(payload["url"], "/");
    assert!(
        payload["body"].as_str().unwrap().contains("127.0.0.1"),
        "{payload}"
    );
    let number = waiting
        .post(server.url("/api/v1/login/challenge/begin"))
        .json(&json!({"provider": "push"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["number"]
        .to_string();
    assert!(!payload.to_string().contains(&format!("\"{number}\"")));
    // "Log out everywhere" (a lost phone): no browser is told of sign-ins any more.
    let r = http
        .post(server.url("/api/v1/logout-everywhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(
        sql_count(&db, "SELECT COUNT(*) FROM push_subscriptions").await,
        0
    );
}
