//! The page fragments of the provider (askama templates in `views/`), rendered in the
//! page's language: the button at the challenge, the form in "setup required", the
//! lists and forms on the security page, and the passkey button on the sign-in page. Each
//! names `/static/webauthn.js`, the ceremony script (`ceremony.js`).

use askama::Template;

use super::texts::{Texts, for_lang};
use crate::error::AppError;
use crate::providers::{Credential, View};

#[derive(Template)]
#[template(path = "webauthn/views/challenge.html")]
struct Challenge {
    t: &'static Texts,
}

#[derive(Template)]
#[template(path = "webauthn/views/setup.html")]
struct Setup {
    t: &'static Texts,
}

#[derive(Template)]
#[template(path = "webauthn/views/sign_in.html")]
struct SignIn {
    t: &'static Texts,
}

/// A key or passkey as the security page lists it.
struct Listed {
    id: String,
    name: String,
    added: String,
}

impl From<&Credential> for Listed {
    fn from(c: &Credential) -> Self {
        Self {
            id: c.id.clone(),
            name: c.name.clone(),
            added: crate::clock::format_time(c.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "webauthn/views/settings.html")]
struct Settings<'a> {
    t: &'static Texts,
    csrf: &'a str,
    keys: Vec<Listed>,
    passkeys: Vec<Listed>,
    /// Passkeys can be added (off with `attestation = "direct"`).
    passkeys_on: bool,
}

fn render(page: impl Template) -> Result<String, AppError> {
    page.render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("webauthn view: {e}")))
}

pub fn challenge(view: &View<'_>) -> Option<String> {
    render(Challenge {
        t: for_lang(view.lang),
    })
    .ok()
}

pub fn setup(view: &View<'_>) -> Result<String, AppError> {
    render(Setup {
        t: for_lang(view.lang),
    })
}

pub fn sign_in(view: &View<'_>) -> Option<String> {
    render(SignIn {
        t: for_lang(view.lang),
    })
    .ok()
}

pub fn settings(
    view: &View<'_>,
    credentials: &[Credential],
    passkeys_on: bool,
) -> Result<String, AppError> {
    let (passkeys, keys): (Vec<&Credential>, Vec<&Credential>) =
        credentials.iter().partition(|c| c.sign_in);
    render(Settings {
        t: for_lang(view.lang),
        csrf: view.csrf,
        keys: keys.into_iter().map(Listed::from).collect(),
        passkeys: passkeys.into_iter().map(Listed::from).collect(),
        passkeys_on,
    })
}
