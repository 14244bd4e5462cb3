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
    pub reauth_title: &'static str,
    pub reauth_intro: &'static str,
    pub reauth_confirm: &'static str,
    pub password_title: &'static str,
    pub password_intro: &'static str,
    pub password_changed: &'static str,
    pub revoked_sessions: &'static str,
    pub revoked_app_passwords: &'static str,
    pub revoked_client_logins: &'static str,
    /// Before a list of passkeys that a password change or logging out leaves in place.
    pub passkeys_remain: &'static str,
    pub remove_passkeys_too: &'static str,
    pub passkeys_removed: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub password_change: &'static str,
    pub password_wrong: &'static str,
    pub password_rejected: &'static str,
    pub activity_title: &'static str,
    pub admin_activity_title: &'static str,
    pub activity_user: &'static str,
    pub activity_filter: &'static str,
    pub activity_none: &'static str,
    pub activity_when: &'static str,
    pub activity_what: &'static str,
    pub activity_account: &'static str,
    pub activity_by: &'static str,
    pub activity_from: &'static str,
    pub activity_detail: &'static str,
    pub remember_me: &'static str,
    pub invalid_credentials: &'static str,
    pub form_expired: &'static str,
    /// A provider the server's configuration leaves unavailable, on the security page.
    pub provider_unavailable_here: &'static str,
    /// The same on the admin page, before the reason.
    pub provider_unavailable_admin: &'static str,
    /// A POST without the CSRF cookie while `public_url` is plain http on another name
    /// than localhost: the browser dropped the Secure cookies.
    pub insecure_http: &'static str,
    /// A settings form whose input was refused (a blank name, an unknown key).
    pub not_accepted: &'static str,
    pub signed_in_as: &'static str,
    pub sign_out: &'static str,
    pub session_until: &'static str,
    pub home_title: &'static str,
    pub unavailable: &'static str,
    pub challenge_title: &'static str,
    pub choose_method: &'static str,
    pub code: &'static str,
    pub verify: &'static str,
    pub invalid_code: &'static str,
    pub too_many_attempts: &'static str,
    pub factor_locked: &'static str,
    pub could_not_load: &'static str,
    pub no_method_usable: &'static str,
    pub setup_required_title: &'static str,
    pub setup_required_intro: &'static str,
    pub security_title: &'static str,
    pub backup_codes: &'static str,
    pub backup_codes_left: &'static str,
    pub backup_codes_few: &'static str,
    pub weak_password_banner: &'static str,
    pub weak_password_change: &'static str,
    pub backup_codes_need_factor: &'static str,
    pub generate_backup_codes: &'static str,
    pub backup_codes_once: &'static str,
    pub backup_code_used: &'static str,
    pub twofa_enforced: &'static str,
    pub back: &'static str,
    pub security_settings: &'static str,
    pub admin_title: &'static str,
    pub enforcement: &'static str,
    pub enforce_2fa: &'static str,
    pub group: &'static str,
    pub enforced_for: &'static str,
    pub excluded: &'static str,
    pub enforcement_help: &'static str,
    pub save: &'static str,
    pub providers: &'static str,
    pub enabled: &'static str,
    pub disabled: &'static str,
    pub always_on: &'static str,
    pub enable: &'static str,
    pub disable: &'static str,
    pub users: &'static str,
    pub search_users: &'static str,
    pub search: &'static str,
    pub previous_page: &'static str,
    pub next_page: &'static str,
    /// "… users match, page … of …": the numbers are put in between.
    pub users_match: &'static str,
    pub page_of: &'static str,
    pub user: &'static str,
    pub active_methods: &'static str,
    pub reset: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub saved: &'static str,
    pub unknown_group: &'static str,
    pub admin_unknown_user: &'static str,
    pub admin_unknown_method: &'static str,
    pub admin_not_resettable: &'static str,
    pub admin_always_on: &'static str,
    pub admin_refused: &'static str,
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
    pub not_found_home: &'static str,
    pub admin_link: &'static str,
    pub devices_title: &'static str,
    pub app_passwords: &'static str,
    pub app_passwords_help: &'static str,
    pub app_password_name: &'static str,
    pub create: &'static str,
    pub new_app_password: &'static str,
    pub login_name: &'static str,
    pub revoke: &'static str,
    pub never_used: &'static str,
    pub last_used: &'static str,
    pub browsers: &'static str,
    pub this_browser: &'static str,
    pub logout_everywhere: &'static str,
    pub grant_title: &'static str,
    pub grant_intro: &'static str,
    pub grant_requested_from: &'static str,
    pub grant_check: &'static str,
    pub grant: &'static str,
    pub granted: &'static str,
    pub grant_name_untrusted: &'static str,
    pub grant_confirm: &'static str,
    pub grant_unconfirmed: &'static str,
    pub flow_expired: &'static str,
    pub name_required: &'static str,
}

