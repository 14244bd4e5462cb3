//! The TOTP provider's texts in English and French.

pub struct Texts {
    pub name: &'static str,
    pub scan_qr: &'static str,
    pub download_qr: &'static str,
    pub enter_code: &'static str,
    pub active: &'static str,
    pub inactive: &'static str,
    pub set_up: &'static str,
    pub remove: &'static str,
    pub verify: &'static str,
}

pub const EN: Texts = Texts {
    name: "Authenticator app (TOTP)",
    scan_qr: "Scan this QR code with your authenticator app, or enter the key by hand:",
    download_qr: "Download the QR code (PNG)",
    enter_code: "Then enter the code the app shows:",
    active: "Authenticator app: active",
    inactive: "Authenticator app: not set up",
    set_up: "Set up an authenticator app",
    remove: "Remove the authenticator app",
    verify: "Verify",
};

pub const FR: Texts = Texts {
    name: "Application d'authentification (TOTP)",
    scan_qr: "Scannez ce code QR avec votre application d'authentification, ou saisissez la clé à la main :",
    download_qr: "Télécharger le code QR (PNG)",
    enter_code: "Puis saisissez le code affiché par l'application :",
    active: "Application d'authentification : active",
    inactive: "Application d'authentification : non configurée",
    set_up: "Configurer une application d'authentification",
    remove: "Supprimer l'application d'authentification",
    verify: "Vérifier",
};

/// The texts in `lang` (`en`, `fr`); English for anything else.
pub fn for_lang(lang: &str) -> &'static Texts {
    crate::providers::in_lang(lang, &EN, &FR)
}
