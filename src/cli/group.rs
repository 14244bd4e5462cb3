//! `twofold group …`: add, remove, list, and membership.

use clap::Subcommand;

use crate::accounts::{GroupName, Uid};
use crate::clock::now;
use crate::config::Config;

#[derive(Subcommand)]
pub enum GroupCommand {
    /// Create a group.
    Add { group: GroupName },
    /// Delete a group (its members stay, without it).
    Remove { group: GroupName },
    /// List groups with their members.
    List,
    /// Add a user to a group.
    AddMember { group: GroupName, uid: Uid },
    /// Take a user out of a group.
    RemoveMember { group: GroupName, uid: Uid },
}

pub async fn run(cmd: GroupCommand, config: &Config) -> anyhow::Result<()> {
    let store = super::open_existing_store(config).await?;
    let result: anyhow::Result<()> = async {
        match cmd {
            GroupCommand::Add { group } => {
                store.create_group(group.as_ref(), now()).await?;
                println!("created group {group}");
            }
            GroupCommand::Remove { group } => {
                store.delete_group(group.as_ref()).await?;
                println!("removed group {group}");
            }
            GroupCommand::List => {
                let groups = store.groups().await?;
                for (gid, members) in &groups {
                    println!("{gid}: {}", members.join(", "));
                }
                println!("{} group(s)", groups.len());
            }
            GroupCommand::AddMember { group, uid } => {
                store.add_member(group.as_ref(), uid.as_ref()).await?;
                println!("added {uid} to {group}");
            }
            GroupCommand::RemoveMember { group, uid } => {
                store.remove_member(group.as_ref(), uid.as_ref()).await?;
                println!("removed {uid} from {group}");
            }
        }
        Ok(())
    }
    .await;
    store.close().await;
    result
}
