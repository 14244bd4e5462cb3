use super::*;
use std::io::Write;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

#[test]
fn no_file_no_env_gives_defaults() {
    let (config, report) = Config::load(None, env(&[]), &[]).unwrap();
    assert_eq!(config, Config::default());
    assert!(report.unknown_env_vars.is_empty());
    assert!(config.database_url().starts_with("sqlite://"));
    assert!(!config.secure_cookies());
}

#[test]
fn file_then_env_override() {
    let f = file("[server]\nlisten = \"127.0.0.1:9000\"\n[session]\nremember_days = 7\n");
    let (config, _) = Config::load(
        Some(f.path()),
        env(&[("TWOFOLD_SESSION_REMEMBER_DAYS", "3")]),
        &[],
    )
    .unwrap();
    assert_eq!(config.server.listen, "127.0.0.1:9000");
    assert_eq!(config.session.remember_days, 3);
}

#[test]
fn file_variant_reads_secret_from_file() {
    let secret = file("postgres://u:p@db/twofold\n");
    let path = secret.path().to_str().unwrap().to_string();
    let (config, _) =
        Config::load(None, env(&[("TWOFOLD_DATABASE_URL_FILE", &path)]), &[]).unwrap();
    assert_eq!(config.database.url, "postgres://u:p@db/twofold");
}

