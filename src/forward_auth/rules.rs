//! Access rules per host and path, and the return-URL check that prevents open redirects.

use crate::config::{AccessRule, ForwardAuthConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Bypass,
    OneFactor,
    TwoFactor,
    Deny,
}

impl Policy {
    pub fn parse(s: &str) -> Policy {
        match s {
            "bypass" => Policy::Bypass,
            "one_factor" => Policy::OneFactor,
            "two_factor" => Policy::TwoFactor,
            // Config validation refuses anything else; should it get here, deny.
            _ => Policy::Deny,
        }
    }
}

/// What the first matching rule (or the default) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'a> {
    pub policy: Policy,
    pub groups: &'a [String],
}

fn host_matches(pattern: &str, host: &str) -> bool {
    if pattern.is_empty() {
        return true;
    }
    match pattern.strip_prefix("*.") {
        Some(domain) => {
            host.len() > domain.len()
                && host.ends_with(domain)
                && host[..host.len() - domain.len()].ends_with('.')
        }
        None => pattern.eq_ignore_ascii_case(host),
    }
}

fn rule_matches(rule: &AccessRule, host: &str, path: &str) -> bool {
    host_matches(&rule.host.to_ascii_lowercase(), host)
        && (rule.path.is_empty() || path.starts_with(&rule.path))
}

pub fn decide<'a>(config: &'a ForwardAuthConfig, host: &str, path: &str) -> Decision<'a> {
    let host = host.to_ascii_lowercase();
    match config.rules.iter().find(|r| rule_matches(r, &host, path)) {
        Some(r) => Decision {
            policy: Policy::parse(&r.policy),
            groups: &r.groups,
        },
        None => Decision {
            policy: Policy::parse(&config.default_policy),
            groups: &[],
        },
    }
}

/// `url` if it is an absolute http(s) URL on an allowed domain (or a subdomain of one);
/// `None` otherwise. No user info, no other schemes: no open redirect.
pub fn safe_return_url(url: &str, allowed: &[String]) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https")
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return None;
    }
    let host = parsed.host_str()?.to_ascii_lowercase();
    let ok = allowed.iter().any(|d| {
        let d = d.trim().trim_start_matches('.').to_ascii_lowercase();
        !d.is_empty() && (host == d || host.ends_with(&format!(".{d}")))
    });
    ok.then(|| parsed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(host: &str, path: &str, policy: &str, groups: &[&str]) -> AccessRule {
        AccessRule {
            host: host.into(),
            path: path.into(),
            policy: policy.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn first_matching_rule_wins_else_default() {
        let config = ForwardAuthConfig {
            default_policy: "two_factor".into(),
            allowed_domains: vec![],
            rules: vec![
                rule("files.example.org", "/public/", "bypass", &[]),
                rule("*.example.org", "/admin", "two_factor", &["admins"]),
                rule("files.example.org", "", "one_factor", &[]),
            ],
        };
        assert_eq!(
            decide(&config, "files.example.org", "/public/a.txt").policy,
            Policy::Bypass
        );
        assert_eq!(
            decide(&config, "FILES.example.org", "/x").policy,
            Policy::OneFactor
        );
        let d = decide(&config, "wiki.example.org", "/admin/x");
        assert_eq!((d.policy, d.groups.len()), (Policy::TwoFactor, 1));
        assert_eq!(
            decide(&config, "example.org", "/admin").policy,
            Policy::TwoFactor
        );
        assert!(
            decide(&config, "example.org", "/admin").groups.is_empty(),
            "*. does not match the apex"
        );
        assert_eq!(
            decide(&config, "evil-example.org", "/public/").policy,
            Policy::TwoFactor
        );
    }

    #[test]
    fn return_urls_are_limited_to_allowed_domains() {
        let allowed = vec!["example.org".to_string()];
        for ok in [
            "https://example.org/x",
            "https://files.example.org/a?b=c",
            "http://a.b.example.org:8080/",
        ] {
            assert!(safe_return_url(ok, &allowed).is_some(), "{ok}");
        }
        for bad in [
            "https://evil.org/",
            "https://example.org.evil.org/",
            "https://evilexample.org/",
            "javascript:alert(1)",
            "//evil.org/",
            "/relative",
            "https://user@evil.org@example.org/",
            "https://example.org@evil.org/",
            "ftp://example.org/",
            "",
        ] {
            assert!(safe_return_url(bad, &allowed).is_none(), "{bad}");
        }
    }
}
