//! The password policy with its default settings (the rest of the suite lowers the
//! score): each place a password is set refuses a weak one, with the same reason.

use serde_json::{Value, json};

use crate::common::{Backend, Server, TestDb, api_login, both, browser, csrf_of, run_cli, text};

both!(
    every_place_refuses_a_weak_password_with_the_same_reason,
    a_weak_password_still_signs_in_and_is_asked_to_change,
    a_hash_made_before_nfkc_still_signs_in_and_is_rehashed
);

/// The suite's environment with the policy's defaults back.
const DEFAULT_POLICY: &[(&str, &str)] = &[
    ("TWOFOLD_PASSWORD_MIN_SCORE", "3"),
    ("TWOFOLD_PASSWORD_MIN_LENGTH", "10"),
];

fn cli(db: &TestDb, args: &[&str], stdin: &str) -> std::process::Output {
    let mut env = db.env();
    env.extend(
        DEFAULT_POLICY
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    run_cli(&env, args, stdin)
}

const COMMON: &str = "this is one of the most common passwords";
const USER_NAME: &str = "it contains your user name";

async fn every_place_refuses_a_weak_password_with_the_same_reason(backend: Backend) {
    let db = TestDb::new(backend).await;
    // CLI: user add and user passwd.
    for (args, stdin, reason) in [
        (
            &["user", "add", "alice", "--password-stdin"][..],
            "qwertyuiop\n",
            COMMON,
        ),
        (
            &["user", "add", "alice", "--password-stdin"],
            "Password12\n",
            COMMON,
        ),
        (
            &["user", "add", "alice", "--password-stdin"],
            "nextcloud123\n",
            "too easy to guess",
        ),
        (
            &["user", "add", "alice", "--password-stdin"],
            "alice-garden-2024\n",
            USER_NAME,
        ),
        (
            &["user", "add", "alice", "--password-stdin"],
            "short\n",
            "too short: at least 10 characters",
        ),
    ] {
        let out = cli(&db, args, stdin);
        assert!(!out.status.success(), "{stdin} accepted");
        assert!(text(&out.stderr).contains(reason), "{}", text(&out.stderr));
    }
    let out = cli(
        &db,
        &["user", "add", "alice", "--password-stdin"],
        "velvet-otter-quarry-89\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cli(
        &db,
        &["user", "passwd", "alice", "--password-stdin"],
        "Alice in the garden 24\n",
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains(USER_NAME),
        "{}",
        text(&out.stderr)
    );

    // API: the user's own change.
    let server = Server::start_with(&db, DEFAULT_POLICY).await;
    let http = browser();
    api_login(&http, &server, "alice", "velvet-otter-quarry-89").await;
    let change = |new: &str| {
        let req = http.post(server.url("/api/v1/password")).json(&json!({
            "current_password": "velvet-otter-quarry-89",
            "new_password": new,
        }));
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (s, body) = change("qwertyuiop").await;
    assert_eq!(s, 400, "{body}");
    assert_eq!(body["error"]["code"], "weak_password");
    assert_eq!(body["error"]["reason"], "common");
    assert!(
        body["error"]["message"].as_str().unwrap().contains(COMMON),
        "{body}"
    );
    let (s, body) = change("alice-garden-2024").await;
    assert_eq!(
        (s, &body["error"]["reason"]),
        (400, &json!("contains_user_name"))
    );
    let long = "correct horse battery staple ".repeat(9);
    let (s, body) = change(&long).await;
    assert_eq!((s, &body["error"]["reason"]), (400, &json!("too_long")));

    // Page: the same reason, in the reader's language.
    for (lang, new, reason) in [
        ("en", "qwertyuiop", COMMON),
        ("fr", "short", "trop court : au moins 10 caractères"),
    ] {
        let html = http
            .get(server.url("/settings/password"))
            .header("accept-language", lang)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let r = http
            .post(server.url("/settings/password"))
            .header("accept-language", lang)
            .form(&[
                ("csrf", csrf_of(&html)),
                ("current_password", "velvet-otter-quarry-89".into()),
                ("new_password", new.into()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains(reason), "{html}");
    }
    // The page loads the live hint's script, which the CSP allows by name.
    let r = http
        .get(server.url("/settings/password"))
        .send()
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("/static/password.js"), "{csp}");
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("<script src=\"/static/password.js\">")
    );
    let r = http
        .get(server.url("/static/password.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("/api/v1/password/check"));
    // The live hint says the same, without changing anything.
    let verdict = |password: &str, lang: &str| {
        let req = http
            .post(server.url("/api/v1/password/check"))
            .json(&json!({"password": password, "lang": lang}));
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let v = verdict("qwertyuiop", "en").await;
    assert_eq!(v["acceptable"], false);
    assert_eq!(v["reason"], "common");
    assert_eq!(v["message"], COMMON);
    let v = verdict("short", "fr").await;
    assert_eq!(v["message"], "trop court : au moins 10 caractères");
    let v = verdict("copper-lantern-misty-harbor", "en").await;
    assert_eq!(
        (&v["acceptable"], &v["reason"]),
        (&json!(true), &Value::Null)
    );
    // A strong one is taken.
    let (s, body) = change("copper-lantern-misty-harbor").await;
    assert_eq!(s, 200, "{body}");
}

async fn a_weak_password_still_signs_in_and_is_asked_to_change(backend: Backend) {
    let db = TestDb::new(backend).await;
    // Set under a laxer policy (the suite's), then the default policy is in force.
    db.add_user("alice", "password-a");
    db.add_user("bob", "password-b");
    let out = cli(
        &db,
        &["user", "add", "carol", "--password-stdin"],
        "velvet-otter-quarry-89\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = Server::start_with(&db, DEFAULT_POLICY).await;
    let home = |http: reqwest::Client| {
        let url = server.url("/");
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let alice = browser();
    api_login(&alice, &server, "alice", "password-a").await;
    let html = home(alice.clone()).await;
    assert!(html.contains("id=\"weak-password\""), "{html}");
    assert!(html.contains("href=\"/settings/password\""));
    let carol = browser();
    api_login(&carol, &server, "carol", "velvet-otter-quarry-89").await;
    assert!(!home(carol).await.contains("weak-password"));
    // Admins see how many, never who: bob has not signed in since, so only alice.
    let list = text(&cli(&db, &["user", "list"], "").stdout);
    assert!(
        list.contains("1 account(s) signed in last with a password the policy now refuses"),
        "{list}"
    );
    assert!(!list.contains("password-a"));
    // A change clears the mark.
    let r = alice
        .post(server.url("/api/v1/password"))
        .json(&json!({"current_password": "password-a", "new_password": "copper-lantern-misty-harbor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(!home(alice).await.contains("weak-password"));
    let list = text(&cli(&db, &["user", "list"], "").stdout);
    assert!(!list.contains("policy now refuses"), "{list}");
}

/// A stand-in for the range API on 127.0.0.1: answers `listed` for every prefix after
/// `delay`, and records each request's path and `Add-Padding` header.
async fn mock_range_api(
    listed: String,
    delay: std::time::Duration,
) -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
) {
    use axum::extract::Request;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |req: Request| {
        let record = record.clone();
        let listed = listed.clone();
        async move {
            let padding = req
                .headers()
                .get("add-padding")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            record
                .lock()
                .unwrap()
                .push((req.uri().path().to_string(), padding));
            tokio::time::sleep(delay).await;
            listed
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/range/"), seen)
}

fn sha1_hex(password: &str) -> String {
    use sha1::Digest;
    hex::encode_upper(sha1::Sha1::digest(password.as_bytes()))
}

async fn cli_with(
    db: &TestDb,
    extra: Vec<(String, String)>,
    args: Vec<String>,
    stdin: String,
) -> (std::process::Output, std::time::Duration) {
    let mut env = db.env();
    env.extend(
        DEFAULT_POLICY
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    env.extend(extra);
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let started = std::time::Instant::now();
        let out = run_cli(&env, &args, &stdin);
        (out, started.elapsed())
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_online_check_sends_a_prefix_refuses_a_listed_password_and_fails_open() {
    let db = TestDb::new(Backend::Sqlite).await;
    let breached = "correct horse battery staple";
    let hash = sha1_hex(breached);
    let body = format!(
        "{}:3\r\n00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0\r\n",
        &hash[5..]
    );
    let (url, seen) = mock_range_api(body, std::time::Duration::ZERO).await;
    let online = |url: &str, timeout: &str| {
        vec![
            (
                "TWOFOLD_PASSWORD_CHECK_BREACHED".to_string(),
                "true".to_string(),
            ),
            ("TWOFOLD_PASSWORD_HIBP_URL".to_string(), url.to_string()),
            (
                "TWOFOLD_PASSWORD_HIBP_TIMEOUT_MS".to_string(),
                timeout.to_string(),
            ),
        ]
    };
    let add = |uid: &str, pw: &str| {
        (
            ["user", "add", uid, "--password-stdin"]
                .map(String::from)
                .to_vec(),
            format!("{pw}\n"),
        )
    };
    let (args, stdin) = add("alice", breached);
    let (out, _) = cli_with(&db, online(&url, "2000"), args, stdin).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("this password appears in known data breaches"),
        "{}",
        text(&out.stderr)
    );
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let (path, padding) = &seen[0];
        // Only the 5-character prefix of the SHA-1 leaves the machine.
        assert_eq!(path, &format!("/range/{}", &hash[..5]));
        assert_eq!(padding, "true");
    }
    let (args, stdin) = add("alice", "velvet-otter-quarry-89");
    let (out, _) = cli_with(&db, online(&url, "2000"), args, stdin).await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    // A service that does not answer in time: the local checks decide, promptly.
    let (slow, _) = mock_range_api(String::new(), std::time::Duration::from_secs(20)).await;
    let (args, stdin) = add("bob", "copper-lantern-misty-harbor");
    let (out, took) = cli_with(&db, online(&slow, "300"), args, stdin).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    eprintln!("user add with a silent range API (timeout 300 ms): {took:?}");
    let (args, stdin) = add("carol", "qwertyuiop");
    let (out, _) = cli_with(&db, online(&slow, "300"), args, stdin).await;
    assert!(text(&out.stderr).contains(COMMON), "{}", text(&out.stderr));
}

/// Hashes made before NFKC were of the password as typed: a non-ASCII one still signs
/// in, is rehashed in NFKC, and then any spelling of it does.
async fn a_hash_made_before_nfkc_still_signs_in_and_is_rehashed(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let store = db.store().await;
    let config = twofold::config::PasswordConfig {
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        argon2_parallelism: 1,
        ..Default::default()
    };
    let hasher = twofold::accounts::PasswordHasher::new(&config).unwrap();
    // "café" with a combining accent, and full-width digits: NFKC changes it.
    let typed = "cafe\u{301} \u{ff11}\u{ff12}\u{ff13} horse";
    let nfkc = "caf\u{e9} 123 horse";
    let old = hasher.hash(typed.to_string()).await.unwrap();
    store.set_password_hash("alice", &old).await.unwrap();
    let accounts = twofold::accounts::Accounts::new(
        store.clone(),
        hasher,
        twofold::accounts::PasswordPolicy::new(&config, ""),
    );
    assert!(accounts.authenticate("alice", nfkc).await.is_err());
    accounts.authenticate("alice", typed).await.unwrap();
    let new = store.user("alice").await.unwrap().unwrap().password_hash;
    assert_ne!(new, old, "rehashed in NFKC");
    accounts.authenticate("alice", nfkc).await.unwrap();
    accounts.authenticate("alice", typed).await.unwrap();
    assert!(
        accounts
            .authenticate("alice", "cafe 123 horse")
            .await
            .is_err()
    );
}
