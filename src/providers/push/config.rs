//! The `[push]` config section: how long a prompt waits, and the fatigue protection.

use serde::{Deserialize, Serialize};

use crate::config::{Section, SectionSettings};

pub const SECTION: &str = "push";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PushConfig {
    /// Seconds a prompt waits for a decision.
    pub approval_ttl_secs: i64,
    /// Prompts of one user waiting at once, at most (one per login attempt).
    pub max_open_per_user: i64,
    /// After this many prompts rejected or run out within `pause_window_secs`, push is
    /// paused for the user (other factors still work): a password thief cannot keep the
    /// phone buzzing until someone taps "approve".
    pub pause_after: i64,
    pub pause_window_secs: i64,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            approval_ttl_secs: 120,
            max_open_per_user: 3,
            pause_after: 3,
            pause_window_secs: 15 * 60,
        }
    }
}

impl SectionSettings for PushConfig {
    fn check(&self) -> Result<(), String> {
        if !(30..=600).contains(&self.approval_ttl_secs) {
            return Err("approval_ttl_secs: must be between 30 and 600 seconds".into());
        }
        if !(1..=20).contains(&self.max_open_per_user) {
            return Err("max_open_per_user: must be between 1 and 20".into());
        }
        if !(1..=100).contains(&self.pause_after) {
            return Err("pause_after: must be between 1 and 100".into());
        }
        if !(60..=86_400).contains(&self.pause_window_secs) {
            return Err("pause_window_secs: must be between 60 and 86400 seconds".into());
        }
        Ok(())
    }
}

pub fn section() -> Section {
    Section::of::<PushConfig>(SECTION)
}
