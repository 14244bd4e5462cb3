//! Storage, accounts and sessions against a real database: the same tests on SQLite and
//! PostgreSQL.

use twofold::accounts::{Accounts, NewUser, PasswordHasher, PasswordPolicy};
use twofold::config::{PasswordConfig, SessionConfig};
use twofold::crypto::ServerKey;
use twofold::error::AppError;
use twofold::login::Stage;
use twofold::sessions::{ClientInfo, Sessions};
use twofold::store::{Store, StoreError};

use crate::common::{Backend, TestDb, both};

const NOW: i64 = 1_800_000_000;

fn accounts(store: &Store) -> Accounts {
    let config = PasswordConfig {
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        argon2_parallelism: 1,
        min_length: 8,
        min_score: 0,
        hash_workers: 1,
        hash_queue: 64,
        ..Default::default()
    };
    Accounts::new(
        store.clone(),
        PasswordHasher::new(&config).unwrap(),
        PasswordPolicy::new(&config, ""),
    )
}

fn sessions(store: &Store) -> Sessions {
    Sessions::new(
        store.clone(),
        ServerKey::from_bytes([7; 32]),
        SessionConfig::default(),
    )
}

fn new_user(uid: &str) -> NewUser {
    NewUser {
        uid: uid.parse().unwrap(),
        display_name: Some(format!("{uid} display")),
        email: Some(format!("{uid}@example.org")),
        is_admin: false,
    }
}

both!(
    users_round_trip,
    duplicate_user_is_a_conflict_and_changes_nothing,
    wrong_password_unknown_user_and_disabled_user_look_the_same,
    deleting_a_user_cascades,
    groups_and_memberships,
    sessions_find_rotate_expire,
    concurrent_rotation_has_one_winner,
    throttle_in_sql_matches_limits_take,
    parallel_attempts_on_one_counter_all_count,
    password_change_ends_sessions,
    migrations_are_idempotent,
    a_factor_locks_after_100_failures,
    concurrent_backup_code_use_has_one_winner,
    defect_17_10_the_audit_trail_keeps_the_order_of_one_second,
    defect_17_12_user_names_ignore_case_in_lookup_and_uniqueness,
    defect_17_12_older_case_twins_survive_the_migration_and_sign_in_by_exact_uid,
);

async fn users_round_trip(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let accounts = accounts(&store);
    let alice = accounts
        .create(new_user("alice"), "password-a".into(), NOW)
        .await
        .unwrap();
    assert_eq!(alice.uid, "alice");
    assert_eq!(alice.display_name, "alice display");
    assert!(alice.enabled && !alice.is_admin);
    accounts
        .create(new_user("bob"), "password-b".into(), NOW)
        .await
        .unwrap();
    assert_eq!(accounts.get("alice").await.unwrap(), alice);
    let (page, total) = accounts.page("", 1, 50).await.unwrap();
    let uids: Vec<String> = page.into_iter().map(|u| u.uid).collect();
    assert_eq!(
        (uids, total),
        (vec!["alice".to_string(), "bob".to_string()], 2)
    );
    let (page, total) = accounts.page("BO", 1, 50).await.unwrap();
    assert_eq!((page.len(), page[0].uid.as_str(), total), (1, "bob", 1));
    let (page, total) = accounts.page("", 2, 1).await.unwrap();
    assert_eq!((page.len(), page[0].uid.as_str(), total), (1, "bob", 2));
    assert_eq!(store.count_users().await.unwrap(), 2);
    // The stored hash is Argon2id, never the password.
    let row = store.user("alice").await.unwrap().unwrap();
    assert!(row.password_hash.starts_with("$argon2id$"));
    assert!(!row.password_hash.contains("password-a"));
}

async fn duplicate_user_is_a_conflict_and_changes_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let accounts = accounts(&store);
    accounts
        .create(new_user("alice"), "password-a".into(), NOW)
        .await
        .unwrap();
    let before = store.user("alice").await.unwrap();
    let err = accounts
        .create(new_user("alice"), "password-z".into(), NOW + 5)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
    assert_eq!(store.user("alice").await.unwrap(), before);
    assert_eq!(store.count_users().await.unwrap(), 1);
    // Too short a password, and a bad email: refused, nothing stored.
    let err = accounts
        .create(new_user("carol"), "short".into(), NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AppError::WeakPassword(twofold::accounts::Weakness::TooShort(8))
        ),
        "{err:?}"
    );
    let mut bad = new_user("dave");
    bad.email = Some("not-an-email".into());
    assert!(
        accounts
            .create(bad, "password-d".into(), NOW)
            .await
            .is_err()
    );
    assert_eq!(store.count_users().await.unwrap(), 1);
}

