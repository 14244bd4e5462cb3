//! `twofold twofactorauth …` (mirrors Nextcloud's `occ twofactorauth:*`) and
//! `twofold provider …` (system-wide provider switches).

use anyhow::bail;
use clap::{Args, Subcommand};

use crate::accounts::{GroupName, Uid};
use crate::audit::Actor;
use crate::clock::now;
use crate::config::Config;
use crate::crypto::ServerKey;
use crate::enforcement::Enforcement;
use crate::providers::{ProviderId, SecondFactorNeed};
use crate::state::AppState;

#[derive(Subcommand)]
pub enum TwoFactorCommand {
    /// Show which two-factor providers are active for a user.
    State { uid: Uid },
    /// Enable a provider for a user (only where the user has set it up).
    Enable { uid: Uid, provider: String },
    /// Disable a provider for a user (for example after a lost phone).
    Disable { uid: Uid, provider: String },
    /// Irreversibly remove every user's association with a provider.
    Cleanup {
        provider: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Show, or set, who must use two-factor authentication.
    Enforce(EnforceArgs),
}

#[derive(Args)]
pub struct EnforceArgs {
    /// Enforce two-factor authentication.
    #[arg(long, conflicts_with = "off")]
    on: bool,
    /// Stop enforcing it.
    #[arg(long)]
    off: bool,
    /// Enforce only for members of this group (repeatable).
    #[arg(long = "group", value_name = "GROUP")]
    groups: Vec<GroupName>,
    /// Do not enforce for members of this group (repeatable).
    #[arg(long = "exclude", value_name = "GROUP")]
    excluded: Vec<GroupName>,
}

#[derive(Subcommand)]
pub enum ProviderCommand {
    /// List providers and whether each is enabled system-wide.
    List,
    /// Enable a provider for everyone.
    Enable { provider: String },
    /// Disable a provider for everyone (users who rely on it are told at login).
    Disable { provider: String },
}

/// The full application state: the CLI uses the same services as the server.
async fn open(config: &Config) -> anyhow::Result<AppState> {
    let store = super::open_existing_store(config).await?;
    let key = match ServerKey::load(&config.key_file()) {
        Ok(key) => key,
        Err(e) => {
            store.close().await;
            return Err(e);
        }
    };
    AppState::new(config.clone(), store, key)
}

pub async fn run(cmd: TwoFactorCommand, config: &Config) -> anyhow::Result<()> {
    let state = open(config).await?;
    let result = dispatch(cmd, &state).await;
    state.store.close().await;
    result
}

async fn dispatch(cmd: TwoFactorCommand, state: &AppState) -> anyhow::Result<()> {
    let tf = &state.two_factor;
    match cmd {
        TwoFactorCommand::State { uid } => {
            // The uid as stored, whatever case was typed.
            let uid = state.accounts.get(uid.as_ref()).await?.uid;
            let status = tf.status(uid.as_ref()).await?;
            // Say what the next sign-in will ask, which is what an admin wants to know:
            // backup codes alone are not a factor, and the login ignores them.
            match status.need() {
                SecondFactorNeed::Challenge => {
                    println!("Two-factor authentication is enabled for user {uid}")
                }
                SecondFactorNeed::Setup => println!(
                    "Two-factor authentication is not enabled for user {uid}; it is enforced, so the next sign-in asks to set up a factor"
                ),
                SecondFactorNeed::None => println!(
                    "Two-factor authentication is not enabled for user {uid}: the sign-in asks for the password only"
                ),
            }
            println!("Enforced: {}", if status.enforced { "yes" } else { "no" });
            println!("Enabled providers:");
            for p in status.providers.iter().filter(|p| p.active) {
                let mut notes = Vec::new();
                if !p.available {
                    notes.push("not available system-wide");
                }
                if p.locked {
                    notes.push("locked after too many failures");
                }
                if p.provider == ProviderId::BackupCodes.as_str() && !status.has_active_factor() {
                    notes.push("not asked at sign-in while no other factor is active");
                }
                let extra = if notes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", notes.join(", "))
                };
                println!("- {}{}", p.provider, extra);
            }
            if status.is_active(ProviderId::BackupCodes) {
                println!("Backup codes left: {}", status.backup_codes_left);
            }
            let disabled: Vec<&str> = status
                .providers
                .iter()
                .filter(|p| !p.active)
                .map(|p| p.provider.as_str())
                .collect();
            if !disabled.is_empty() {
                println!("Disabled providers: {}", disabled.join(", "));
            }
        }
        TwoFactorCommand::Enable { uid, provider } => {
            // The uid as stored, whatever case was typed.
            let uid = state.accounts.get(uid.as_ref()).await?.uid;
            tf.admin_enable(uid.as_ref(), &provider).await?;
            println!("Two-factor provider {provider} enabled for user {uid}.");
        }
        TwoFactorCommand::Disable { uid, provider } => {
            // The uid as stored, whatever case was typed.
            let uid = state.accounts.get(uid.as_ref()).await?.uid;
            tf.admin_disable(uid.as_ref(), &provider, &Actor::cli(), now())
                .await?;
            println!(
                "Two-factor provider {provider} disabled for user {uid}; their sessions were ended. {}",
                super::applies_note(&state.config)
            );
        }
        TwoFactorCommand::Cleanup { provider, yes } => {
            if provider.trim().is_empty() {
                bail!("name the provider to clean up");
            }
            let n = tf.cleanup_targets(&provider).await?.len();
            if n == 0 {
                println!("No user has provider {provider}: nothing to clean up.");
                return Ok(());
            }
            if !yes
                && !super::prompt::confirm(&format!(
                    "Remove provider {provider} from {n} user(s)? This cannot be undone."
                ))?
            {
                bail!("nothing removed: not confirmed");
            }
            let done = tf
                .cleanup(&provider, |i, total| {
                    eprint!("\rcleaning up {provider}: {i}/{total}");
                })
                .await?;
            eprintln!();
            println!(
                "All user-provider associations for provider {provider} have been removed ({done} user(s))."
            );
            if tf.provider(&provider).is_some_and(|p| p.signs_in()) {
                println!(
                    "Its credentials that sign in without the password (passkeys) were removed too."
                );
            }
        }
        TwoFactorCommand::Enforce(args) => {
            let before: Enforcement = tf.enforcement().await?;
            let lists_given = !args.groups.is_empty() || !args.excluded.is_empty();
            // occ ignores --group and --exclude without --on; taking them silently
            // would look like a change that did not happen, so refuse instead.
            if lists_given && !args.on {
                bail!(
                    "--group and --exclude take effect only with --on (for example `twofactorauth enforce --on --group GROUP`); nothing was changed"
                );
            }
            let mut e = before.clone();
            if args.on {
                // Like occ, --on states the whole policy: the groups given, or everyone.
                e = Enforcement {
                    enforced: true,
                    groups: args.groups.iter().map(|g| g.to_string()).collect(),
                    excluded: args.excluded.iter().map(|g| g.to_string()).collect(),
                };
            } else if args.off {
                e.enforced = false;
            }
            if e != before {
                tf.set_enforcement(&e, &Actor::cli(), now()).await?;
            }
            println!("{}", e.describe());
            if args.on && before.enforced {
                if !before.groups.is_empty() && e.groups.is_empty() {
                    println!(
                        "The previous selection of groups ({}) was replaced: repeat --group to keep one.",
                        before.groups.join(", ")
                    );
                }
                if !before.excluded.is_empty() && e.excluded.is_empty() {
                    println!(
                        "The previous exclusion of groups ({}) was replaced: repeat --exclude to keep one.",
                        before.excluded.join(", ")
                    );
                }
            }
        }
    }
    Ok(())
}

pub async fn run_provider(cmd: ProviderCommand, config: &Config) -> anyhow::Result<()> {
    let state = open(config).await?;
    let tf = &state.two_factor;
    let result: anyhow::Result<()> = async {
        match cmd {
            ProviderCommand::List => {
                for p in tf.registered() {
                    let on = tf.system_enabled(p.id()).await?;
                    let note = if let Some(why) = p.unavailable() {
                        format!(" (unavailable: {why})")
                    } else if p.can_disable_system_wide() {
                        String::new()
                    } else {
                        " (always on)".to_string()
                    };
                    println!(
                        "{:<14} {}{}",
                        p.id().as_str(),
                        if on { "enabled" } else { "disabled" },
                        note
                    );
                }
            }
            ProviderCommand::Enable { provider } => {
                tf.set_system_enabled(&provider, true, &Actor::cli(), now())
                    .await?;
                println!("provider {provider} enabled");
            }
            ProviderCommand::Disable { provider } => {
                tf.set_system_enabled(&provider, false, &Actor::cli(), now())
                    .await?;
                println!("provider {provider} disabled");
            }
        }
        Ok(())
    }
    .await;
    state.store.close().await;
    result
}
