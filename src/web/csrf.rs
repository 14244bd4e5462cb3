//! CSRF protection by double submit: a random token in an HttpOnly, SameSite=Strict cookie
//! must come back in the form. A cross-site page can neither read nor set that cookie.

use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

use crate::crypto::{constant_time_eq, random_token};

const COOKIE: &str = "twofold_csrf";

/// The jar's token, or a new one added to the jar.
pub fn ensure(jar: CookieJar, secure: bool) -> (CookieJar, String) {
    if let Some(c) = jar.get(COOKIE).filter(|c| c.value().len() == 43) {
        let token = c.value().to_string();
        return (jar, token);
    }
    let token = random_token();
    let cookie = Cookie::build((COOKIE, token.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .build();
    (jar.add(cookie), token)
}

pub fn verify(jar: &CookieJar, submitted: &str) -> bool {
    match jar.get(COOKIE) {
        Some(c) => !submitted.is_empty() && constant_time_eq(c.value(), submitted),
        None => false,
    }
}
