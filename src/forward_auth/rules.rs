//! Access rules per host and path, and the return-URL check that prevents open redirects.

use super::normalize::{NormalPath, within};
use crate::config::{AccessRule, ForwardAuthConfig};
#[cfg(test)]
use crate::return_url::safe_return_url;

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

/// `host` is normalized (`normalize::host`); the pattern is compared the same way.
fn host_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.');
    if pattern.is_empty() {
        return true;
    }
    match pattern.strip_prefix("*.") {
        Some(domain) => host.len().checked_sub(domain.len() + 1).is_some_and(|cut| {
            host.as_bytes()[cut] == b'.' && host[cut + 1..].eq_ignore_ascii_case(domain)
        }),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

fn rule_matches(rule: &AccessRule, host: &str, path: &str) -> bool {
    host_matches(&rule.host, host) && within(path, &rule.path)
}

/// The rule for a normalized request. A path that stays ambiguous is denied: it could be
/// read as a path under any rule, and deny is the strictest of them.
pub fn decide<'a>(config: &'a ForwardAuthConfig, host: &str, path: &NormalPath) -> Decision<'a> {
    let NormalPath::Clear(path) = path else {
        return Decision {
            policy: Policy::Deny,
            groups: &[],
        };
    };
    match config.rules.iter().find(|r| rule_matches(r, host, path)) {
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

    fn clear(p: &str) -> NormalPath {
        NormalPath::Clear(p.to_string())
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
            ..Default::default()
        };
        assert_eq!(
            decide(&config, "files.example.org", &clear("/public/a.txt")).policy,
            Policy::Bypass
        );
        assert_eq!(
            decide(&config, "files.example.org", &clear("/x")).policy,
            Policy::OneFactor
        );
        let d = decide(&config, "wiki.example.org", &clear("/admin/x"));
        assert_eq!((d.policy, d.groups.len()), (Policy::TwoFactor, 1));
        assert_eq!(
            decide(&config, "example.org", &clear("/admin")).policy,
            Policy::TwoFactor
        );
        assert!(
            decide(&config, "example.org", &clear("/admin"))
                .groups
                .is_empty(),
            "*. does not match the apex"
        );
        assert_eq!(
            decide(&config, "evil-example.org", &clear("/public/")).policy,
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
            assert!(safe_return_url(ok, &allowed, false).is_some(), "{ok}");
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
            assert!(safe_return_url(bad, &allowed, false).is_none(), "{bad}");
        }
        assert!(
            safe_return_url("http://files.example.org/", &allowed, true).is_none(),
            "no https to http downgrade"
        );
        assert!(safe_return_url("https://files.example.org/", &allowed, true).is_some());
    }

    #[test]
    fn rules_match_segments_and_ambiguity_is_denied() {
        let config = ForwardAuthConfig {
            default_policy: "two_factor".into(),
            allowed_domains: vec![],
            rules: vec![
                rule("files.example.test.", "/public", "bypass", &[]),
                rule("", "/deny/", "deny", &[]),
            ],
            ..Default::default()
        };
        let on = |p: &str| decide(&config, "files.example.test", &clear(p)).policy;
        assert_eq!(on("/public"), Policy::Bypass);
        assert_eq!(on("/public/a"), Policy::Bypass);
        assert_eq!(on("/public-admin/x"), Policy::TwoFactor);
        assert_eq!(on("/deny"), Policy::Deny);
        assert_eq!(
            decide(&config, "files.example.test", &NormalPath::Ambiguous).policy,
            Policy::Deny
        );
    }

    fn strictness(d: &Decision) -> (u8, usize) {
        let p = match d.policy {
            Policy::Bypass => 0,
            Policy::OneFactor => 1,
            Policy::TwoFactor => 2,
            Policy::Deny => 3,
        };
        (p, d.groups.len())
    }

    proptest::proptest! {
        /// Whatever a backend makes of a raw path (decoded once or twice, backslashes as
        /// slashes, dot segments resolved), the rule twofold applies is at least as strict
        /// as the rule for that reading.
        #[test]
        fn no_spelling_makes_a_stricter_rule_lose(
            segs in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("public"),
                    proptest::strategy::Just("deny"),
                    proptest::strategy::Just("team"),
                    proptest::strategy::Just(".."),
                    proptest::strategy::Just("."),
                    proptest::strategy::Just(""),
                    proptest::strategy::Just("%2e%2e"),
                    proptest::strategy::Just("%2f"),
                    proptest::strategy::Just("%64eny"),
                    proptest::strategy::Just("%252e%252e"),
                    proptest::strategy::Just("..%5c"),
                    proptest::strategy::Just("x;y"),
                ],
                0..6,
            )
        ) {
            let config = ForwardAuthConfig {
                default_policy: "one_factor".into(),
                allowed_domains: vec![],
                rules: vec![
                    rule("", "/public", "bypass", &[]),
                    rule("", "/deny", "deny", &[]),
                    rule("", "/team", "one_factor", &["team"]),
                ],
                ..Default::default()
            };
            let raw = format!("/{}", segs.join("/"));
            let ours = decide(&config, "h", &crate::forward_auth::normalize::path(&raw));
            for reading in readings(&raw) {
                let theirs = decide(&config, "h", &NormalPath::Clear(reading.clone()));
                proptest::prop_assert!(
                    strictness(&ours) >= strictness(&theirs),
                    "{} read as {}: {:?} < {:?}", raw, reading, ours, theirs
                );
            }
        }
    }

    /// How backends may read a raw path (see normalize's tests).
    fn readings(raw: &str) -> Vec<String> {
        fn decode(s: &str) -> String {
            let mut out = Vec::new();
            let b = s.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%'
                    && i + 2 < b.len()
                    && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
                {
                    out.push(v);
                    i += 3;
                    continue;
                }
                out.push(b[i]);
                i += 1;
            }
            String::from_utf8_lossy(&out).into_owned()
        }
        fn resolve(p: &str) -> String {
            let mut segs: Vec<&str> = Vec::new();
            for s in p.split('/') {
                match s {
                    "" | "." => {}
                    ".." => {
                        segs.pop();
                    }
                    s => segs.push(s.split(';').next().unwrap_or_default()),
                }
            }
            format!("/{}", segs.join("/"))
        }
        let once = decode(raw);
        let twice = decode(&once);
        [
            once.clone(),
            twice.clone(),
            once.replace('\\', "/"),
            twice.replace('\\', "/"),
        ]
        .iter()
        .map(|p| resolve(p))
        .collect()
    }
}
