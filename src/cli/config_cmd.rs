//! `twofold config check`: validates a configuration and says what is wrong.

use std::path::Path;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration file (and the TWOFOLD_* environment) without starting.
    Check {
        /// The file to check; defaults to --config.
        file: Option<std::path::PathBuf>,
    },
    /// Print the effective configuration as TOML (secrets included: do not paste it).
    Show,
}

pub async fn run(cmd: ConfigCommand, global: Option<&Path>) -> anyhow::Result<()> {
    match cmd {
        ConfigCommand::Check { file } => {
            let path = file.as_deref().or(global);
            let config = super::load_config(path)?;
            match path {
                Some(p) => println!("{}: configuration is valid", p.display()),
                None => println!("configuration is valid (defaults and environment)"),
            }
            println!("listen: {}", config.server.listen);
            println!("public_url: {}", config.server.public_url);
            match crate::providers::webauthn::relying_party_of(&config) {
                Ok((rp_id, origin)) => println!("webauthn: relying party {rp_id}, origin {origin}"),
                Err(_) => println!("webauthn: unavailable (see the warning)"),
            }
            for warning in super::config_warnings(&config) {
                println!("warning: {warning}");
            }
            let url = config.database_url();
            println!("database: {}", redact_url(&url));
            check_database(&config)
                .await
                .map_err(|e| anyhow::anyhow!("database {}: {e:#}", redact_url(&url)))
        }
        ConfigCommand::Show => {
            let config = super::load_config(global)?;
            print!("{}", toml::to_string(&config)?);
            Ok(())
        }
    }
}

/// Connects to the database (creating nothing) and says what is there.
async fn check_database(config: &crate::config::Config) -> anyhow::Result<()> {
    let url = config.database_url();
    if let Some(file) = crate::store::sqlite_file(&url)
        && !file.is_file()
    {
        println!(
            "database: none yet at {} (`twofold serve` or `twofold migrate` creates it)",
            file.display()
        );
        return Ok(());
    }
    let connect = async {
        crate::store::Store::probe(&url).await?;
        crate::store::Store::connect(&url, 1).await
    };
    let store = tokio::time::timeout(std::time::Duration::from_secs(10), connect)
        .await
        .map_err(|_| anyhow::anyhow!("cannot connect to the database: no answer in 10 s"))??;
    let initialised = store.is_initialised().await;
    store.close().await;
    if initialised? {
        println!("database: connected, a twofold database");
    } else {
        println!("database: connected, empty (`twofold serve` or `twofold migrate` sets it up)");
    }
    Ok(())
}

/// Hides a password in a database URL.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_password() {
        assert_eq!(
            super::redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