static EN: Texts = Texts {
    sign_in: "Sign in",
    username: "Username",
    password: "Password",
    reauth_title: "Confirm it's you",
    reauth_intro: "This change needs a recent sign-in. Enter your password to continue.",
    reauth_confirm: "Confirm",
    password_title: "Change your password",
    password_intro: "Changing your password signs out your other browsers and revokes every app password and pending client login.",
    password_changed: "Your password was changed.",
    revoked_sessions: "Other sessions ended:",
    revoked_app_passwords: "app passwords revoked:",
    revoked_client_logins: "pending client logins ended:",
    passkeys_remain: "These passkeys still sign in without the password; remove them on the security page if a device is lost:",
    remove_passkeys_too: "Also remove my passkeys (they sign in without the password):",
    passkeys_removed: "passkeys removed:",
    current_password: "Current password",
    new_password: "New password",
    password_change: "Change password",
    password_wrong: "The current password is wrong.",
    password_rejected: "The new password is not acceptable:",
    activity_title: "Security activity",
    admin_activity_title: "Security activity of all accounts",
    activity_user: "Account",
    activity_filter: "Filter",
    activity_none: "No security events yet.",
    activity_when: "When",
    activity_what: "What",
    activity_account: "Account",
    activity_by: "By",
    activity_from: "From",
    activity_detail: "Detail",
    remember_me: "Remember me",
    invalid_credentials: "Wrong username or password.",
    form_expired: "The form expired. Please try again.",
    provider_unavailable_here: "not available on this server.",
    provider_unavailable_admin: "unavailable with this configuration:",
    insecure_http: "Your browser did not send back the cookies this server needs: the server is reached over plain http on a name other than localhost, and its cookies are marked Secure, so browsers keep them only over https. The administrator must serve it over https (server.public_url = https://…), or use http://localhost to try it out.",
    not_accepted: "That was not accepted: check what you entered and try again.",
    signed_in_as: "Signed in as",
    sign_out: "Sign out",
    session_until: "This session lasts until",
    home_title: "Your account",
    unavailable: "The service is unavailable right now. Please try again later.",
    challenge_title: "Two-factor authentication",
    choose_method: "Choose a method",
    code: "Code",
    verify: "Verify",
    invalid_code: "That code is not valid. Try again.",
    too_many_attempts: "Too many failed attempts. Wait a moment before trying again.",
    factor_locked: "This method is locked after too many failed attempts. Use another method or ask an administrator.",
    could_not_load: "Could not load at least one of your enabled two-factor methods.",
    no_method_usable: "None of your two-factor methods can be used right now. Contact an administrator.",
    setup_required_title: "Set up two-factor authentication",
    setup_required_intro: "Your administrator requires two-factor authentication. Set up an authenticator app to continue.",
    security_title: "Security",
    backup_codes: "Backup codes",
    backup_codes_left: "unused backup codes left",
    backup_codes_few: "Few backup codes left: generate new ones.",
    weak_password_banner: "Your password is easy to guess or too common.",
    weak_password_change: "Choose a new one",
    backup_codes_need_factor: "Set up an authenticator app first: backup codes only count alongside another method.",
    generate_backup_codes: "Generate new backup codes",
    backup_codes_once: "Write these codes down now: they are shown only once. Each works once. Earlier codes no longer work.",
    backup_code_used: "You signed in with a backup code.",
    twofa_enforced: "Two-factor authentication is required for your account.",
    back: "Back",
    security_settings: "Security settings",
    admin_title: "Administration: security",
    enforcement: "Enforcement",
    enforce_2fa: "Enforce two-factor authentication",
    group: "Group",
    enforced_for: "Enforced for",
    excluded: "Excluded",
    enforcement_help: "No group ticked under \"Enforced for\": everyone except the excluded groups. Groups ticked: their members only; a member of both is enforced.",
    save: "Save",
    providers: "Providers",
    enabled: "enabled",
    disabled: "disabled",
    always_on: "always available",
    enable: "Enable",
    disable: "Disable",
    users: "Users",
    search_users: "Find users by name",
    search: "Search",
    previous_page: "Previous",
    next_page: "Next",
    users_match: "users match; page",
    page_of: "of",
    user: "User",
    active_methods: "Active methods",
    reset: "Reset",
    yes: "yes",
    no: "no",
    saved: "Saved.",
    unknown_group: "A group no longer exists. Nothing was changed.",
    admin_unknown_user: "This user no longer exists. Nothing was changed.",
    admin_unknown_method: "This two-factor method is not known here. Nothing was changed.",
    admin_not_resettable: "An administrator cannot reset this method: the user manages it (backup codes are replaced by generating new ones). Nothing was changed.",
    admin_always_on: "This method is always available: it cannot be switched off. Nothing was changed.",
    admin_refused: "This change was refused. Nothing was changed.",
    not_found_title: "Page not found",
    not_found_text: "There is no page at this address.",
    not_found_home: "Go to the start page",
    admin_link: "Administration",
    devices_title: "Devices and sessions",
    app_passwords: "App passwords",
    app_passwords_help: "For sync clients (files, contacts, calendars) that cannot do two-factor authentication. Each works without the second factor: revoke any you no longer use.",
    app_password_name: "Name of the device or app",
    create: "Create",
    new_app_password: "Your new app password. Copy it now: it is shown only once.",
    login_name: "Login name",
    revoke: "Revoke",
    never_used: "never used",
    last_used: "last used",
    browsers: "Browsers",
    this_browser: "this browser",
    logout_everywhere: "Log out everywhere",
    grant_title: "Grant access",
    grant_intro: "This application asks for access to your account:",
    grant_requested_from: "Asked for from",
    grant_check: "Grant only if you started this login yourself, just now, from this device's network.",
    grant: "Grant access",
    granted: "Access granted. You can close this window and return to the application.",
    grant_name_untrusted: "The application chose this name itself: it proves nothing about who is asking.",
    grant_confirm: "I started this login myself, just now, and I want to give this application access to my account.",
    grant_unconfirmed: "Nothing was granted: tick the box to confirm that you started this login yourself.",
    flow_expired: "This login link has expired or was already used.",
    name_required: "Give the app password a name (1 to 100 characters).",
};