async fn wrong_password_unknown_user_and_disabled_user_look_the_same(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let accounts = accounts(&store);
    accounts
        .create(new_user("alice"), "password-a".into(), NOW)
        .await
        .unwrap();
    assert_eq!(
        accounts
            .authenticate("alice", "password-a")
            .await
            .unwrap()
            .uid,
        "alice"
    );
    for (uid, pw) in [
        ("alice", "wrong-pass"),
        ("nobody", "password-a"),
        ("alice", ""),
    ] {
        let err = accounts.authenticate(uid, pw).await.unwrap_err();
        assert!(
            matches!(err, AppError::InvalidCredentials),
            "{uid}: {err:?}"
        );
    }
    accounts.set_enabled("alice", false).await.unwrap();
    let err = accounts
        .authenticate("alice", "password-a")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::InvalidCredentials));
    accounts.set_enabled("alice", true).await.unwrap();
    assert!(accounts.authenticate("alice", "password-a").await.is_ok());
}

async fn deleting_a_user_cascades(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let accounts = accounts(&store);
    let sessions = sessions(&store);
    accounts
        .create(new_user("alice"), "password-a".into(), NOW)
        .await
        .unwrap();
    store.create_group("staff", NOW).await.unwrap();
    store.add_member("staff", "alice").await.unwrap();
    let (token, _) = sessions
        .start(
            "alice",
            Stage::Authenticated,
            false,
            false,
            &ClientInfo::default(),
            NOW,
        )
        .await
        .unwrap();
    store.delete_user("alice").await.unwrap();
    assert!(store.user("alice").await.unwrap().is_none());
    assert!(sessions.find(&token, NOW).await.unwrap().is_none());
    assert_eq!(
        store.groups().await.unwrap(),
        vec![("staff".to_string(), vec![])]
    );
    assert!(matches!(
        store.delete_user("alice").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn groups_and_memberships(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let accounts = accounts(&store);
    accounts
        .create(new_user("alice"), "password-a".into(), NOW)
        .await
        .unwrap();
    accounts
        .create(new_user("bob"), "password-b".into(), NOW)
        .await
        .unwrap();
    store.create_group("staff", NOW).await.unwrap();
    store.create_group("admins", NOW).await.unwrap();
    assert!(matches!(
        store.create_group("staff", NOW).await,
        Err(StoreError::Conflict(_))
    ));
    store.add_member("staff", "alice").await.unwrap();
    store.add_member("staff", "bob").await.unwrap();
    store.add_member("admins", "alice").await.unwrap();
    assert!(matches!(
        store.add_member("staff", "alice").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.add_member("nope", "alice").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.add_member("staff", "nobody").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.groups_of("alice").await.unwrap(), ["admins", "staff"]);
    assert_eq!(
        store.groups().await.unwrap(),
        vec![
            ("admins".to_string(), vec!["alice".to_string()]),
            (
                "staff".to_string(),
                vec!["alice".to_string(), "bob".to_string()]
            ),
        ]
    );
    store.remove_member("staff", "bob").await.unwrap();
    assert!(matches!(
        store.remove_member("staff", "bob").await,
        Err(StoreError::NotFound(_))
    ));
    store.delete_group("admins").await.unwrap();
    assert_eq!(store.groups_of("alice").await.unwrap(), ["staff"]);
    assert!(matches!(
        store.delete_group("admins").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn sessions_find_rotate_expire(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    accounts(&store)
        .create(new_user("alice"), "password-a".into(), NOW)
        .await
        .unwrap();
    let sessions = sessions(&store);
    let client = ClientInfo {
        ip: "192.0.2.1".into(),
        user_agent: "test-agent".into(),
        device_cookie: None,
    };
    let (t1, s) = sessions
        .start(
            "alice",
            Stage::SecondFactorPending,
            false,
            false,
            &client,
            NOW,
        )
        .await
        .unwrap();
    // Only the keyed hash is stored.
    let listed = store.sessions_of("alice", NOW).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_ne!(listed[0].token_hash, t1);
    assert_eq!(listed[0].ip, "192.0.2.1");
    assert_eq!(
        sessions.find(&t1, NOW).await.unwrap().unwrap().stage,
        Stage::SecondFactorPending
    );
    // A pending login lives only `pending_minutes`.
    assert!(sessions.find(&t1, NOW + 11 * 60).await.unwrap().is_none());

    let t2 = sessions
        .advance(&s, &t1, Stage::Authenticated, true, NOW + 1)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(t1, t2);
    assert!(
        sessions.find(&t1, NOW + 1).await.unwrap().is_none(),
        "old token must die"
    );
    let s2 = sessions.find(&t2, NOW + 1).await.unwrap().unwrap();
    assert_eq!(s2.id, s.id);
    assert_eq!(s2.stage, Stage::Authenticated);
    assert!(s2.second_factor && !s.second_factor);
    assert!(sessions.find(&t2, NOW + 11 * 3600).await.unwrap().is_some());
    assert!(sessions.find(&t2, NOW + 13 * 3600).await.unwrap().is_none());
    assert_eq!(
        store.purge_expired_sessions(NOW + 13 * 3600).await.unwrap(),
        1
    );
    assert!(sessions.find("", NOW).await.unwrap().is_none());
    assert!(sessions.find("garbage", NOW).await.unwrap().is_none());
}

async fn concurrent_rotation_has_one_winner(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    accounts(&store)
        .create(new_user("alice"), "password-a".into(), NOW)
        .await
        .unwrap();
    let sessions = sessions(&store);
    let (t, s) = sessions
        .start(
            "alice",
            Stage::SecondFactorPending,
            false,
            false,
            &ClientInfo::default(),
            NOW,
        )
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        sessions.advance(&s, &t, Stage::Authenticated, true, NOW),
        sessions.advance(&s, &t, Stage::Authenticated, true, NOW)
    );
    let winners = [a.unwrap(), b.unwrap()]
        .iter()
        .filter(|r| r.is_some())
        .count();
    assert_eq!(winners, 1);
}

async fn password_change_ends_sessions(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let accounts = accounts(&store);
    accounts
        .create(new_user("alice"), "password-a".into(), NOW)
        .await
        .unwrap();
    let sessions = sessions(&store);
    let (t, _) = sessions
        .start(
            "alice",
            Stage::Authenticated,
            true,
            false,
            &ClientInfo::default(),
            NOW,
        )
        .await
        .unwrap();
    accounts
        .set_password("alice", "password-new".into(), None)
        .await
        .unwrap();
    assert!(sessions.find(&t, NOW).await.unwrap().is_none());
    assert!(accounts.authenticate("alice", "password-a").await.is_err());
    assert!(accounts.authenticate("alice", "password-new").await.is_ok());
    // A refused new password changes nothing.
    assert!(
        accounts
            .set_password("alice", "x".into(), None)
            .await
            .is_err()
    );
    assert!(accounts.authenticate("alice", "password-new").await.is_ok());
}

async fn migrations_are_idempotent(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    store.migrate().await.unwrap();
    assert_eq!(
        store.backend() == twofold::store::Backend::Sqlite,
        backend == Backend::Sqlite
    );
    store.ping().await.unwrap();
}

fn two_factor(store: &Store) -> twofold::providers::TwoFactor {
    twofold::providers::TwoFactor::new(
        store.clone(),
        ServerKey::from_bytes([7; 32]),
        twofold::audit::Audit::new(store.clone(), false),
        &twofold::config::Config::default(),
    )
    .unwrap()
}

fn attempt(now: i64) -> twofold::providers::Attempt<'static> {
    twofold::providers::Attempt {
        uid: "alice",
        session_id: "test-session",
        now,
        ip: "192.0.2.1",
        user_agent: "test",
        app: "",
    }
}

fn from(ip: &str) -> ClientInfo {
    ClientInfo {
        ip: ip.into(),
        ..ClientInfo::default()
    }
}

/// Enrolls TOTP at time NOW through the domain API; returns the raw secret.
async fn enroll(tf: &twofold::providers::TwoFactor, uid: &str) -> Vec<u8> {
    use twofold::providers::totp::otp;
    let e = tf.totp.begin(uid, "session-1", NOW).await.unwrap();
    let secret = otp::from_base32(&e.secret).unwrap();
    let code = otp::code_at(&secret, &otp::TotpParams::default(), NOW as u64);
    tf.totp.confirm(uid, "session-1", &code, NOW).await.unwrap();
    secret
}

async fn a_factor_locks_after_100_failures(backend: Backend) {
    use twofold::providers::{MAX_FACTOR_FAILURES, ProviderId};
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    accounts(&store)
        .create(new_user("alice"), "password-a".into(), NOW)
        .await
        .unwrap();
    let tf = two_factor(&store);
    let secret = enroll(&tf, "alice").await;
    // 99 failures (counted straight in the store: the throttle would make this slow).
    for _ in 0..MAX_FACTOR_FAILURES - 1 {
        assert!(
            store
                .provider_attempt("totp", "alice", MAX_FACTOR_FAILURES)
                .await
                .unwrap()
        );
    }
    assert!(
        tf.status("alice")
            .await
            .unwrap()
            .usable()
            .contains(&ProviderId::Totp)
    );
    // The 100th, through the real check, from a fresh IP.
    let err = tf
        .verify_challenge(
            &attempt(NOW + 30),
            ProviderId::Totp,
            "000000",
            &from("192.0.2.9"),
        )
        .await;
    assert!(matches!(err, Err(AppError::InvalidCode)), "{err:?}");
    let status = tf.status("alice").await.unwrap();
    assert!(status.providers[0].locked);
    assert!(!status.usable().contains(&ProviderId::Totp));
    // Locked: even the right code is refused, and the login is still not single-factor.
    let code = twofold::providers::totp::otp::code_at(
        &secret,
        &twofold::providers::totp::otp::TotpParams::default(),
        (NOW + 60) as u64,
    );
    let err = tf
        .verify_challenge(
            &attempt(NOW + 60),
            ProviderId::Totp,
            &code,
            &from("192.0.2.10"),
        )
        .await;
    assert!(matches!(err, Err(AppError::FactorLocked)), "{err:?}");
    assert_eq!(status.need(), twofold::login::SecondFactorNeed::Challenge);
    // An admin re-enabling the factor resets the count.
    tf.admin_enable("alice", "totp").await.unwrap();
    assert!(
        tf.status("alice")
            .await
            .unwrap()
            .usable()
            .contains(&ProviderId::Totp)
    );
}

async fn concurrent_backup_code_use_has_one_winner(backend: Backend) {
    use twofold::providers::Provider;
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    accounts(&store)
        .create(new_user("alice"), "password-a".into(), NOW)
        .await
        .unwrap();
    let tf = two_factor(&store);
    enroll(&tf, "alice").await;
    let codes = tf.backup_codes.generate("alice", NOW).await.unwrap();
    let (a, b) = tokio::join!(
        tf.backup_codes.verify("alice", &codes[3], NOW),
        tf.backup_codes.verify("alice", &codes[3], NOW)
    );
    assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|x| **x).count(), 1);
    assert_eq!(tf.backup_codes.remaining("alice").await.unwrap(), 9);
}

/// The database's one statement takes and refuses exactly as `Limits::take` says, and
/// the wait Rust computes from the stored row is exact: refused one second before it ends,
/// taken when it ends.
async fn throttle_in_sql_matches_limits_take(backend: Backend) {
    use twofold::throttle::{ACCOUNT, ADDRESS, CLIENT, FLOW_STARTS, SIGN_IN_STARTS};
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    for limits in [ACCOUNT, CLIENT, ADDRESS, FLOW_STARTS, SIGN_IN_STARTS] {
        let key = format!("k:{}:{}", limits.burst, limits.interval_secs);
        let take = |now| store.throttle_take(&key, now, limits.burst, limits.interval_secs);
        // Bursts of attempts at irregular times, some past a full bucket.
        let (mut now, mut tat) = (NOW, None);
        for step in 0..120i64 {
            now += (step * 7919) % (2 * limits.interval_secs + 1) / 3;
            let expected = limits.take(tat, now);
            match (take(now).await.unwrap(), expected) {
                (Some(t), Ok(e)) => {
                    assert_eq!(t, e, "{key} step {step}");
                    tat = Some(t);
                }
                (None, Err(wait)) => {
                    let stored = store.throttle_tat(&key).await.unwrap().unwrap();
                    assert_eq!(limits.wait(stored, now), wait, "{key} step {step}");
                    assert_eq!(take(now + wait - 1).await.unwrap(), None, "{key}");
                    now += wait;
                    tat = Some(take(now).await.unwrap().expect("taken when told"));
                }
                (sql, rust) => panic!("{key} step {step}: SQL {sql:?}, Rust {rust:?}"),
            }
        }
        // A reservation given back makes room for exactly one.
        let stored = store.throttle_tat(&key).await.unwrap().unwrap();
        let full = stored - limits.burst * limits.interval_secs;
        assert_eq!(take(full).await.unwrap(), None, "{key} is full");
        store
            .throttle_release(&key, limits.interval_secs)
            .await
            .unwrap();
        assert_eq!(take(full).await.unwrap(), Some(stored), "{key}");
    }
    // The purge forgets empty buckets only, and an empty bucket is a missing row.
    assert_eq!(store.purge_throttle(NOW).await.unwrap(), 0);
    let far = NOW + 10 * 86_400;
    for i in 0..2500 {
        let key = format!("old{i}");
        store.throttle_take(&key, far - 100, 5, 10).await.unwrap();
    }
    store.throttle_take("busy", far, 5, 10).await.unwrap();
    assert_eq!(store.purge_throttle(far).await.unwrap(), 2500 + 5);
    assert_eq!(store.throttle_tat("busy").await.unwrap(), Some(far + 10));
    assert_eq!(store.throttle_tat("old1").await.unwrap(), None);
}

/// Many people behind one address answering at once: every attempt is counted (none is
/// lost or refused for contention), up to the burst, even on a bucket with no row yet.
async fn parallel_attempts_on_one_counter_all_count(backend: Backend) {
    use twofold::throttle::ADDRESS;
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .throttle_take("ip", NOW, ADDRESS.burst, ADDRESS.interval_secs)
                .await
                .unwrap()
        }));
    }
    let mut tats = Vec::new();
    for t in tasks {
        tats.push(t.await.unwrap().expect("in the burst"));
    }
    tats.sort();
    let expected: Vec<i64> = (1..=16).map(|k| NOW + k * ADDRESS.interval_secs).collect();
    assert_eq!(tats, expected);
}