#[test]
fn defect_24_7_a_file_variable_never_echoes_the_file() {
    let secret = file("notanumberSECRET\n");
    let path = secret.path().to_str().unwrap().to_string();
    let err = Config::load(
        None,
        env(&[("TWOFOLD_SESSION_REMEMBER_DAYS_FILE", &path)]),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(!err.contains("SECRET"), "{err}");
    assert!(
        err.contains("TWOFOLD_SESSION_REMEMBER_DAYS_FILE") && err.contains(&path),
        "{err}"
    );
}

#[test]
fn unknown_key_in_file_is_an_error_naming_it() {
    let f = file("[server]\nlisen = \"127.0.0.1:9000\"\n");
    let err = Config::load(Some(f.path()), env(&[]), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("lisen"), "{err}");
}

#[test]
fn unknown_section_is_an_error() {
    let f = file("[severs]\nlisten = \"x\"\n");
    assert!(Config::load(Some(f.path()), env(&[]), &[]).is_err());
}

#[test]
fn wrong_type_in_env_is_an_error_naming_the_variable() {
    let err = Config::load(None, env(&[("TWOFOLD_SESSION_REMEMBER_DAYS", "many")]), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("TWOFOLD_SESSION_REMEMBER_DAYS"), "{err}");
}

#[test]
fn unknown_env_var_is_reported_not_fatal() {
    let (_, report) = Config::load(None, env(&[("TWOFOLD_SERVR_LISTEN", "x")]), &[]).unwrap();
    assert_eq!(report.unknown_env_vars, vec!["TWOFOLD_SERVR_LISTEN"]);
}

#[test]
fn invalid_values_are_rejected() {
    for (var, value) in [
        ("TWOFOLD_SERVER_LISTEN", "not an address"),
        ("TWOFOLD_SERVER_PUBLIC_URL", "ftp://x"),
        ("TWOFOLD_DATABASE_URL", "mysql://x"),
        ("TWOFOLD_DATABASE_MAX_CONNECTIONS", "0"),
        ("TWOFOLD_PASSWORD_ARGON2_MEMORY_KIB", "4"),
        ("TWOFOLD_PASSWORD_MIN_SCORE", "5"),
        ("TWOFOLD_PASSWORD_MAX_LENGTH", "32"),
        ("TWOFOLD_PASSWORD_MAX_LENGTH", "100000"),
        ("TWOFOLD_PASSWORD_HIBP_TIMEOUT_MS", "0"),
        ("TWOFOLD_SESSION_LIFETIME_MINUTES", "-1"),
        ("TWOFOLD_LOG_FORMAT", "xml"),
        ("TWOFOLD_FORWARD_AUTH_DEFAULT_POLICY", "maybe"),
        ("TWOFOLD_THROTTLE_IPV6_PREFIX", "31"),
        ("TWOFOLD_THROTTLE_IPV6_PREFIX", "129"),
        ("TWOFOLD_THROTTLE_IPV6_PREFIX", "sixty-four"),
    ] {
        assert!(
            Config::load(None, env(&[(var, value)]), &[]).is_err(),
            "{var}={value} was accepted"
        );
    }
}

#[test]
fn secure_cookies_outside_localhost() {
    let (config, _) = Config::load(
        None,
        env(&[("TWOFOLD_SERVER_PUBLIC_URL", "https://auth.example.org")]),
        &[],
    )
    .unwrap();
    assert!(config.secure_cookies());
}

#[test]
fn forward_auth_rules_from_the_file_and_domains_from_the_env() {
    let f = file(
        "[forward_auth]\ndefault_policy = \"deny\"\n[[forward_auth.rules]]\nhost = \"files.example.org\"\npath = \"/public/\"\npolicy = \"bypass\"\n",
    );
    let (config, _) = Config::load(
        Some(f.path()),
        env(&[(
            "TWOFOLD_FORWARD_AUTH_ALLOWED_DOMAINS",
            "example.org, example.net",
        )]),
        &[],
    )
    .unwrap();
    assert_eq!(config.forward_auth.rules[0].policy, "bypass");
    assert_eq!(
        config.forward_auth.allowed_domains,
        ["example.org", "example.net"]
    );
    let bad = file("[[forward_auth.rules]]\npolicy = \"sometimes\"\n");
    assert!(Config::load(Some(bad.path()), env(&[]), &[]).is_err());
}

#[test]
fn the_example_config_in_the_repo_is_valid() {
    let f = file(include_str!("../../examples/twofold.toml"));
    let (config, _) = Config::load(Some(f.path()), env(&[]), &[]).unwrap();
    assert_eq!(config.forward_auth.rules.len(), 2);
    assert!(config.secure_cookies());
}

#[test]
fn metrics_are_off_unless_asked_for() {
    let (config, _) = Config::load(None, env(&[]), &[]).unwrap();
    assert!(!config.metrics.collected());
    assert!(!config.metrics.on_main_listener());

    let (config, _) = Config::load(None, env(&[("TWOFOLD_METRICS_ENABLED", "true")]), &[]).unwrap();
    assert!(config.metrics.collected() && config.metrics.on_main_listener());

    // A listener of their own takes /metrics off the main port, whatever `enabled` says.
    let f = file("[metrics]\nenabled = true\nlisten = \"127.0.0.1:9090\"\n");
    let (config, _) = Config::load(Some(f.path()), env(&[]), &[]).unwrap();
    assert!(config.metrics.collected());
    assert!(!config.metrics.on_main_listener());
    let (config, _) = Config::load(
        None,
        env(&[("TWOFOLD_METRICS_LISTEN", "127.0.0.1:9090")]),
        &[],
    )
    .unwrap();
    assert!(config.metrics.collected() && !config.metrics.on_main_listener());

    for bad in ["localhost", "127.0.0.1:8080"] {
        assert!(
            Config::load(None, env(&[("TWOFOLD_METRICS_LISTEN", bad)]), &[]).is_err(),
            "metrics.listen = {bad} was accepted"
        );
    }
}

/// docs/configuration.md lists every setting: a new key without a line there fails.
#[test]
fn every_setting_is_documented() {
    let docs = include_str!("../../docs/configuration.md");
    let defaults = toml::Table::try_from(Config::default()).unwrap();
    let mut missing = Vec::new();
    for (section, keys) in &defaults {
        let toml::Value::Table(keys) = keys else {
            continue;
        };
        for key in keys.keys() {
            let row = format!("| `{section}.{key}` |");
            if !docs.contains(&row) {
                missing.push(format!("{section}.{key}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not in docs/configuration.md: {missing:?}"
    );
}

/// A section owned outside this module, as a provider declares one.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Owned {
    level: i64,
}

impl Default for Owned {
    fn default() -> Self {
        Self { level: 1 }
    }
}

impl super::SectionSettings for Owned {
    fn check(&self) -> Result<(), String> {
        if self.level > 9 {
            return Err("level: at most 9".into());
        }
        Ok(())
    }
}

fn owned() -> super::Section {
    super::Section::of::<Owned>("owned")
}

#[test]
fn an_owned_section_is_read_defaulted_checked_and_settable_from_the_env() {
    let (config, _) = Config::load(None, env(&[]), &[owned()]).unwrap();
    assert_eq!(config.section::<Owned>("owned").unwrap().level, 1);
    let (config, report) =
        Config::load(None, env(&[("TWOFOLD_OWNED_LEVEL", "4")]), &[owned()]).unwrap();
    assert_eq!(config.section::<Owned>("owned").unwrap().level, 4);
    assert!(report.unknown_env_vars.is_empty());
    let f = file("[owned]\nlevel = 12\n");
    let err = Config::load(Some(f.path()), env(&[]), &[owned()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("level: at most 9"), "{err}");
    let f = file("[owned]\nlevl = 2\n");
    let err = Config::load(Some(f.path()), env(&[]), &[owned()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("levl"), "{err}");
    // Without its owner the section is unknown, like any typo of a section name.
    let f = file("[owned]\nlevel = 2\n");
    let err = Config::load(Some(f.path()), env(&[]), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("owned"), "{err}");
    let f = file("owned = 3\n");
    assert!(Config::load(Some(f.path()), env(&[]), &[owned()]).is_err());
}

#[test]
fn defect_24_4_the_ipv6_prefix_setting_is_checked() {
    let (config, _) = Config::load(None, env(&[]), &[]).unwrap();
    assert_eq!(config.throttle.ipv6_prefix, 64);
    let (config, _) =
        Config::load(None, env(&[("TWOFOLD_THROTTLE_IPV6_PREFIX", "56")]), &[]).unwrap();
    assert_eq!(config.throttle.ipv6_prefix, 56);
    let err = Config::load(None, env(&[("TWOFOLD_THROTTLE_IPV6_PREFIX", "16")]), &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("throttle.ipv6_prefix") && err.contains("32 to 128"),
        "{err}"
    );
}
