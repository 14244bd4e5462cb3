//! Throttling that strangers cannot turn against a user, attempts reserved before they
//! are checked, and password hashing with bounded work.

use reqwest::StatusCode;
use serde_json::json;

use twofold::audit::{Actor, Audit};
use twofold::error::AppError;
use twofold::sessions::ClientInfo;
use twofold::throttle::{FLOW_STARTS, SIGN_IN_STARTS, Throttle, buckets};

use crate::common::{Backend, Server, TestDb, both, browser};
use crate::two_factor::enroll_totp;

both!(
    defect_03_strangers_cannot_lock_a_user_out,
    defect_04_parallel_guesses_cannot_overrun_the_throttle,
    defect_16_2_a_typo_a_minute_never_delays_a_correct_login,
    defect_16_2_guessing_across_accounts_is_slowed_to_the_documented_rate,
    defect_16_2_successes_never_extend_an_address_bucket,
    defect_16_2_started_actions_decay,
    defect_16_2_a_known_device_is_not_slowed_by_its_address,
    defect_24_1_ten_thousand_refused_logins_add_no_rows,
    defect_24_2_failed_logins_of_unknown_names_are_counted_per_address,
    defect_24_3_a_throttle_event_names_an_unknown_account_by_its_hash,
);

/// Loopback is a trusted proxy here, so that each request can come "from" its own IP.
const BEHIND_PROXY: (&str, &str) = ("TWOFOLD_SERVER_TRUSTED_PROXIES", "127.0.0.1");

async fn login_from(
    http: &reqwest::Client,
    server: &Server,
    ip: &str,
    uid: &str,
    pw: &str,
) -> reqwest::Response {
    http.post(server.url("/api/v1/login"))
        .header("x-forwarded-for", ip)
        .json(&json!({"uid": uid, "password": pw}))
        .send()
        .await
        .unwrap()
}

async fn defect_03_strangers_cannot_lock_a_user_out(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start_with(&db, &[BEHIND_PROXY]).await;
    // Alice signs in once from her browser: it becomes a known device.
    let alice = browser();
    let r = login_from(&alice, &server, "203.0.113.10", "alice", "password-a").await;
    assert_eq!(r.status(), 200);
    // Strangers guess her password from many addresses.
    let stranger = reqwest::Client::new();
    let mut refused = None;
    for i in 1..=12 {
        let ip = format!("198.51.100.{i}");
        let r = login_from(&stranger, &server, &ip, "alice", "guess").await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status(), 401);
    }
    let refused = refused.expect("guesses on one account were never slowed");
    let wait: i64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=25).contains(&wait),
        "the account's delay is short and capped: {wait}"
    );
    // Her known browser is not slowed by any of that.
    let r = login_from(&alice, &server, "203.0.113.10", "alice", "password-a").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // Nor from another network, as long as the browser is known.
    let r = login_from(&alice, &server, "192.0.2.77", "alice", "password-a").await;
    assert_eq!(r.status(), 200);
    // The trail says what happened.
    let events: serde_json::Value = alice
        .get(server.url("/api/v1/activity"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"throttle_triggered"), "{names:?}");
    assert!(names.contains(&"login_failed"), "{names:?}");
    assert!(names.contains(&"login_succeeded"), "{names:?}");
}

