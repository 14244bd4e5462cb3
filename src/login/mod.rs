//! The login flow as an explicit state machine. A session moves
//! password passed → (second factor pending | setup required) → authenticated,
//! and only `Authenticated` lets anyone in. The second-factor providers decide which way
//! the password step leads (`SecondFactorNeed`); this module only decides what is allowed.

mod flow;
#[cfg(test)]
mod rounds;

pub use flow::{
    challenge_step, check_password, password_step, setup_step, sign_in_begin, sign_in_step,
};
// The stage belongs to the session, what is still needed to the providers; both are
// named here too because this module is where the flow between them is decided.
pub use crate::providers::SecondFactorNeed;
pub use crate::sessions::Stage;

/// Something that happened to a half-finished login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    ChallengePassed,
    FactorSetUp,
    /// A provider answered "still pending": the login waits for an approval.
    ApprovalPending,
    /// The approval was refused or expired: back to choosing a method.
    ApprovalGivenUp,
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
        (Stage::SecondFactorPending, Event::ApprovalPending) => Ok(Stage::AwaitingApproval),
        (Stage::AwaitingApproval, Event::ChallengePassed) => Ok(Stage::Authenticated),
        (Stage::AwaitingApproval, Event::ApprovalGivenUp) => Ok(Stage::SecondFactorPending),
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
        let stages = [
            SecondFactorPending,
            SetupRequired,
            AwaitingApproval,
            Authenticated,
        ];
        let events = [
            ChallengePassed,
            FactorSetUp,
            ApprovalPending,
            ApprovalGivenUp,
        ];
        let allowed = [
            (SecondFactorPending, ChallengePassed, Authenticated),
            (SetupRequired, FactorSetUp, Authenticated),
            (SecondFactorPending, ApprovalPending, AwaitingApproval),
            (AwaitingApproval, ChallengePassed, Authenticated),
            (AwaitingApproval, ApprovalGivenUp, SecondFactorPending),
        ];
        // Every pair not listed is refused: above all, nothing leaves `Authenticated`
        // and nothing reaches it from setup or waiting by another event.
        for stage in stages {
            for event in events {
                let want = allowed
                    .iter()
                    .find(|(s, e, _)| *s == stage && *e == event)
                    .map(|(_, _, to)| *to);
                assert_eq!(next(stage, event).ok(), want, "{stage:?} + {event:?}");
            }
        }
    }

    #[test]
    fn stored_stage_round_trips_and_unknown_is_none() {
        for s in [
            Stage::SecondFactorPending,
            Stage::SetupRequired,
            Stage::AwaitingApproval,
            Stage::Authenticated,
        ] {
            assert_eq!(Stage::parse(s.as_str()), Some(s));
        }
        assert_eq!(Stage::parse("authenticated "), None);
        assert_eq!(Stage::parse(""), None);
    }
}
