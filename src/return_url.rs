//! Where a browser may be sent back to after login: the check that keeps the portal from
//! being an open redirect, and the same rule written as CSP sources, so that the browser
//! may follow that redirect after a login form.

/// `url` if it is an absolute http(s) URL on an allowed domain (or a subdomain of one);
/// `None` otherwise. No user info, no other schemes: no open redirect.
///
/// `https_only`: when twofold itself is served over https, an http return URL would send
/// the browser from a secure page to a plain one (a downgrade), so only https is allowed.
pub fn safe_return_url(url: &str, allowed: &[String], https_only: bool) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let schemes: &[&str] = if https_only {
        &["https"]
    } else {
        &["http", "https"]
    };
    if !schemes.contains(&parsed.scheme())
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

/// The CSP sources of exactly the origins `safe_return_url` accepts, for `form-action`:
/// after the last login form twofold redirects the browser to the return URL, and
/// Chromium applies `form-action` to the redirects that follow a form submission too.
///
/// Each allowed domain gives itself and its subdomains (`*.` in CSP matches any depth),
/// on any port (a return URL may name one), over https, and over http as well unless
/// `https_only`. A domain that is not a plain DNS name (letters, digits, `-`, `.`) is left
/// out rather than written into the header, where it could add a source or a directive;
/// an IPv4 address gives itself only (it has no subdomains).
pub fn csp_sources(allowed: &[String], https_only: bool) -> Vec<String> {
    let schemes: &[&str] = if https_only {
        &["https"]
    } else {
        &["http", "https"]
    };
    let mut sources: Vec<String> = Vec::new();
    for d in allowed {
        let d = d.trim().trim_start_matches('.').to_ascii_lowercase();
        let plain = d
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if d.is_empty() || !plain || d.starts_with('-') || d.ends_with('.') {
            continue;
        }
        let ip = d.parse::<std::net::Ipv4Addr>().is_ok();
        for scheme in schemes {
            let mut hosts = vec![format!("{scheme}://{d}:*")];
            if !ip {
                hosts.push(format!("{scheme}://*.{d}:*"));
            }
            for h in hosts {
                if !sources.contains(&h) {
                    sources.push(h);
                }
            }
        }
    }
    sources
}

#[cfg(test)]
mod tests {
    use super::{csp_sources, safe_return_url};

    /// How a browser matches a URL against host-sources of the form `scheme://host:*`
    /// or `scheme://*.host:*` (CSP Level 3, "Does url match expression"): an `http:`
    /// source also matches https.
    fn csp_allows(sources: &[String], url: &str) -> bool {
        let Ok(u) = url::Url::parse(url) else {
            return false;
        };
        let host = u.host_str().unwrap_or_default();
        sources.iter().any(|s| {
            let (scheme, rest) = s.split_once("://").unwrap();
            let pattern = rest.strip_suffix(":*").unwrap();
            let scheme_ok = scheme == u.scheme() || (scheme == "http" && u.scheme() == "https");
            let host_ok = match pattern.strip_prefix('*') {
                Some(suffix) => host.ends_with(suffix),
                None => host == pattern,
            };
            scheme_ok && host_ok
        })
    }

    #[test]
    fn the_csp_allows_the_return_urls_that_are_allowed_and_no_others() {
        let allowed = vec!["auth.example.org".to_string(), "example.org".to_string()];
        let urls = [
            "https://example.org/x",
            "https://files.example.org/a?b=c",
            "https://files.example.org:8443/",
            "https://a.b.example.org/",
            "http://files.example.org/",
            "http://example.org:8080/",
            "https://evil.example.net/",
            "https://example.org.evil.net/",
            "https://evilexample.org/",
            "https://example.org@evil.net/",
            "ftp://example.org/",
        ];
        for https_only in [true, false] {
            let sources = csp_sources(&allowed, https_only);
            for url in urls {
                assert_eq!(
                    csp_allows(&sources, url),
                    safe_return_url(url, &allowed, https_only).is_some(),
                    "{url} (https only: {https_only}) with {sources:?}"
                );
            }
        }
    }

    #[test]
    fn csp_sources_name_each_domain_and_its_subdomains() {
        let allowed = vec![
            "auth.example.org".to_string(),
            " .Example.ORG ".to_string(),
            "example.org".to_string(),
            "127.0.0.1".to_string(),
        ];
        assert_eq!(
            csp_sources(&allowed, true),
            [
                "https://auth.example.org:*",
                "https://*.auth.example.org:*",
                "https://example.org:*",
                "https://*.example.org:*",
                "https://127.0.0.1:*",
            ]
        );
        assert_eq!(
            csp_sources(&["example.org".to_string()], false),
            [
                "http://example.org:*",
                "http://*.example.org:*",
                "https://example.org:*",
                "https://*.example.org:*",
            ]
        );
    }

    #[test]
    fn a_domain_that_is_not_a_dns_name_adds_nothing_to_the_csp() {
        for bad in [
            "",
            "*",
            "*.example.org",
            "example.org; script-src *",
            "example.org https://evil.net",
            "'unsafe-inline'",
            "[::1]",
            "example.org.",
            "-x.org",
        ] {
            assert!(csp_sources(&[bad.to_string()], false).is_empty(), "{bad:?}");
        }
    }
}