static FR: Texts = Texts {
    sign_in: "Se connecter",
    username: "Nom d'utilisateur",
    password: "Mot de passe",
    reauth_title: "Confirmez votre identité",
    reauth_intro: "Cette modification demande une connexion récente. Saisissez votre mot de passe pour continuer.",
    reauth_confirm: "Confirmer",
    password_title: "Changer votre mot de passe",
    password_intro: "Changer votre mot de passe déconnecte vos autres navigateurs et révoque tous les mots de passe d'application et les connexions de clients en attente.",
    password_changed: "Votre mot de passe a été changé.",
    revoked_sessions: "Autres sessions fermées :",
    revoked_app_passwords: "mots de passe d'application révoqués :",
    revoked_client_logins: "connexions de clients en attente annulées :",
    passkeys_remain: "Ces clés d’accès ouvrent toujours une session sans le mot de passe ; supprimez-les sur la page de sécurité si un appareil est perdu :",
    remove_passkeys_too: "Supprimer aussi mes clés d’accès (elles ouvrent une session sans le mot de passe) :",
    passkeys_removed: "clés d’accès supprimées :",
    current_password: "Mot de passe actuel",
    new_password: "Nouveau mot de passe",
    password_change: "Changer le mot de passe",
    password_wrong: "Le mot de passe actuel est incorrect.",
    password_rejected: "Le nouveau mot de passe n'est pas acceptable :",
    activity_title: "Activité de sécurité",
    admin_activity_title: "Activité de sécurité de tous les comptes",
    activity_user: "Compte",
    activity_filter: "Filtrer",
    activity_none: "Aucun événement de sécurité pour l'instant.",
    activity_when: "Quand",
    activity_what: "Quoi",
    activity_account: "Compte",
    activity_by: "Par",
    activity_from: "Depuis",
    activity_detail: "Détail",
    remember_me: "Rester connecté",
    invalid_credentials: "Nom d'utilisateur ou mot de passe incorrect.",
    form_expired: "Le formulaire a expiré. Veuillez réessayer.",
    provider_unavailable_here: "indisponible sur ce serveur.",
    provider_unavailable_admin: "indisponible avec cette configuration :",
    insecure_http: "Votre navigateur n'a pas renvoyé les cookies dont ce serveur a besoin : le serveur est joint en http simple sous un autre nom que localhost, et ses cookies sont marqués Secure, que les navigateurs ne gardent qu'en https. L'administrateur doit le servir en https (server.public_url = https://…), ou utiliser http://localhost pour l'essayer.",
    not_accepted: "Cela n'a pas été accepté : vérifiez ce que vous avez saisi et réessayez.",
    signed_in_as: "Connecté en tant que",
    sign_out: "Se déconnecter",
    session_until: "Cette session dure jusqu'au",
    home_title: "Votre compte",
    unavailable: "Le service est indisponible pour le moment. Veuillez réessayer plus tard.",
    challenge_title: "Authentification à deux facteurs",
    choose_method: "Choisissez une méthode",
    code: "Code",
    verify: "Vérifier",
    invalid_code: "Ce code n'est pas valide. Réessayez.",
    too_many_attempts: "Trop de tentatives échouées. Patientez un instant avant de réessayer.",
    factor_locked: "Cette méthode est verrouillée après trop de tentatives échouées. Utilisez une autre méthode ou contactez un administrateur.",
    could_not_load: "Impossible de charger au moins une de vos méthodes d'authentification à deux facteurs activées.",
    no_method_usable: "Aucune de vos méthodes à deux facteurs n'est utilisable pour le moment. Contactez un administrateur.",
    setup_required_title: "Configurer l'authentification à deux facteurs",
    setup_required_intro: "Votre administrateur exige l'authentification à deux facteurs. Configurez une application d'authentification pour continuer.",
    security_title: "Sécurité",
    backup_codes: "Codes de secours",
    backup_codes_left: "codes de secours inutilisés restants",
    backup_codes_few: "Il reste peu de codes de secours : générez-en de nouveaux.",
    weak_password_banner: "Votre mot de passe est facile à deviner ou trop courant.",
    weak_password_change: "Choisissez-en un nouveau",
    backup_codes_need_factor: "Configurez d'abord une application d'authentification : les codes de secours ne comptent qu'avec une autre méthode.",
    generate_backup_codes: "Générer de nouveaux codes de secours",
    backup_codes_once: "Notez ces codes maintenant : ils ne sont affichés qu'une fois. Chacun ne sert qu'une fois. Les anciens codes ne fonctionnent plus.",
    backup_code_used: "Vous vous êtes connecté avec un code de secours.",
    twofa_enforced: "L'authentification à deux facteurs est obligatoire pour votre compte.",
    back: "Retour",
    security_settings: "Paramètres de sécurité",
    admin_title: "Administration : sécurité",
    enforcement: "Obligation",
    enforce_2fa: "Imposer l'authentification à deux facteurs",
    group: "Groupe",
    enforced_for: "Imposée pour",
    excluded: "Exclu",
    enforcement_help: "Aucun groupe coché sous « Imposée pour » : tout le monde sauf les groupes exclus. Groupes cochés : leurs membres seulement ; un membre des deux y est soumis.",
    save: "Enregistrer",
    providers: "Méthodes",
    enabled: "activée",
    disabled: "désactivée",
    always_on: "toujours disponible",
    enable: "Activer",
    disable: "Désactiver",
    users: "Utilisateurs",
    search_users: "Chercher des utilisateurs par nom",
    search: "Chercher",
    previous_page: "Précédente",
    next_page: "Suivante",
    users_match: "utilisateurs trouvés ; page",
    page_of: "sur",
    user: "Utilisateur",
    active_methods: "Méthodes actives",
    reset: "Réinitialiser",
    yes: "oui",
    no: "non",
    saved: "Enregistré.",
    unknown_group: "Un groupe n'existe plus. Rien n'a été modifié.",
    admin_unknown_user: "Cet utilisateur n'existe plus. Rien n'a été modifié.",
    admin_unknown_method: "Cette méthode à deux facteurs n'est pas connue ici. Rien n'a été modifié.",
    admin_not_resettable: "Un administrateur ne peut pas réinitialiser cette méthode : l'utilisateur la gère (les codes de secours se remplacent en en générant de nouveaux). Rien n'a été modifié.",
    admin_always_on: "Cette méthode est toujours disponible : elle ne peut pas être désactivée. Rien n'a été modifié.",
    admin_refused: "Cette modification a été refusée. Rien n'a été modifié.",
    not_found_title: "Page introuvable",
    not_found_text: "Il n'y a pas de page à cette adresse.",
    not_found_home: "Aller à la page d'accueil",
    admin_link: "Administration",
    devices_title: "Appareils et sessions",
    app_passwords: "Mots de passe d'application",
    app_passwords_help: "Pour les clients de synchronisation (fichiers, contacts, agendas) qui ne gèrent pas l'authentification à deux facteurs. Chacun fonctionne sans second facteur : révoquez ceux que vous n'utilisez plus.",
    app_password_name: "Nom de l'appareil ou de l'application",
    create: "Créer",
    new_app_password: "Votre nouveau mot de passe d'application. Copiez-le maintenant : il n'est affiché qu'une fois.",
    login_name: "Identifiant",
    revoke: "Révoquer",
    never_used: "jamais utilisé",
    last_used: "dernière utilisation",
    browsers: "Navigateurs",
    this_browser: "ce navigateur",
    logout_everywhere: "Se déconnecter partout",
    grant_title: "Autoriser l'accès",
    grant_intro: "Cette application demande l'accès à votre compte :",
    grant_requested_from: "Demandé depuis",
    grant_check: "N'autorisez que si vous venez de lancer cette connexion vous-même, depuis le réseau de cet appareil.",
    grant: "Autoriser",
    granted: "Accès autorisé. Vous pouvez fermer cette fenêtre et revenir à l'application.",
    grant_name_untrusted: "L'application a choisi ce nom elle-même : il ne prouve rien sur qui le demande.",
    grant_confirm: "J'ai lancé cette connexion moi-même, à l'instant, et je veux donner à cette application l'accès à mon compte.",
    grant_unconfirmed: "Rien n'a été autorisé : cochez la case pour confirmer que vous avez lancé cette connexion vous-même.",
    flow_expired: "Ce lien de connexion a expiré ou a déjà été utilisé.",
    name_required: "Donnez un nom au mot de passe d'application (1 à 100 caractères).",
};