async fn defect_04_parallel_guesses_cannot_overrun_the_throttle(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    enroll_totp(&server, "alice", "password-a").await;
    let pending = browser();
    let r = pending
        .post(server.url("/api/v1/login"))
        .json(&json!({"uid": "alice", "password": "password-a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // 50 wrong codes at once.
    let mut tasks = Vec::new();
    for i in 0..50 {
        let http = pending.clone();
        let url = server.url("/api/v1/login/challenge");
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .json(&json!({"provider": "totp", "code": format!("{:06}", 100_000 + i)}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let (mut checked, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            401 => checked += 1,
            429 => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    eprintln!("parallel guesses checked: {checked} of 50");
    assert_eq!(checked + refused, 50);
    // Five are free; each later one must wait 2 s, 4 s… after the last: on a machine so
    // loaded that the 50 requests spread over seconds, a sixth or seventh may be checked
    // legitimately. Without the reservation all 50 were.
    assert!(
        checked <= 8,
        "{checked} of 50 parallel guesses were checked: the limit was overrun"
    );
    // The factor's own failure count agrees: only checked guesses count.
    let store = db.store().await;
    let state = store.provider_states("alice").await.unwrap();
    let totp = state.iter().find(|s| s.provider == "totp").unwrap();
    assert_eq!(totp.failures, checked);
    // The same for passwords: 50 wrong ones at once for one account.
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let url = server.url("/api/v1/login");
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({"uid": "alice", "password": "wrong"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let checked = results.iter().filter(|s| **s == 401).count();
    assert_eq!(checked + results.iter().filter(|s| **s == 429).count(), 50);
    assert!(
        checked <= 8,
        "{checked} of 50 parallel passwords were checked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_05_password_hashing_is_bounded() {
    let db = TestDb::new(Backend::Sqlite).await;
    // Slow hashes, one worker, a queue of two.
    let server = Server::start_with(
        &db,
        &[
            BEHIND_PROXY,
            ("TWOFOLD_PASSWORD_ARGON2_MEMORY_KIB", "16384"),
            ("TWOFOLD_PASSWORD_ARGON2_ITERATIONS", "4"),
            ("TWOFOLD_PASSWORD_HASH_WORKERS", "1"),
            ("TWOFOLD_PASSWORD_HASH_QUEUE", "2"),
        ],
    )
    .await;
    // A spray: 40 logins at once, each for another name from another address.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let url = server.url("/api/v1/login");
        tasks.push(tokio::spawn(async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("x-forwarded-for", format!("198.51.100.{}", i + 1))
                .json(&json!({"uid": format!("user{i}"), "password": "guess"}))
                .send()
                .await
                .unwrap();
            let retry = r.headers().contains_key("retry-after");
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            (status, retry, body)
        }));
    }
    let (mut refused, mut busy) = (0, 0);
    for t in tasks {
        let (status, retry, body) = t.await.unwrap();
        match status {
            401 => refused += 1,
            503 => {
                assert!(retry && body.contains("busy"), "{body}");
                busy += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(refused + busy, 40);
    assert!(
        busy > 0,
        "nothing was turned away: the hashing queue is not bounded"
    );
    // Exactly one hashing thread, whatever the load.
    let tasks = std::fs::read_dir(format!("/proc/{}/task", server.pid())).unwrap();
    let hashers = tasks
        .filter_map(|t| std::fs::read_to_string(t.unwrap().path().join("comm")).ok())
        .filter(|name| name.starts_with("argon2"))
        .count();
    assert_eq!(hashers, 1);
}

/// The throttle alone, on a real database, with the clock in the test's hands.
async fn throttle_on(db: &TestDb) -> Throttle {
    let store = db.store().await;
    Throttle::new(store.clone(), Audit::new(store, false))
}

const T0: i64 = 1_800_000_000;

/// A password attempt on `uid` from `ip` at `now`: `Ok(())` when checked, `Err(wait)` when
/// refused. `right` settles it as a success, else as a failure.
async fn password_at(
    throttle: &Throttle,
    uid: &str,
    ip: &str,
    right: bool,
    now: i64,
) -> Result<(), i64> {
    let actor = Actor::default();
    match throttle
        .reserve(buckets("password", uid, ip, None), &actor, now)
        .await
    {
        Ok(r) if right => {
            throttle.succeeded(r).await.unwrap();
            Ok(())
        }
        Ok(r) => {
            r.failed();
            Ok(())
        }
        Err(AppError::TooManyAttempts(wait)) => Err(wait),
        Err(e) => panic!("{e:?}"),
    }
}

/// Issue 16.2: one office address, a steady typo a minute (each on another account, so no
/// account bucket is involved) for three hours, and people signing in correctly in
/// between: nobody is ever refused. Before, the address counter never shrank while the
/// address was in use: after 20 typos every correct login waited.
async fn defect_16_2_a_typo_a_minute_never_delays_a_correct_login(backend: Backend) {
    let db = TestDb::new(backend).await;
    let throttle = throttle_on(&db).await;
    let office = "192.0.2.50";
    for minute in 0..180 {
        let t = T0 + 60 * minute;
        let typo = password_at(&throttle, &format!("typo{minute}"), office, false, t).await;
        assert_eq!(typo, Ok(()), "typo at minute {minute}");
        for (i, uid) in ["alice", "bob", "carol"].iter().enumerate() {
            let r = password_at(&throttle, uid, office, true, t + 1 + i as i64).await;
            assert_eq!(r, Ok(()), "{uid} at minute {minute}");
        }
    }
}

/// Issue 16.2: 1 000 guesses on 1 000 accounts from one address, each made the moment the
/// last refusal said it could be: 20 at once, then one per 40 s (docs/security.md), so 110
/// in the first hour and the 1 000th after (1000 - 20) × 40 s ≈ 10.9 h. The waits the
/// throttle announces are exact: a guess made when told is taken.
async fn defect_16_2_guessing_across_accounts_is_slowed_to_the_documented_rate(backend: Backend) {
    let db = TestDb::new(backend).await;
    let throttle = throttle_on(&db).await;
    let ip = "198.51.100.66";
    let (mut now, mut in_first_hour) = (T0, 0);
    for i in 0..1000 {
        let uid = format!("victim{i}");
        let mut tries = 0;
        while let Err(wait) = password_at(&throttle, &uid, ip, false, now).await {
            assert!(wait > 0, "a refusal names a wait");
            now += wait;
            tries += 1;
            assert_eq!(tries, 1, "guess {i}: refused again after waiting as told");
        }
        if now < T0 + 3600 {
            in_first_hour += 1;
        }
    }
    assert!(
        (109..=111).contains(&in_first_hour),
        "{in_first_hour} guesses in the first hour"
    );
    let last = now - T0;
    assert!(
        ((1000 - 20) * 40 - 40..=(1000 - 20) * 40 + 40).contains(&last),
        "the 1000th guess after {last} s"
    );
}

/// Issue 16.2: a success never pushes an address bucket forward. Two addresses see the
/// same 15 failures; one also sees a correct login every 10 s. Both drain alike: at one
/// failure per 40 s, 600 s later both are empty and take a full burst of 20 again.
async fn defect_16_2_successes_never_extend_an_address_bucket(backend: Backend) {
    let db = TestDb::new(backend).await;
    let throttle = throttle_on(&db).await;
    let (quiet, busy) = ("192.0.2.60", "192.0.2.61");
    for i in 0..15 {
        for ip in [quiet, busy] {
            let r = password_at(&throttle, &format!("u{i}"), ip, false, T0).await;
            assert_eq!(r, Ok(()));
        }
    }
    for k in 1..60 {
        let r = password_at(&throttle, &format!("ok{k}"), busy, true, T0 + 10 * k).await;
        assert_eq!(r, Ok(()), "correct login {k}");
    }
    for ip in [quiet, busy] {
        for i in 0..20 {
            let r = password_at(&throttle, &format!("later{i}"), ip, false, T0 + 600).await;
            assert_eq!(r, Ok(()), "{ip}: failure {i} after the bucket drained");
        }
        let r = password_at(&throttle, "one-more", ip, false, T0 + 600).await;
        assert!(r.is_err(), "{ip}: the burst is 20");
    }
    // Refused at the address, which is checked first: nothing is left on the account.
    let store = db.store().await;
    let row = store.throttle_tat("password:acct:one-more").await.unwrap();
    assert_eq!(row, None);
}

/// Issue 16.2: counted uses (client flows started, passwordless sign-ins begun) decay on
/// their own too: a burst, then after the bucket drained, a full burst again.
async fn defect_16_2_started_actions_decay(backend: Backend) {
    let db = TestDb::new(backend).await;
    let throttle = throttle_on(&db).await;
    let client = ClientInfo {
        ip: "192.0.2.70".into(),
        ..ClientInfo::default()
    };
    // Flows: 10 at once, then one per 30 s; passwordless starts: 60, then one per 10 s.
    for (what, limits, burst, drained) in [
        ("flow", FLOW_STARTS, 10, 10 * 30),
        ("passwordless-begin", SIGN_IN_STARTS, 60, 60 * 10),
    ] {
        for round in [T0, T0 + drained] {
            for i in 0..burst {
                let r = throttle.count_use(what, &client, limits, round).await;
                assert!(r.is_ok(), "{what}: start {i} at +{}", round - T0);
            }
            let r = throttle.count_use(what, &client, limits, round).await;
            assert!(
                matches!(r, Err(AppError::TooManyAttempts(_))),
                "{what}: one past the burst"
            );
        }
    }
}

/// Issue 16.2: a browser that signed in as alice before is not slowed by its address's
/// bucket, filled by others' failures on other accounts; strangers from there are.
async fn defect_16_2_a_known_device_is_not_slowed_by_its_address(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start_with(&db, &[BEHIND_PROXY]).await;
    let office = "203.0.113.20";
    let alice = browser();
    let r = login_from(&alice, &server, office, "alice", "password-a").await;
    assert_eq!(r.status(), 200);
    let others = reqwest::Client::new();
    let mut refused = false;
    for i in 0..30 {
        let r = login_from(&others, &server, office, &format!("someone{i}"), "x").await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = true;
            break;
        }
        assert_eq!(r.status(), 401);
    }
    assert!(refused, "the address's bucket never filled");
    let r = login_from(&alice, &server, office, "alice", "password-a").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // Her cookie counts for her only: a stranger from the office is still refused.
    let r = login_from(&others, &server, office, "alice", "password-a").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// The whole application on a test database, for calling use cases directly (no HTTP):
/// light Argon2, the suite's weak passwords allowed.
async fn state_on(db: &TestDb) -> twofold::state::AppState {
    let store = db.store().await;
    let mut config = twofold::config::Config::default();
    config.password.argon2_memory_kib = 64;
    config.password.argon2_iterations = 1;
    config.password.argon2_parallelism = 1;
    config.password.min_length = 8;
    config.password.min_score = 0;
    twofold::state::AppState::new(
        config,
        store,
        twofold::crypto::ServerKey::from_bytes([7; 32]),
    )
    .unwrap()
}

fn client_at(ip: &str) -> ClientInfo {
    ClientInfo {
        ip: ip.into(),
        user_agent: "test".into(),
        device_cookie: None,
    }
}

/// Every table's rows, with the columns that could change without a new row (a bucket's
/// time, an aggregate's count).
async fn footprint(db: &TestDb) -> Vec<(String, i64)> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let mut out = Vec::new();
    for (table, what) in [
        ("app_passwords", "COUNT(*)"),
        ("audit_log", "COUNT(*)"),
        ("audit_log", "COALESCE(SUM(repeats), 0)"),
        ("auth_changes", "COUNT(*)"),
        ("backup_codes", "COUNT(*)"),
        ("ceremonies", "COUNT(*)"),
        ("enforcement", "COUNT(*)"),
        ("enforcement_groups", "COUNT(*)"),
        ("group_members", "COUNT(*)"),
        ("groups", "COUNT(*)"),
        ("login_flows", "COUNT(*)"),
        ("provider_settings", "COUNT(*)"),
        ("provider_user_state", "COUNT(*)"),
        ("sessions", "COUNT(*)"),
        ("throttle", "COUNT(*)"),
        ("throttle", "COALESCE(SUM(tat), 0)"),
        ("totp_secrets", "COUNT(*)"),
        ("users", "COUNT(*)"),
        ("webauthn_credentials", "COUNT(*)"),
    ] {
        // SQLite's change feed for other instances (PostgreSQL notifies instead).
        if table == "auth_changes" && !db.url.starts_with("sqlite") {
            continue;
        }
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST({what} AS BIGINT) FROM {table}"
        )))
        .fetch_one(&pool)
        .await
        .unwrap();
        out.push((format!("{table} {what}"), n));
    }
    pool.close().await;
    out
}

/// Fails logins of new unknown names from `ip` until the address is in its delay;
/// returns how many were checked.
async fn fill_address(state: &twofold::state::AppState, ip: &str, prefix: &str) -> usize {
    let client = client_at(ip);
    for i in 0.. {
        let uid = format!("{prefix}{i}");
        match twofold::login::password_step(state, &uid, "wrong-password", false, &client).await {
            Err(AppError::InvalidCredentials) => {}
            Err(AppError::TooManyAttempts(_)) => return i,
            other => panic!("{other:?}"),
        }
    }
    unreachable!()
}

/// Issue 24: a client whose address is in its delay can send logins for new names as
/// fast as it likes: not one row appears (no throttle bucket per name, no audit row, no
/// count). Direct use-case calls, so it runs in seconds; not a timing test.
async fn defect_24_1_ten_thousand_refused_logins_add_no_rows(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = state_on(&db).await;
    let ip = "198.51.100.9";
    assert_eq!(fill_address(&state, ip, "nobody").await, 20);
    // Deep in its delay (an hour), so that the bucket draining one attempt per 40 s
    // while the test runs does not let one through on a slow machine.
    crate::common::sql(
        &db,
        "UPDATE throttle SET tat = tat + 3600 WHERE key LIKE 'password:ip:%'",
    )
    .await;
    let before = footprint(&db).await;
    let mut tasks = Vec::new();
    for t in 0..4 {
        let state = state.clone();
        tasks.push(tokio::spawn(async move {
            let client = client_at(ip);
            for i in 0..2_500 {
                let uid = format!("stranger{t}-{i}");
                let r = twofold::login::password_step(&state, &uid, "guess", false, &client).await;
                assert!(
                    matches!(r, Err(AppError::TooManyAttempts(_))),
                    "{uid}: {r:?}"
                );
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(footprint(&db).await, before);
}

/// Issue 24: failed logins of names nobody has are one counted row per address and hour
/// (before: a row each, so the trail grew at request rate). A known user's failure is
/// still its own row naming the user.
async fn defect_24_2_failed_logins_of_unknown_names_are_counted_per_address(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = state_on(&db).await;
    db.add_user("alice", "password-a");
    assert_eq!(fill_address(&state, "198.51.100.20", "a").await, 20);
    // Two addresses of one /64 are one client.
    for ip in ["2001:db8:1:2::1", "2001:db8:1:2::ffff"] {
        for i in 0..3 {
            let r = twofold::login::password_step(
                &state,
                &format!("b{ip}{i}"),
                "wrong-password",
                false,
                &client_at(ip),
            )
            .await;
            assert!(matches!(r, Err(AppError::InvalidCredentials)), "{r:?}");
        }
    }
    let r = twofold::login::password_step(&state, "ALICE", "wrong", false, &client_at("192.0.2.3"))
        .await;
    assert!(matches!(r, Err(AppError::InvalidCredentials)), "{r:?}");
    let rows = state
        .audit
        .list(&twofold::store::AuditQuery {
            user: None,
            since: 0,
            limit: 100,
        })
        .await
        .unwrap();
    let mut failed: Vec<(String, String, i64)> = rows
        .iter()
        .filter(|r| r.event == "login_failed")
        .map(|r| (r.target.clone(), r.ip.clone(), r.repeats))
        .collect();
    failed.sort();
    assert_eq!(
        failed,
        vec![
            ("alice".into(), "192.0.2.3".into(), 1),
            ("unknown".into(), "198.51.100.20".into(), 20),
            ("unknown".into(), "2001:db8:1:2::/64".into(), 6),
        ]
    );
}

/// Issue 24: when an attempt on a name nobody has fills a bucket, the throttle event names
/// it by its keyed hash like a failed login does, never as typed; a real account's event
/// names the account (as stored, whatever case was typed).
async fn defect_24_3_a_throttle_event_names_an_unknown_account_by_its_hash(backend: Backend) {
    let db = TestDb::new(backend).await;
    let state = state_on(&db).await;
    db.add_user("alice", "password-a");
    // Five guesses fill an account's bucket; each from its own address.
    for (i, uid) in (0..5)
        .map(|i| (i, "Tr0ub4dor-secret"))
        .chain((5..10).map(|i| (i, "Alice")))
    {
        let ip = format!("192.0.2.{}", 10 + i);
        let r = twofold::login::password_step(&state, uid, "wrong", false, &client_at(&ip)).await;
        assert!(matches!(r, Err(AppError::InvalidCredentials)), "{r:?}");
    }
    // The address buckets fill too (and their events name the account the same way).
    fill_address(&state, "198.51.100.77", "Tr0ub4dor-pass").await;
    let rows = state
        .audit
        .list(&twofold::store::AuditQuery {
            user: None,
            since: 0,
            limit: 100,
        })
        .await
        .unwrap();
    let leaked: Vec<_> = rows
        .iter()
        .filter(|r| format!("{}{}{}", r.target, r.actor, r.detail).contains("Tr0ub4dor"))
        .collect();
    assert!(leaked.is_empty(), "{leaked:?}");
    let triggered: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r.event == "throttle_triggered")
        .map(|r| (r.target.as_str(), r.detail.as_str()))
        .collect();
    assert!(
        triggered.contains(&("alice", "password:acct")),
        "{triggered:?}"
    );
    assert!(
        triggered
            .iter()
            .any(|(t, d)| t.starts_with("unknown:") && *d == "password:acct"),
        "{triggered:?}"
    );
    assert!(
        triggered
            .iter()
            .any(|(t, d)| t.starts_with("unknown:") && *d == "password:ip"),
        "{triggered:?}"
    );
}

/// Issue 24: `throttle.ipv6_prefix` decides what one client is. At /48, twenty guesses
/// from twenty different /64s of one /48 fill one address bucket; the next is refused,
/// while another /48 still gets through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_24_4_the_ipv6_prefix_setting_groups_addresses() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server =
        Server::start_with(&db, &[BEHIND_PROXY, ("TWOFOLD_THROTTLE_IPV6_PREFIX", "48")]).await;
    let http = reqwest::Client::new();
    for i in 0..20 {
        let ip = format!("2001:db8:7:{i:x}::1");
        let r = login_from(&http, &server, &ip, &format!("nobody{i}"), "guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{ip}");
    }
    let r = login_from(&http, &server, "2001:db8:7:ff::9", "nobody-x", "guess").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "same /48");
    let r = login_from(&http, &server, "2001:db8:8::1", "nobody-y", "guess").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "another /48");
}
