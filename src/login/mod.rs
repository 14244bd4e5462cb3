//! The login flow as an explicit state machine. A session moves
//! password passed → (second factor pending | setup required) → authenticated,
//! and only `Authenticated` lets anyone in. The second-factor providers decide which way
//! the password step leads (`SecondFactorNeed`); this module only decides what is allowed.

mod flow;

pub use flow::{challenge_step, check_password, password_step, setup_step};

use serde::Serialize;

/// Where a session stands in the login flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Password passed; a second-factor challenge must be passed next.
    SecondFactorPending,
    /// Password passed; 2FA is enforced and the user has no factor: set one up first.
    SetupRequired,
    /// Fully logged in.
    Authenticated,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::SecondFactorPending => "second_factor_pending",
            Stage::SetupRequired => "setup_required",
            Stage::Authenticated => "authenticated",
        }
    }

    /// Parses a stored stage. An unknown value is never treated as authenticated.
    pub fn parse(s: &str) -> Option<Stage> {
        match s {
            "second_factor_pending" => Some(Stage::SecondFactorPending),
            "setup_required" => Some(Stage::SetupRequired),
            "authenticated" => Some(Stage::Authenticated),
            _ => None,
        }
    }
}

/// What the user must still show after the password, as the 2FA layer computes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactorNeed {
    /// No active factor and no enforcement.
    None,
    /// At least one active factor: challenge.
    Challenge,
    /// Enforced, nothing active: set up in the login flow.
    Setup,
}

/// Something that happened to a half-finished login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    ChallengePassed,
    FactorSetUp,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{event:?} is not allowed at stage {stage:?}")]
pub struct InvalidTransition {
    pub stage: Stage,
    pub event: Event,
}

/// The stage right after a correct password.
pub fn after_password(need: SecondFactorNeed) -> Stage {
    match need {
        SecondFactorNeed::None => Stage::Authenticated,
        SecondFactorNeed::Challenge => Stage::SecondFactorPending,
        SecondFactorNeed::Setup => Stage::SetupRequired,
    }
}

/// The only transitions there are. Anything else (a challenge "passed" on a session that
/// needed setup, or on one already authenticated) is refused.
pub fn next(stage: Stage, event: Event) -> Result<Stage, InvalidTransition> {
    match (stage, event) {
        (Stage::SecondFactorPending, Event::ChallengePassed) => Ok(Stage::Authenticated),
        (Stage::SetupRequired, Event::FactorSetUp) => Ok(Stage::Authenticated),
        _ => Err(InvalidTransition { stage, event }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_step_leads_where_the_need_says() {
        assert_eq!(after_password(SecondFactorNeed::None), Stage::Authenticated);
        assert_eq!(
            after_password(SecondFactorNeed::Challenge),
            Stage::SecondFactorPending
        );
        assert_eq!(
            after_password(SecondFactorNeed::Setup),
            Stage::SetupRequired
        );
    }

    #[test]
    fn every_transition() {
        use Event::*;
        use Stage::*;
        let table = [
            (SecondFactorPending, ChallengePassed, Some(Authenticated)),
            (SecondFactorPending, FactorSetUp, None),
            (SetupRequired, FactorSetUp, Some(Authenticated)),
            (SetupRequired, ChallengePassed, None),
            (Authenticated, ChallengePassed, None),
            (Authenticated, FactorSetUp, None),
        ];
        for (stage, event, want) in table {
            assert_eq!(next(stage, event).ok(), want, "{stage:?} + {event:?}");
        }
    }

    #[test]
    fn stored_stage_round_trips_and_unknown_is_none() {
        for s in [
            Stage::SecondFactorPending,
            Stage::SetupRequired,
            Stage::Authenticated,
        ] {
            assert_eq!(Stage::parse(s.as_str()), Some(s));
        }
        assert_eq!(Stage::parse("authenticated "), None);
        assert_eq!(Stage::parse(""), None);
    }
}