/// The name of an audit event as a person reads it.
pub fn event_name(lang: Lang, event: &str) -> &'static str {
    let (en, fr) = match event {
        "login_succeeded" => ("Signed in", "Connexion"),
        "login_failed" => ("Failed sign-in", "Échec de connexion"),
        "second_factor_passed" => ("Second factor passed", "Second facteur validé"),
        "second_factor_failed" => ("Wrong second factor", "Second facteur erroné"),
        "backup_code_used" => ("Backup code used", "Code de secours utilisé"),
        "backup_codes_generated" => ("New backup codes", "Nouveaux codes de secours"),
        "factor_added" => (
            "Two-factor method added",
            "Méthode de double authentification ajoutée",
        ),
        "factor_removed" => (
            "Two-factor method removed",
            "Méthode de double authentification supprimée",
        ),
        "admin_reset" => (
            "Reset by an administrator",
            "Réinitialisé par un administrateur",
        ),
        "app_password_created" => ("App password created", "Mot de passe d'application créé"),
        "app_password_first_used" => (
            "App password used for the first time",
            "Mot de passe d'application utilisé pour la première fois",
        ),
        "app_password_revoked" => ("App password revoked", "Mot de passe d'application révoqué"),
        "password_changed" => ("Password changed", "Mot de passe changé"),
        "sessions_ended" => ("Other sessions ended", "Autres sessions fermées"),
        "reauthenticated" => ("Identity confirmed", "Identité confirmée"),
        "enforcement_changed" => ("Enforcement changed", "Obligation modifiée"),
        "provider_changed" => ("Method switched on or off", "Méthode activée ou désactivée"),
        "throttle_triggered" => ("Attempts slowed down", "Tentatives ralenties"),
        "client_login_granted" => ("Client login granted", "Connexion de client autorisée"),
        _ => ("Other event", "Autre événement"),
    };
    match lang {
        Lang::En => en,
        Lang::Fr => fr,
    }
}

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
