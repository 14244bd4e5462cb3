//! The client login flow (like Nextcloud's Login Flow v2): a desktop or mobile client
//! starts a flow and opens the returned URL in a browser; the user logs in there (with
//! 2FA) and grants access; the client's poll then returns a new app password, once.
//! Both tokens are stored as keyed hashes; the app password waits sealed (AEAD) until
//! it is picked up, and the row is deleted when it is.

use serde::Serialize;

use crate::app::AppState;
use crate::crypto::{Purpose, random_token};
use crate::error::AppError;
use crate::store::LoginFlowRow;

/// How long a flow may take from start to poll.
pub const FLOW_LIFETIME_SECS: i64 = 20 * 60;

#[derive(Debug, Serialize)]
pub struct Started {
    /// Open this in a browser.
    pub login: String,
    pub poll: Poll,
}

#[derive(Debug, Serialize)]
pub struct Poll {
    pub token: String,
    pub endpoint: String,
}

#[derive(Debug, Serialize)]
pub struct Credentials {
    pub server: String,
    pub login_name: String,
    pub app_password: String,
}

fn hash(state: &AppState, token: &str) -> String {
    state.key.hash_token(Purpose::LoginFlowToken, token)
}

pub async fn start(state: &AppState, client_name: &str, now: i64) -> Result<Started, AppError> {
    let login_token = random_token();
    let poll_token = random_token();
    let name: String = client_name.trim().chars().take(100).collect();
    let row = LoginFlowRow {
        id: uuid::Uuid::new_v4().to_string(),
        login_token_hash: hash(state, &login_token),
        poll_token_hash: hash(state, &poll_token),
        client_name: if name.is_empty() {
            "client".into()
        } else {
            name
        },
        created_at: now,
        expires_at: now + FLOW_LIFETIME_SECS,
        uid: String::new(),
        sealed_password: String::new(),
    };
    state.store.insert_login_flow(&row).await?;
    let base = state.config.server.public_url.trim_end_matches('/');
    Ok(Started {
        login: format!("{base}/login/flow/{login_token}"),
        poll: Poll {
            token: poll_token,
            endpoint: format!("{base}/api/v1/login/flow/poll"),
        },
    })
}

/// The flow behind a login URL, while it is open.
pub async fn open(
    state: &AppState,
    login_token: &str,
    now: i64,
) -> Result<Option<LoginFlowRow>, AppError> {
    if login_token.len() > 64 {
        return Ok(None);
    }
    Ok(state
        .store
        .open_login_flow(&hash(state, login_token), now)
        .await?)
}

/// The user grants access: a new app password, named after the client, waits sealed.
pub async fn grant(
    state: &AppState,
    flow: &LoginFlowRow,
    uid: &str,
    now: i64,
) -> Result<(), AppError> {
    let (password, app) = state
        .app_passwords
        .create(uid, &flow.client_name, now)
        .await?;
    let sealed = state
        .key
        .seal(
            Purpose::LoginFlowToken,
            flow.id.as_bytes(),
            password.as_bytes(),
        )
        .map_err(AppError::Internal)?;
    if !state
        .store
        .grant_login_flow(&flow.id, uid, &sealed, now)
        .await?
    {
        // Granted twice, or expired meanwhile: the password made here must not live on.
        state.app_passwords.revoke(uid, &app.id).await?;
        return Err(AppError::NotFound("login flow".into()));
    }
    Ok(())
}

/// The client's poll: `None` until granted; the credentials exactly once after that.
pub async fn poll(
    state: &AppState,
    poll_token: &str,
    now: i64,
) -> Result<Option<Credentials>, AppError> {
    if poll_token.len() > 64 {
        return Ok(None);
    }
    let Some(row) = state
        .store
        .take_granted_flow(&hash(state, poll_token), now)
        .await?
    else {
        return Ok(None);
    };
    let password = state
        .key
        .open(
            Purpose::LoginFlowToken,
            row.id.as_bytes(),
            &row.sealed_password,
        )
        .map_err(AppError::Internal)?;
    Ok(Some(Credentials {
        server: state.config.server.public_url.clone(),
        login_name: row.uid,
        app_password: String::from_utf8(password).map_err(|e| AppError::Internal(e.into()))?,
    }))
}
