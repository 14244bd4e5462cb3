//! The page fragments of the push provider (askama templates in `views/`).

use askama::Template;

use super::Prompt;
use super::texts::{Texts, for_lang};
use crate::error::AppError;
use crate::providers::View;

#[derive(Template)]
#[template(path = "push/views/challenge.html")]
struct Challenge<'a> {
    t: &'static Texts,
    csrf: &'a str,
    prompt: Option<&'a Prompt>,
    expires: String,
    paused_until: Option<String>,
}

#[derive(Template)]
#[template(path = "push/views/settings.html")]
struct Settings<'a> {
    t: &'static Texts,
    csrf: &'a str,
    active: bool,
    approvers: i64,
    paused_until: Option<String>,
}

fn render(page: impl Template) -> Result<String, AppError> {
    page.render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("push view: {e}")))
}

pub fn challenge(
    view: &View<'_>,
    prompt: Option<&Prompt>,
    paused: Option<i64>,
) -> Result<String, AppError> {
    render(Challenge {
        t: for_lang(view.lang),
        csrf: view.csrf,
        prompt,
        expires: prompt
            .map(|p| crate::clock::format_time(p.expires_at))
            .unwrap_or_default(),
        paused_until: paused.map(crate::clock::format_time),
    })
}

pub fn settings(
    view: &View<'_>,
    active: bool,
    approvers: i64,
    paused: Option<i64>,
) -> Result<String, AppError> {
    render(Settings {
        t: for_lang(view.lang),
        csrf: view.csrf,
        active,
        approvers,
        paused_until: paused.map(crate::clock::format_time),
    })
}
