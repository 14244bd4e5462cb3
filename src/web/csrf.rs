//! CSRF protection of the forms: a random token in an HttpOnly, SameSite=Strict cookie,
//! and in the form a keyed hash of that token *and the session cookie*. A sibling
//! subdomain (say an HTML file uploaded to a WebDAV share) can plant a cookie of its own,
//! but cannot compute the form token for the victim's session without the server key.
//! `http::cross_site_guard` adds the second line (Origin / Sec-Fetch-Site) for every
//! state-changing request.

use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

use crate::crypto::{Purpose, ServerKey, constant_time_eq, random_token};
use crate::http::SESSION_COOKIE;

const COOKIE: &str = "twofold_csrf";

/// The form token for a CSRF cookie value and the current session cookie (if any).
fn form_token(key: &ServerKey, cookie: &str, jar: &CookieJar) -> String {
    let session = jar.get(SESSION_COOKIE).map(|c| c.value()).unwrap_or("");
    key.hash_token(Purpose::Csrf, &format!("{cookie}\n{session}"))
}

/// The form token to put in a page, adding the CSRF cookie to the jar when missing.
pub fn ensure(key: &ServerKey, jar: CookieJar, secure: bool) -> (CookieJar, String) {
    if let Some(c) = jar.get(COOKIE).filter(|c| c.value().len() == 43) {
        let token = form_token(key, c.value(), &jar);
        return (jar, token);
    }
    let value = random_token();
    let cookie = Cookie::build((COOKIE, value.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .build();
    let jar = jar.add(cookie);
    let token = form_token(key, &value, &jar);
    (jar, token)
}

/// Whether the browser sent no CSRF cookie at all (as opposed to a wrong or old one).
pub fn cookie_missing(jar: &CookieJar) -> bool {
    jar.get(COOKIE).is_none()
}

pub fn verify(key: &ServerKey, jar: &CookieJar, submitted: &str) -> bool {
    match jar.get(COOKIE) {
        Some(c) => {
            !submitted.is_empty() && constant_time_eq(&form_token(key, c.value(), jar), submitted)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue, header};

    fn jar(cookies: &str) -> CookieJar {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(cookies).unwrap());
        CookieJar::from_headers(&h)
    }

    #[test]
    fn the_token_is_bound_to_the_session() {
        let key = ServerKey::generate();
        let csrf = "c".repeat(43);
        let victim = jar(&format!("twofold_csrf={csrf}; twofold_session=victim"));
        let (_, token) = ensure(&key, victim.clone(), false);
        assert!(verify(&key, &victim, &token));
        // The same planted CSRF cookie, another session: the attacker's own token fails.
        let attacker = jar(&format!("twofold_csrf={csrf}; twofold_session=attacker"));
        let (_, attacker_token) = ensure(&key, attacker, false);
        assert!(!verify(&key, &victim, &attacker_token));
        // The raw cookie value is not a valid token (plain double submit is not enough).
        assert!(!verify(&key, &victim, &csrf));
        assert!(!verify(&key, &victim, ""));
        assert!(!verify(&ServerKey::generate(), &victim, &token));
    }
}
