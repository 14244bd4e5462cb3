//! Where a browser may be sent back to after login: the check that keeps the portal from
//! being an open redirect.

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
