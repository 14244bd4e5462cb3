//! Forward-auth: proxy headers a client can forge, path and host spellings, and what an
//! app password carries.

use serde_json::{Value, json};

use super::{traefik, with_rules};
use crate::common::{Backend, TestDb, api_login, both, browser};
use crate::two_factor::{challenge, enroll_totp, oathtool};

both!(
    defect_01_a_client_sent_x_original_url_is_ignored_behind_traefik,
    defect_02_path_and_host_spellings_get_the_rule_they_mean,
    defect_10_an_app_password_carries_no_more_than_its_login,
    defect_11_throttled_basic_at_the_nginx_endpoint_is_401_with_retry_after
);

async fn defect_01_a_client_sent_x_original_url_is_ignored_behind_traefik(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = with_rules(&db, &[]).await;
    let anon = reqwest::Client::new();
    let r = traefik(&anon, &server, "files.example.test", "/secret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Traefik passes the client's own headers on: this one must change nothing.
    let r = traefik(&anon, &server, "files.example.test", "/secret")
        .header("x-original-url", "https://files.example.test/public/")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the injected X-Original-URL was believed");
    // The nginx endpoint, conversely, ignores the X-Forwarded-* family.
    let r = anon
        .get(server.url("/api/v1/forward-auth/nginx"))
        .header("x-forwarded-host", "files.example.test")
        .header("x-forwarded-uri", "/public/")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // The old endpoint that read both is gone: an old proxy config fails closed.
    let r = traefik(&anon, &server, "files.example.test", "/public/x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "sanity: bypass works on the new endpoint");
    let r = anon
        .get(server.url("/api/v1/forward-auth"))
        .header("x-original-url", "https://files.example.test/public/")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
}

async fn defect_02_path_and_host_spellings_get_the_rule_they_mean(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = with_rules(&db, &[]).await;
    let anon = reqwest::Client::new();
    let alice = browser();
    api_login(&alice, &server, "alice", "password-a").await;
    let status = |http: &reqwest::Client, host: &str, uri: &str| {
        let req = traefik(http, &server, host, uri);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // Spellings of a protected path under the bypass prefix: never let through.
    for uri in [
        "/public/..%2fdav/secret.txt",
        "/public/%2e%2e%2fdav/secret.txt",
        "/public/..%2Fdav/secret.txt",
        "/public/../dav/secret.txt",
        "/public/%2e%2e/dav/secret.txt",
        "/public%2f..%2fdav",
        "/public/..;/dav",
        "/public/%252e%252e/dav",
        "/public\\..\\dav",
    ] {
        let s = status(&anon, "files.example.test", uri).await;
        assert!(s == 401 || s == 403, "{uri}: {s}");
    }
    // A deny path, however it is spelled, even for a signed-in user.
    for uri in [
        "/deny/x",
        "//deny/x",
        "/deny%2fx",
        "/%64eny/x",
        "/public/..%2fdeny/x",
        "/./deny/x",
        "/deny;x/y",
        "/a%00/../deny/x",
    ] {
        assert_eq!(
            status(&alice, "files.example.test", uri).await,
            403,
            "{uri}"
        );
    }
    // The group-restricted path: alice is not in `team`.
    for uri in ["/team/x", "//team/x", "/%74eam/x", "/x/../team/y"] {
        assert_eq!(
            status(&alice, "files.example.test", uri).await,
            403,
            "{uri}"
        );
    }
    assert_eq!(status(&alice, "files.example.test", "/shared/x").await, 200);
    // Prefixes end on a segment boundary: /public does not cover /public-admin.
    assert_eq!(
        status(&anon, "files.example.test", "/public-admin/x").await,
        401
    );
    assert_eq!(status(&anon, "files.example.test", "/public").await, 200);
    // Host spellings: case, trailing dot, port.
    for host in [
        "closed.example.test",
        "closed.example.test.",
        "CLOSED.Example.Test",
        "closed.example.test:443",
        "closed.example.test.:8443",
    ] {
        assert_eq!(status(&alice, host, "/").await, 403, "{host}");
    }
    assert_eq!(
        status(&anon, "files.example.test.", "/public/readme").await,
        200
    );
    assert_eq!(
        status(&anon, "files.example.test", "/public/a?x=/deny").await,
        200,
        "the query is not the path"
    );
    // A host that is no host name is a bad request, not a decision.
    assert_eq!(status(&alice, "a b", "/").await, 400);
}

async fn defect_10_an_app_password_carries_no_more_than_its_login(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("bob", "password-b");
    db.add_user("alice", "password-a");
    let server = with_rules(&db, &[]).await;
    let plain = reqwest::Client::new();
    let make = |http: reqwest::Client| {
        let url = server.url("/api/v1/app-passwords");
        async move {
            let r = http
                .post(url)
                .json(&json!({"name": "sync"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()["password"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    // Bob has no second factor: his session has one factor, and so has his app password.
    let bob = browser();
    api_login(&bob, &server, "bob", "password-b").await;
    let bob_app = make(bob.clone()).await;
    let with_app = |uid: &'static str, pw: String, uri: &'static str| {
        let req = traefik(&plain, &server, "files.example.test", uri).basic_auth(uid, Some(pw));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        traefik(&bob, &server, "files.example.test", "/x")
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        with_app("bob", bob_app.clone(), "/x").await,
        403,
        "two_factor"
    );
    assert_eq!(
        with_app("bob", bob_app, "/shared/x").await,
        200,
        "one_factor"
    );
    // Alice signs in with her second factor: her app password satisfies two_factor.
    let (_, secret) = enroll_totp(&server, "alice", "password-a").await;
    let alice = browser();
    api_login(&alice, &server, "alice", "password-a").await;
    let r = challenge(&alice, &server, "totp", &oathtool(&secret, 30)).await;
    assert_eq!(r.status(), 200);
    let alice_app = make(alice).await;
    assert_eq!(with_app("alice", alice_app, "/x").await, 200);
}

async fn defect_11_throttled_basic_at_the_nginx_endpoint_is_401_with_retry_after(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("bob", "password-b");
    let server = with_rules(&db, &[]).await;
    let plain = reqwest::Client::new();
    let nginx = |pw: &str| {
        plain
            .get(server.url("/api/v1/forward-auth/nginx"))
            .header("x-original-url", "https://files.example.test/x")
            .basic_auth("bob", Some(pw.to_string()))
    };
    let mut throttled = None;
    for _ in 0..8 {
        let r = nginx("wrong").send().await.unwrap();
        assert_eq!(r.status(), 401, "nginx turns anything else into a 500");
        if let Some(wait) = r.headers().get("retry-after") {
            throttled = Some(wait.to_str().unwrap().parse::<i64>().unwrap());
            break;
        }
    }
    let wait = throttled.expect("the Basic attempts were never throttled");
    assert!(wait > 0);
    // Traefik passes the answer to the client: there it stays a 429.
    let r = traefik(&plain, &server, "files.example.test", "/x")
        .basic_auth("bob", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
}
