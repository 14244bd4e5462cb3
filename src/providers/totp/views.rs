//! The page fragments of TOTP (askama templates in `views/`): its section of the
//! security page (state, set up, remove) and the enrollment form with its QR code.

use askama::Template;

use super::Enrollment;
use super::texts::{Texts, for_lang};
use crate::error::AppError;
use crate::providers::View;

#[derive(Template)]
#[template(path = "totp/views/setup.html")]
struct Setup<'a> {
    t: &'static Texts,
    csrf: &'a str,
    enrollment: Enrollment,
    verify_action: &'a str,
}

#[derive(Template)]
#[template(path = "totp/views/settings.html")]
struct Settings<'a> {
    t: &'static Texts,
    csrf: &'a str,
    active: bool,
    enrollment: Option<Enrollment>,
    verify_action: &'a str,
}

fn render(page: impl Template) -> Result<String, AppError> {
    page.render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("totp view: {e}")))
}

/// The enrollment in progress, for "setup required" (its code goes to `/login/setup`).
pub fn setup(view: &View<'_>, enrollment: Enrollment) -> Result<String, AppError> {
    render(Setup {
        t: for_lang(view.lang),
        csrf: view.csrf,
        enrollment,
        verify_action: "/login/setup",
    })
}

pub fn settings(
    view: &View<'_>,
    active: bool,
    enrollment: Option<Enrollment>,
) -> Result<String, AppError> {
    render(Settings {
        t: for_lang(view.lang),
        csrf: view.csrf,
        active,
        enrollment,
        verify_action: "/settings/security/totp/verify",
    })
}
