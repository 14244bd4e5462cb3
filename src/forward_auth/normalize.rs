//! The request as the protected app will see it, so that rules cannot be walked around by
//! spelling a host or a path differently (`//deny`, `/%64eny`, `/public/..%2fdav`,
//! `Host: files.example.org.`).
//!
//! Written by hand because it *is* the product's security boundary: a URL library
//! normalizes for its own purposes (WHATWG turns `%2e%2e` into `..`, keeps `%2f`), not to
//! tell us which spellings a backend could read as another path.

/// A normalized path, or the reason it cannot be read one way only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NormalPath {
    /// Decoded once, duplicate slashes merged, dot segments removed; starts with `/`.
    Clear(String),
    /// An encoded `/` or `\`, a raw `\`, NUL or another control byte, invalid UTF-8, an
    /// escape left after one decoding (double encoding), a broken escape, a `;` (servlet
    /// containers drop `;params`: `/deny;x/a` is `/deny/a` to them, not to nginx), a raw
    /// `#` or space, a `?` or `#` that decoding produced (see [`path`]), or no leading
    /// `/`: a backend may read it as another path, so it gets the strictest outcome.
    Ambiguous,
}

/// The path part of a request target (everything before the first `?`, which every reader
/// cuts at), normalized.
///
/// What one reader cuts at and another keeps is ambiguous rather than cut: nginx takes a
/// raw `#` in the request line and passes the whole target on, so `/public#/../deny/x` is
/// `/public` to a URL library and `/deny/x` to a backend that gives `#` no meaning; a
/// request line is split at spaces; and a backend that decodes the whole target before
/// splitting off the query cuts at a `%3F` or `%23`, which nginx decodes into the path.
pub fn path(raw: &str) -> NormalPath {
    let raw = raw.split('?').next().unwrap_or_default();
    if !raw.starts_with('/') || raw.contains(['#', ' ']) {
        return NormalPath::Ambiguous;
    }
    let Some(decoded) = decode_once(raw) else {
        return NormalPath::Ambiguous;
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return NormalPath::Ambiguous;
    };
    if decoded.contains('\\')
        || decoded.chars().any(char::is_control)
        || has_escape(&decoded)
        || decoded.contains([';', '?', '#'])
    {
        return NormalPath::Ambiguous;
    }
    NormalPath::Clear(remove_dot_segments(&decoded))
}

/// Percent-decodes once. `None` for a `%` not followed by two hex digits, and for an
/// encoded `/` or `\`, which a backend may or may not decode before splitting segments.
fn decode_once(raw: &str) -> Option<Vec<u8>> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex(*bytes.get(i + 1)?)?;
            let lo = hex(*bytes.get(i + 2)?)?;
            let b = hi << 4 | lo;
            if b == b'/' || b == b'\\' {
                return None;
            }
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// A `%` still present after one decoding: a second level of encoding, or close enough
/// to one (`%25zz`) that refusing it costs less than guessing what a backend makes of it.
fn has_escape(s: &str) -> bool {
    s.contains('%')
}

/// Merges duplicate slashes and resolves `.` and `..` (never above the root). A trailing
/// slash is kept: `/dav/` and `/dav` are both inside `/dav`.
fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let parts: Vec<&str> = path.split('/').collect();
    let last = parts.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, seg) in parts.iter().enumerate() {
        match *seg {
            "" => trailing_slash = i == last && i > 0,
            "." => trailing_slash = i == last,
            ".." => {
                segments.pop();
                trailing_slash = i == last;
            }
            s => {
                segments.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut out = String::with_capacity(path.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    out
}

/// The host as rules see it: lower case, no port, no trailing dot. `None` when it is not a
/// plain host name or IP literal (user info, a path, spaces, an empty name).
pub fn host(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let name = if let Some(rest) = raw.strip_prefix('[') {
        // [IPv6]:port
        let end = rest.find(']')?;
        let after = &rest[end + 1..];
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        return Some(format!("[{}]", rest[..end].to_ascii_lowercase()));
    } else {
        match raw.rsplit_once(':') {
            Some((h, port)) if is_port(port) => h,
            Some(_) => return None,
            None => raw,
        }
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        && !name.split('.').any(str::is_empty);
    valid.then(|| name.to_ascii_lowercase())
}

fn is_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `path` (normalized) lies inside the rule prefix `prefix`, on segment
/// boundaries: `/public` covers `/public` and `/public/…`, never `/public-admin`.
pub fn within(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return true;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests;