/// Issue 17.10: timestamps are whole seconds and ids random UUIDs, so events of the same
/// second were listed in random order. They now come back in the order they were written
/// (newest first), for the whole trail and for one user's.
async fn defect_17_10_the_audit_trail_keeps_the_order_of_one_second(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let details: Vec<String> = (0..30).map(|i| format!("step-{i:02}")).collect();
    for d in &details {
        store
            .insert_audit(&twofold::store::AuditRow {
                id: uuid::Uuid::new_v4().to_string(),
                at: NOW,
                event: "login_failed".into(),
                actor: "alice".into(),
                target: "alice".into(),
                ip: String::new(),
                user_agent: String::new(),
                detail: d.clone(),
                repeats: 1,
            })
            .await
            .unwrap();
    }
    let newest_first: Vec<String> = details.iter().rev().cloned().collect();
    for user in [None, Some("alice".to_string())] {
        let rows = store
            .audit(&twofold::store::AuditQuery {
                user: user.clone(),
                since: 0,
                limit: 100,
            })
            .await
            .unwrap();
        let got: Vec<String> = rows.into_iter().map(|r| r.detail).collect();
        assert_eq!(got, newest_first, "{user:?}");
    }
}

async fn defect_17_12_user_names_ignore_case_in_lookup_and_uniqueness(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let accounts = accounts(&store);
    accounts
        .create(new_user("Dave"), "password-d".into(), NOW)
        .await
        .unwrap();
    // `dave` and `DAVE` are the same account: a conflict, and nothing stored.
    for twin in ["dave", "DAVE", "Dave"] {
        let err = accounts
            .create(new_user(twin), "password-x".into(), NOW)
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Conflict(_)), "{twin}: {err:?}");
    }
    assert_eq!(store.count_users().await.unwrap(), 1);
    // Any case signs in, and the account keeps the case it was created with.
    for typed in ["Dave", "dave", "DAVE", "dAvE"] {
        let user = accounts.authenticate(typed, "password-d").await.unwrap();
        assert_eq!(user.uid, "Dave", "{typed}");
        assert_eq!(accounts.get(typed).await.unwrap().uid, "Dave");
    }
    // Group membership and admin changes by any case reach the stored uid.
    store.create_group("staff", NOW).await.unwrap();
    store.add_member("staff", "DAVE").await.unwrap();
    assert_eq!(store.groups_of("Dave").await.unwrap(), vec!["staff"]);
    store.remove_member("staff", "dave").await.unwrap();
    assert!(store.groups_of("Dave").await.unwrap().is_empty());
    accounts.set_enabled("dave", false).await.unwrap();
    assert!(!accounts.get("Dave").await.unwrap().enabled);
    accounts.set_enabled("DAVE", true).await.unwrap();
    accounts
        .set_password("dAVE", "password-new".into(), None)
        .await
        .unwrap();
    assert!(accounts.authenticate("dave", "password-new").await.is_ok());
    // Two creations of one name in different cases at once: exactly one wins.
    let (a, b) = tokio::join!(
        accounts.create(new_user("Erin"), "password-e".into(), NOW),
        accounts.create(new_user("erin"), "password-e".into(), NOW),
    );
    assert!(a.is_ok() != b.is_ok(), "{a:?} {b:?}");
    assert_eq!(store.count_users().await.unwrap(), 2);
    assert!(store.case_twins().await.unwrap().is_empty());
}

