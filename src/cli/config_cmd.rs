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

/// A database URL with every credential it can carry hidden: the password of the user
/// part, and query parameters that hold one (`password`, `sslpassword`, …). A URL that
/// does not parse is not shown at all (it may hold a password where we cannot find it).
pub(crate) fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "(not shown: the URL does not parse)".to_string();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    let secret = |k: &str| {
        let k = k.to_ascii_lowercase();
        k.contains("password") || k.contains("secret") || k.contains("token") || k == "pass"
    };
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret(&k) {
                    "***".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
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

    #[test]
    fn defect_24_6_every_credential_of_a_database_url_is_hidden() {
        let shown = super::redact_url(
            "postgres://u:pw@db.example.org:5433/tf?password=qsecret&sslmode=require&sslpassword=k%40ey",
        );
        assert!(
            !shown.contains("qsecret") && !shown.contains("pw@") && !shown.contains("k%40ey"),
            "{shown}"
        );
        assert!(
            shown.contains("db.example.org:5433") && shown.contains("sslmode=require"),
            "{shown}"
        );
        // An @ in the query does not move the host.
        let shown = super::redact_url("postgres://u@db.example.org/tf?application_name=a@b");
        assert!(
            shown.starts_with("postgres://u@db.example.org/tf"),
            "{shown}"
        );
    }
}
