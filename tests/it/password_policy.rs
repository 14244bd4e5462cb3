//! The password policy with its default settings (the rest of the suite lowers the
//! score): each place a password is set refuses a weak one, with the same reason.

use serde_json::{Value, json};

use crate::common::{Backend, Server, TestDb, api_login, both, browser, csrf_of, run_cli, text};

both!(
    every_place_refuses_a_weak_password_with_the_same_reason,
    a_weak_password_still_signs_in_and_is_asked_to_change
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
