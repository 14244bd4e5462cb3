//! The password step of the login flow, shared by the API and the login page.

use crate::app::{AppState, now};
use crate::error::AppError;
use crate::sessions::{ClientInfo, Session};

use super::{SecondFactorNeed, after_password};

/// Checks the password and starts a session at the stage the second-factor layer asks
/// for. Returns the new session token.
pub async fn password_step(
    state: &AppState,
    uid: &str,
    password: &str,
    remember: bool,
    client: &ClientInfo,
) -> Result<(String, Session), AppError> {
    let user = state.accounts.authenticate(uid, password).await?;
    // Second factors arrive with the provider framework; until then nobody needs one.
    let need = SecondFactorNeed::None;
    let stage = after_password(need);
    let (token, session) = state
        .sessions
        .start(&user.uid, stage, remember, client, now())
        .await?;
    tracing::info!(uid = %user.uid, stage = stage.as_str(), "password accepted");
    Ok((token, session))
}
