//! Prometheus `/metrics`: the counters move exactly as the requests say, it is off on the
//! main port by default, and with `metrics.listen` it is served there only.

use serde_json::json;

use crate::common::{Backend, Server, TestDb, api_login, both, browser};
use crate::two_factor::{challenge, enroll_totp, oathtool};

both!(every_kind_of_event_is_counted);

/// The value of the sample `series` (name and labels exactly as rendered).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

fn must(text: &str, series: &str) -> f64 {
    sample(text, series).unwrap_or_else(|| panic!("no sample {series} in\n{text}"))
}

fn login(result: &str) -> String {
    format!("twofold_logins_total{{method=\"password\",result=\"{result}\"}}")
}

fn forward_auth(outcome: &str) -> String {
    format!("twofold_forward_auth_decisions_total{{outcome=\"{outcome}\"}}")
}

async fn scrape(url: &str) -> String {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200);
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    r.text().await.unwrap()
}

fn traefik_check(http: &reqwest::Client, server: &Server) -> reqwest::RequestBuilder {
    http.get(server.url("/api/v1/forward-auth/traefik"))
        .header("x-forwarded-method", "GET")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "app.example.test")
        .header("x-forwarded-uri", "/")
}

async fn every_kind_of_event_is_counted(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    db.add_user("bob", "password-b");
    let server = Server::start_with(
        &db,
        &[
            ("TWOFOLD_METRICS_ENABLED", "true"),
            ("TWOFOLD_FORWARD_AUTH_DEFAULT_POLICY", "one_factor"),
            // Loopback is a trusted proxy, so that the guesses below come from many IPs.
            ("TWOFOLD_SERVER_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    let before = scrape(&server.url("/metrics")).await;
    assert_eq!(
        must(&before, &login("succeeded")),
        0.0,
        "exported from the start"
    );
    assert_eq!(must(&before, &forward_auth("allowed")), 0.0);

    // Logins: bob succeeds, then fails once.
    let bob = browser();
    api_login(&bob, &server, "bob", "password-b").await;
    let r = browser()
        .post(server.url("/api/v1/login"))
        .json(&json!({"uid": "bob", "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Forward-auth: bob's session passes twice (the second from the cache), a client
    // without one is refused, and a request the proxy did not describe is a bad request.
    for _ in 0..2 {
        let r = traefik_check(&bob, &server).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["remote-user"], "bob");
    }
    let r = traefik_check(&reqwest::Client::new(), &server)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = reqwest::get(server.url("/api/v1/forward-auth/nginx"))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // A wrong TOTP code: alice enrolls (one more successful login), signs in again (the
    // password step now asks for the second factor), then answers wrongly.
    let (_, secret) = enroll_totp(&server, "alice", "password-a").await;
    let fresh = browser();
    let body = api_login(&fresh, &server, "alice", "password-a").await;
    assert_eq!(body["stage"], "second_factor_pending");
    let right = oathtool(&secret, 30);
    let wrong: String = right
        .chars()
        .enumerate()
        .map(|(i, c)| match (i, c.to_digit(10)) {
            (0, Some(d)) => char::from_digit((d + 1) % 10, 10).unwrap(),
            _ => c,
        })
        .collect();
    assert_eq!(
        challenge(&fresh, &server, "totp", &wrong).await.status(),
        401
    );

    // Strangers guess one account's password from many addresses until the account's
    // bucket refuses.
    let stranger = reqwest::Client::new();
    let mut wrong_guesses = 0.0;
    for i in 1..=12 {
        let r = stranger
            .post(server.url("/api/v1/login"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&json!({"uid": "carol", "password": "guess"}))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            break;
        }
        assert_eq!(r.status(), 401);
        wrong_guesses += 1.0;
    }
    assert!(wrong_guesses < 12.0, "the guesses were never throttled");

    let text = scrape(&server.url("/metrics")).await;
    assert_eq!(
        must(&text, &login("succeeded")),
        2.0,
        "bob, then alice before 2FA"
    );
    assert_eq!(must(&text, &login("second_factor_required")), 1.0);
    assert_eq!(
        must(&text, &login("wrong_credentials")),
        1.0 + wrong_guesses
    );
    assert_eq!(must(&text, &login("throttled")), 1.0);
    assert_eq!(
        must(
            &text,
            "twofold_throttle_refusals_total{action=\"password\",bucket=\"account\"}"
        ),
        1.0
    );
    assert_eq!(
        must(
            &text,
            "twofold_second_factor_attempts_total{provider=\"totp\",result=\"failed\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "twofold_second_factor_attempts_total{provider=\"totp\",result=\"passed\"}"
        ),
        None,
        "enrolling is not answering a challenge"
    );
    assert_eq!(must(&text, &forward_auth("allowed")), 2.0);
    assert_eq!(must(&text, &forward_auth("unauthenticated")), 1.0);
    assert_eq!(must(&text, &forward_auth("bad_request")), 1.0);
    assert_eq!(must(&text, &forward_auth("forbidden")), 0.0);
    assert_eq!(
        must(&text, "twofold_forward_auth_duration_seconds_count"),
        4.0
    );
    assert!(text.contains("# TYPE twofold_forward_auth_duration_seconds histogram"));
    assert!(text.contains("twofold_forward_auth_duration_seconds_bucket{le=\"0.00005\"}"));
    assert_eq!(
        must(
            &text,
            "twofold_forward_auth_duration_seconds_bucket{le=\"+Inf\"}"
        ),
        4.0
    );
    // Both session checks asked the cache; how many it answered is the reader's ratio.
    let hits = must(&text, "twofold_forward_auth_cache_hits_total");
    let misses = must(&text, "twofold_forward_auth_cache_misses_total");
    assert_eq!(hits + misses, 2.0, "{text}");
    assert!(must(&text, "twofold_db_pool_connections") >= 1.0);
    assert!(sample(&text, "twofold_db_pool_idle_connections").is_some());
    assert_eq!(must(&text, "twofold_db_pool_max_connections"), 10.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_served_on_the_main_port_by_default() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = Server::start(&db).await;
    let r = reqwest::get(server.url("/metrics")).await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_listener_of_its_own_takes_it_off_the_main_port() {
    let db = TestDb::new(Backend::Sqlite).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let server = Server::start_with(
        &db,
        &[
            ("TWOFOLD_METRICS_LISTEN", listen.as_str()),
            // Even so: the listener of its own wins.
            ("TWOFOLD_METRICS_ENABLED", "true"),
        ],
    )
    .await;
    let r = reqwest::get(server.url("/metrics")).await.unwrap();
    assert_eq!(r.status(), 404, "served on the main port too");
    let text = scrape(&format!("http://{listen}/metrics")).await;
    assert!(
        text.contains("# TYPE twofold_logins_total counter"),
        "{text}"
    );
    assert!(
        sample(&text, "twofold_db_pool_connections").is_some(),
        "{text}"
    );
    // That port serves nothing else.
    let r = reqwest::get(format!("http://{listen}/healthz"))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