/// A database migrated up to 0011 (before uids ignored case), as an older version left it.
async fn store_before_0012(db: &TestDb) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let dir = match db.url.starts_with("sqlite") {
        true => "migrations/sqlite",
        false => "migrations/postgres",
    };
    let mut migrator = sqlx::migrate::Migrator::new(std::path::Path::new(dir))
        .await
        .unwrap();
    migrator.migrations = std::borrow::Cow::Owned(
        migrator
            .migrations
            .iter()
            .filter(|m| m.version < 12)
            .cloned()
            .collect(),
    );
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    migrator.run(&pool).await.unwrap();
    pool
}

async fn defect_17_12_older_case_twins_survive_the_migration_and_sign_in_by_exact_uid(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let old = store_before_0012(&db).await;
    // An older version let `Dave` and `dave` both exist (and `Zoe` alone).
    let hasher = PasswordHasher::new(&PasswordConfig {
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        argon2_parallelism: 1,
        ..Default::default()
    })
    .unwrap();
    for (uid, password) in [
        ("Dave", "password-1"),
        ("dave", "password-2"),
        ("Zoe", "password-z"),
    ] {
        let hash = hasher.hash(password.to_string()).await.unwrap();
        sqlx::query(
            "INSERT INTO users (uid, display_name, email, password_hash, enabled, is_admin, created_at)
             VALUES ($1, $1, '', $2, 1, 0, 0)",
        )
        .bind(uid)
        .bind(hash)
        .execute(&old)
        .await
        .unwrap();
    }
    old.close().await;
    // The migration keeps both accounts (nothing merged, nothing deleted) and names them.
    let store = db.store().await;
    assert_eq!(store.count_users().await.unwrap(), 3);
    assert_eq!(store.case_twins().await.unwrap(), vec!["Dave", "dave"]);
    let accounts = accounts(&store);
    // Each twin signs in by its exact uid; a case that could be either is nobody.
    assert_eq!(
        accounts
            .authenticate("Dave", "password-1")
            .await
            .unwrap()
            .uid,
        "Dave"
    );
    assert_eq!(
        accounts
            .authenticate("dave", "password-2")
            .await
            .unwrap()
            .uid,
        "dave"
    );
    for typed in ["DAVE", "dAve"] {
        for password in ["password-1", "password-2"] {
            let err = accounts.authenticate(typed, password).await.unwrap_err();
            assert!(matches!(err, AppError::InvalidCredentials), "{typed}");
        }
    }
    // Others ignore case as usual, and a new twin of either cannot be made.
    assert_eq!(
        accounts
            .authenticate("ZOE", "password-z")
            .await
            .unwrap()
            .uid,
        "Zoe"
    );
    let err = accounts
        .create(new_user("DAVE"), "password-3".into(), NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
    // Once the admin deletes one, the other answers to any case again.
    store.delete_user("dave").await.unwrap();
    assert!(store.case_twins().await.unwrap().is_empty());
    assert_eq!(
        accounts
            .authenticate("DAVE", "password-1")
            .await
            .unwrap()
            .uid,
        "Dave"
    );
}
