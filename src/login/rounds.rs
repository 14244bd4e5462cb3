//! The login flow with a provider that asks for more than one round: the framework keeps
//! the login at its stage, counts no failure for a right round, and lets the login in
//! only when the provider says it passed.

use std::sync::Arc;

use async_trait::async_trait;

use crate::accounts::NewUser;
use crate::error::AppError;
use crate::providers::{Attempt, Outcome, Provider, ProviderId};
use crate::sessions::{ClientInfo, Stage};
use crate::state::AppState;

/// Passes on "second" only after "first" was answered in the same login attempt (the
/// round is kept as the session's ceremony, as a real provider would keep it).
struct TwoRounds {
    store: crate::store::Store,
}

#[async_trait]
impl Provider for TwoRounds {
    fn id(&self) -> ProviderId {
        ProviderId::Totp
    }
    fn display_name(&self, _lang: &str) -> &'static str {
        "two rounds"
    }
    fn admin_can_disable(&self) -> bool {
        true
    }
    fn can_set_up_at_login(&self) -> bool {
        false
    }
    async fn admin_enable(&self, _uid: &str) -> Result<(), AppError> {
        Ok(())
    }
    async fn remove(&self, _uid: &str) -> Result<(), AppError> {
        Ok(())
    }
    async fn verify(&self, _uid: &str, _response: &str, _now: i64) -> Result<bool, AppError> {
        Ok(false)
    }
    async fn verify_in(&self, a: &Attempt<'_>, response: &str) -> Result<Outcome, AppError> {
        let seen = self
            .store
            .take_ceremony(a.session_id, "totp", "round", a.now)
            .await?;
        Ok(match (response, seen.as_deref()) {
            ("first", _) => {
                self.store
                    .put_ceremony(a.session_id, "totp", "round", "first", a.now + 60)
                    .await?;
                Outcome::AnotherRound
            }
            ("second", Some("first")) => Outcome::Passed,
            _ => Outcome::Failed,
        })
    }
}

async fn state() -> (AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
    let store = crate::store::Store::connect(&url, 2).await.unwrap();
    store.migrate().await.unwrap();
    let mut config = crate::config::Config::default();
    // Cheap hashing: the password is not what this test is about.
    config.password.argon2_memory_kib = 64;
    config.password.argon2_iterations = 1;
    let mut state = AppState::new(config, store, crate::crypto::ServerKey::generate()).unwrap();
    let fake = Arc::new(TwoRounds {
        store: state.store.clone(),
    });
    state.two_factor.replace_provider(fake);
    (state, dir)
}

#[tokio::test]
async fn another_round_keeps_the_login_waiting_and_counts_no_failure() {
    let (state, _dir) = state().await;
    let now = crate::clock::now();
    let user = NewUser {
        uid: "alice".parse().unwrap(),
        display_name: None,
        email: None,
        is_admin: false,
    };
    state
        .accounts
        .create(user, "a long password".into(), now)
        .await
        .unwrap();
    state
        .store
        .set_provider_state("totp", "alice", true)
        .await
        .unwrap();
    let client = ClientInfo {
        ip: "192.0.2.1".into(),
        user_agent: "test".into(),
        device_cookie: None,
    };
    let start = |client: &ClientInfo| {
        let sessions = state.sessions.clone();
        let client = client.clone();
        async move {
            sessions
                .start(
                    "alice",
                    Stage::SecondFactorPending,
                    false,
                    false,
                    &client,
                    now,
                )
                .await
                .unwrap()
        }
    };
    let failures = || async { state.store.provider_states("alice").await.unwrap()[0].failures };

    // The second round without the first: a failure like a wrong code.
    let (token, session) = start(&client).await;
    let skipped = super::challenge_step(
        &state,
        &session,
        &token,
        ProviderId::Totp,
        "second",
        &client,
        "",
    )
    .await;
    assert!(matches!(skipped, Err(AppError::InvalidCode)), "{skipped:?}");
    assert_eq!(failures().await, 1);

    // A right first round: still waiting, same session and token, nothing counted.
    let (token, session) = start(&client).await;
    let (after, waiting) = super::challenge_step(
        &state,
        &session,
        &token,
        ProviderId::Totp,
        "first",
        &client,
        "",
    )
    .await
    .unwrap();
    assert_eq!(waiting.stage, Stage::SecondFactorPending);
    assert!(!waiting.second_factor);
    assert_eq!(after, token, "no new token: the login has not moved");
    assert_eq!(failures().await, 1, "a right round is no failure");
    // The round proves nothing by itself: the session does not let anyone in.
    let found = state.sessions.find(&token, now).await.unwrap().unwrap();
    assert_eq!(found.stage, Stage::SecondFactorPending);

    // The second round passes the challenge.
    let (_, done) = super::challenge_step(
        &state,
        &waiting,
        &after,
        ProviderId::Totp,
        "second",
        &client,
        "",
    )
    .await
    .unwrap();
    assert_eq!(done.stage, Stage::Authenticated);
    assert!(done.second_factor);
    assert_eq!(failures().await, 0, "a pass resets the count");
}
