//! English and French texts of the pages. The language comes from `Accept-Language`;
//! English when neither is asked for.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    /// The first of our languages in the header's order of preference.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut ranked: Vec<(f32, &str)> = header
            .split(',')
            .filter_map(|part| {
                let mut bits = part.trim().split(';');
                let tag = bits.next()?.trim();
                let q = bits
                    .find_map(|b| b.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some((q, tag))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, tag) in ranked {
            let primary = tag
                .split('-')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            match primary.as_str() {
                "fr" => return Lang::Fr,
                "en" => return Lang::En,
                _ => {}
            }
        }
        Lang::En
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::Fr => &FR,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::from_accept_language)
            .unwrap_or(Lang::En))
    }
}

pub struct Texts {
    pub sign_in: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub remember_me: &'static str,
    pub invalid_credentials: &'static str,
    pub form_expired: &'static str,
    pub signed_in_as: &'static str,
    pub sign_out: &'static str,
    pub session_until: &'static str,
    pub home_title: &'static str,
    pub unavailable: &'static str,
}

static EN: Texts = Texts {
    sign_in: "Sign in",
    username: "Username",
    password: "Password",
    remember_me: "Remember me",
    invalid_credentials: "Wrong username or password.",
    form_expired: "The form expired. Please try again.",
    signed_in_as: "Signed in as",
    sign_out: "Sign out",
    session_until: "This session lasts until",
    home_title: "Your account",
    unavailable: "The service is unavailable right now. Please try again later.",
};

static FR: Texts = Texts {
    sign_in: "Se connecter",
    username: "Nom d'utilisateur",
    password: "Mot de passe",
    remember_me: "Rester connecté",
    invalid_credentials: "Nom d'utilisateur ou mot de passe incorrect.",
    form_expired: "Le formulaire a expiré. Veuillez réessayer.",
    signed_in_as: "Connecté en tant que",
    sign_out: "Se déconnecter",
    session_until: "Cette session dure jusqu'au",
    home_title: "Votre compte",
    unavailable: "Le service est indisponible pour le moment. Veuillez réessayer plus tard.",
};

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn picks_by_preference() {
        assert_eq!(
            Lang::from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"),
            Lang::Fr
        );
        assert_eq!(Lang::from_accept_language("en-US,fr;q=0.5"), Lang::En);
        assert_eq!(Lang::from_accept_language("de,fr;q=0.7,en;q=0.3"), Lang::Fr);
        assert_eq!(Lang::from_accept_language("de"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
        assert_eq!(Lang::from_accept_language("en;q=0.1, fr;q=0.9"), Lang::Fr);
    }
}
