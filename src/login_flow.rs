//! The client login flow (like Nextcloud's Login Flow v2): a desktop or mobile client
//! starts a flow and opens the returned URL in a browser; the user logs in there (with
//! 2FA) and grants access; the client's poll then returns a new app password, once.
//! Both tokens are stored as keyed hashes. The app password is made only when the client
//! picks it up (the row is deleted then), so a flow granted but never polled leaves no
//! password behind, and a password change that ends pending flows ends them for good.

use serde::Serialize;

use crate::crypto::{Purpose, random_token};
use crate::error::AppError;
use crate::sessions::ClientInfo;
use crate::state::AppState;
use crate::store::LoginFlowRow;

/// How long a flow may take from start to poll.
pub const FLOW_LIFETIME_SECS: i64 = 20 * 60;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Started {
    /// Open this in a browser.
    pub login: String,
    pub poll: Poll,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Poll {
    pub token: String,
    pub endpoint: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Credentials {
    pub server: String,
    pub login_name: String,
    pub app_password: String,
}

fn hash(state: &AppState, token: &str) -> String {
    state.key.hash_token(Purpose::LoginFlowToken, token)
}

pub async fn start(
    state: &AppState,
    client_name: &str,
    client: &ClientInfo,
    now: i64,
) -> Result<Started, AppError> {
    // Each start stores a row: a client may not make them endlessly.
    state
        .throttle
        .count_use("flow", client, crate::throttle::FLOW_STARTS, now)
        .await?;
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
        factors: 1,
        client_ip: client.ip.clone(),
        client_agent: client.user_agent.chars().take(200).collect(),
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

/// The user grants access from a session; the app password made at the poll carries what
/// that session proved.
pub async fn grant(
    state: &AppState,
    flow: &LoginFlowRow,
    uid: &str,
    second_factor: bool,
    now: i64,
) -> Result<(), AppError> {
    let factors = if second_factor { 2 } else { 1 };
    if !state
        .store
        .grant_login_flow(&flow.id, uid, factors, now)
        .await?
    {
        return Err(AppError::NotFound("login flow".into()));
    }
    Ok(())
}

/// The client's poll: `None` until granted; a new app password exactly once after that.
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
    // Disabled or deleted since the grant: nothing to hand out.
    match state.accounts.get(&row.uid).await {
        Ok(user) if user.enabled => {}
        Ok(_) | Err(AppError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    }
    let (password, _) = state
        .app_passwords
        .create(&row.uid, &row.client_name, row.factors >= 2, now)
        .await?;
    Ok(Some(Credentials {
        server: state.config.server.public_url.clone(),
        login_name: row.uid,
        app_password: password,
    }))
}
