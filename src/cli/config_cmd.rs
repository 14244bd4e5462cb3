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

pub fn run(cmd: ConfigCommand, global: Option<&Path>) -> anyhow::Result<()> {
    match cmd {
        ConfigCommand::Check { file } => {
            let path = file.as_deref().or(global);
            let config = super::load_config(path)?;
            match path {
                Some(p) => println!("{}: configuration is valid", p.display()),
                None => println!("configuration is valid (defaults and environment)"),
            }
            println!("database: {}", redact_url(&config.database_url()));
            println!("listen: {}", config.server.listen);
            Ok(())
        }
        ConfigCommand::Show => {
            let config = super::load_config(global)?;
            print!("{}", toml::to_string(&config)?);
            Ok(())
        }
    }
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
