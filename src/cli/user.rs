//! `twofold user …`: add, list, show, delete, passwd, enable, disable.

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::accounts::{Accounts, GroupName, NewUser, PasswordHasher, Uid};
use crate::clock::now;
use crate::config::Config;
use crate::store::Store;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is asked for, or read from stdin.
    Add {
        uid: Uid,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Give the user the admin role.
        #[arg(long)]
        admin: bool,
        /// Add the user to this existing group (repeatable).
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<GroupName>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users by uid, 500 at a time by default (like `occ user:list`).
    List {
        /// Only users whose uid or display name contains this (any case).
        #[arg(long, default_value = "")]
        search: String,
        /// How many to list.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(i64).range(1..=1_000_000))]
        limit: i64,
        /// How many to skip first.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..))]
        offset: i64,
    },
    /// Show one user.
    Show { uid: Uid },
    /// Delete a user, their sessions and memberships (asks unless --yes).
    Delete {
        uid: Uid,
        #[arg(long)]
        yes: bool,
    },
    /// Set a user's password; ends all their sessions, app passwords and client logins.
    Passwd {
        uid: Uid,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Allow a user to log in again.
    Enable { uid: Uid },
    /// Stop a user from logging in; ends all their sessions.
    Disable { uid: Uid },
}

pub async fn run(cmd: UserCommand, config: &Config) -> anyhow::Result<()> {
    // Only adding a user may start a new database (with its key, before the first user).
    let store = if matches!(cmd, UserCommand::Add { .. }) {
        let store = super::open_store(config).await?;
        if let Err(e) = super::server_key(config, &store).await {
            store.close().await;
            return Err(e);
        }
        store
    } else {
        super::open_existing_store(config).await?
    };
    let hasher = PasswordHasher::new(&config.password)?;
    let accounts = Accounts::new(store.clone(), hasher, crate::state::password_policy(config))
        .with_breach_check(crate::breach::from_config(&config.password)?);
    let audit = crate::audit::Audit::new(store.clone(), config.log.audit_stdout);
    let note = super::applies_note(config);
    let result = dispatch(cmd, &store, &accounts, &audit, &note).await;
    store.close().await;
    result
}

async fn dispatch(
    cmd: UserCommand,
    store: &Store,
    accounts: &Accounts,
    audit: &crate::audit::Audit,
    // When a running server applies a change that ends someone's access.
    note: &str,
) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            uid,
            display_name,
            email,
            admin,
            groups,
            password_stdin,
        } => {
            // Check everything that can be checked before asking for a password.
            if store.user(uid.as_ref()).await?.is_some() {
                bail!("user {uid} already exists");
            }
            for g in &groups {
                if !store.group_exists(g.as_ref()).await? {
                    bail!("group {g} does not exist (create it with: twofold group add {g})");
                }
            }
            let password = super::prompt::password(password_stdin)?;
            let user = accounts
                .create(
                    NewUser {
                        uid,
                        display_name,
                        email,
                        is_admin: admin,
                    },
                    password,
                    now(),
                )
                .await?;
            for g in &groups {
                store.add_member(g.as_ref(), &user.uid).await?;
            }
            println!(
                "created user {}{}",
                user.uid,
                if admin { " (admin)" } else { "" }
            );
        }
        UserCommand::List {
            search,
            limit,
            offset,
        } => {
            let (rows, total) = store.users_page(search.trim(), offset, limit).await?;
            let users: Vec<crate::accounts::User> = rows.into_iter().map(Into::into).collect();
            println!(
                "{:<24} {:<24} {:<28} {:<8} {:<5}",
                "UID", "NAME", "EMAIL", "ENABLED", "ADMIN"
            );
            for u in &users {
                println!(
                    "{:<24} {:<24} {:<28} {:<8} {:<5}",
                    u.uid,
                    u.display_name,
                    u.email,
                    yes_no(u.enabled),
                    yes_no(u.is_admin)
                );
            }
            if total as usize > users.len() {
                println!(
                    "{} of {total} user(s) (from {}; --offset and --limit for more)",
                    users.len(),
                    offset + 1
                );
            } else {
                println!("{} user(s)", users.len());
            }
            // How many, never who or which password: the mark is set at sign-in.
            let weak = store.count_weak_passwords().await?;
            if weak > 0 {
                println!(
                    "{weak} account(s) signed in last with a password the policy now refuses; \
                     they are asked to change it"
                );
            }
        }
        UserCommand::Show { uid } => {
            let user = accounts.get(uid.as_ref()).await?;
            let groups = store.groups_of(&user.uid).await?;
            let sessions = store.sessions_of(&user.uid, now()).await?;
            println!("uid:          {}", user.uid);
            println!("display name: {}", user.display_name);
            println!("email:        {}", user.email);
            println!("enabled:      {}", yes_no(user.enabled));
            println!("admin:        {}", yes_no(user.is_admin));
            println!("groups:       {}", groups.join(", "));
            println!("sessions:     {}", sessions.len());
        }
        UserCommand::Delete { uid, yes } => {
            // The uid as stored, whatever case was typed.
            let uid = accounts.get(uid.as_ref()).await?.uid;
            if !yes && !super::prompt::confirm(&format!("Delete user {uid} for good?"))? {
                bail!("not deleted: not confirmed");
            }
            store.delete_user(uid.as_ref()).await?;
            println!("deleted user {uid}. {}", note);
        }
        UserCommand::Passwd {
            uid,
            password_stdin,
        } => {
            // The uid as stored, whatever case was typed.
            let uid = accounts.get(uid.as_ref()).await?.uid;
            let password = super::prompt::password(password_stdin)?;
            let revoked = accounts
                .set_password(uid.as_ref(), password, None)
                .await
                .context("password not changed")?;
            audit
                .record(
                    crate::audit::Event::PasswordChanged,
                    &crate::audit::Actor::cli(),
                    uid.as_ref(),
                    &format!(
                        "sessions={} app_passwords={} client_logins={}",
                        revoked.sessions, revoked.app_passwords, revoked.client_logins
                    ),
                    now(),
                )
                .await?;
            println!(
                "password of {uid} changed; ended {} sessions, revoked {} app passwords and {} pending client logins. {}",
                revoked.sessions, revoked.app_passwords, revoked.client_logins, note
            );
        }
        UserCommand::Enable { uid } => {
            accounts.set_enabled(uid.as_ref(), true).await?;
            println!("user {uid} enabled");
        }
        UserCommand::Disable { uid } => {
            accounts.set_enabled(uid.as_ref(), false).await?;
            println!("user {uid} disabled; their sessions were ended. {}", note);
        }
    }
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
