//! Why a new password is refused: the reasons of the password policy
//! (`accounts::policy`), with stable codes and texts in English and French. On its own so
//! that the error type can carry one without importing `accounts`.

/// Why a password is refused. `code` is stable; the texts are for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    TooShort(usize),
    TooLong(usize),
    /// One of the most common passwords (zxcvbn's list of common passwords, or the
    /// breach list of the online check).
    Common,
    /// Found in the online list of breached passwords.
    Breached,
    ContainsUserName,
    ContainsDisplayName,
    ContainsServiceName,
    /// Estimated too easy to guess (a zxcvbn score below the minimum).
    Guessable,
}

impl Weakness {
    pub fn code(self) -> &'static str {
        match self {
            Weakness::TooShort(_) => "too_short",
            Weakness::TooLong(_) => "too_long",
            Weakness::Common => "common",
            Weakness::Breached => "breached",
            Weakness::ContainsUserName => "contains_user_name",
            Weakness::ContainsDisplayName => "contains_display_name",
            Weakness::ContainsServiceName => "contains_service_name",
            Weakness::Guessable => "guessable",
        }
    }

    /// The reason in English (API and CLI) or French (`fr`).
    pub fn message(self, french: bool) -> String {
        match (self, french) {
            (Weakness::TooShort(n), false) => format!("too short: at least {n} characters"),
            (Weakness::TooShort(n), true) => format!("trop court : au moins {n} caractères"),
            (Weakness::TooLong(n), false) => format!("too long: at most {n} characters"),
            (Weakness::TooLong(n), true) => format!("trop long : au plus {n} caractères"),
            (Weakness::Common, false) => "this is one of the most common passwords".into(),
            (Weakness::Common, true) => "c'est l'un des mots de passe les plus courants".into(),
            (Weakness::Breached, false) => "this password appears in known data breaches".into(),
            (Weakness::Breached, true) => {
                "ce mot de passe figure dans des fuites de données connues".into()
            }
            (Weakness::ContainsUserName, false) => "it contains your user name".into(),
            (Weakness::ContainsUserName, true) => "il contient votre nom d'utilisateur".into(),
            (Weakness::ContainsDisplayName, false) => "it contains your name".into(),
            (Weakness::ContainsDisplayName, true) => "il contient votre nom".into(),
            (Weakness::ContainsServiceName, false) => "it contains the name of this service".into(),
            (Weakness::ContainsServiceName, true) => "il contient le nom de ce service".into(),
            (Weakness::Guessable, false) => {
                "too easy to guess: add more words or characters".into()
            }
            (Weakness::Guessable, true) => {
                "trop facile à deviner : ajoutez des mots ou des caractères".into()
            }
        }
    }
}
