//! The WebAuthn provider's texts in English and French (the pages show them through
//! `web::i18n`, which holds a reference to these).

pub struct Texts {
    pub name: &'static str,
    pub passkeys: &'static str,
    pub passkeys_intro: &'static str,
    pub no_passkeys: &'static str,
    pub passkey_name: &'static str,
    pub add_passkey: &'static str,
    pub sign_in_passkey: &'static str,
    pub credential_twice: &'static str,
    pub use_security_key: &'static str,
    pub webauthn_failed: &'static str,
    pub security_keys: &'static str,
    pub security_keys_intro: &'static str,
    pub key_name: &'static str,
    pub add_security_key: &'static str,
    pub remove_key: &'static str,
    pub rename_key: &'static str,
    pub key_added: &'static str,
    pub no_keys: &'static str,
}

pub const EN: Texts = Texts {
    name: "Security key",
    passkeys: "Passkeys",
    passkeys_intro: "A passkey signs you in without your password: your device checks your PIN, fingerprint or face. It counts as two factors. A key used as a passkey cannot also be your second-factor key.",
    no_passkeys: "No passkey yet: you sign in with your password.",
    passkey_name: "Name of the passkey",
    add_passkey: "Add a passkey",
    sign_in_passkey: "Sign in with a passkey",
    credential_twice: "This authenticator is already registered for your account, as a second-factor key or as a passkey. One credential cannot be both: use another key, or remove the other registration first.",
    use_security_key: "Use your security key",
    webauthn_failed: "The security key did not work:",
    security_keys: "Security keys",
    security_keys_intro: "A security key (or this device's fingerprint or face sign-in) as a second factor. You can register several; any of them works.",
    key_name: "Name of the key",
    add_security_key: "Add a security key",
    remove_key: "Remove",
    rename_key: "Rename",
    key_added: "added",
    no_keys: "No security key yet.",
};

pub const FR: Texts = Texts {
    name: "Clé de sécurité",
    passkeys: "Clés d'accès",
    passkeys_intro: "Une clé d'accès vous connecte sans mot de passe : votre appareil vérifie votre code, votre empreinte ou votre visage. Elle compte pour deux facteurs. Une clé utilisée comme clé d'accès ne peut pas aussi être votre clé de second facteur.",
    no_passkeys: "Aucune clé d'accès pour l'instant : vous vous connectez avec votre mot de passe.",
    passkey_name: "Nom de la clé d'accès",
    add_passkey: "Ajouter une clé d'accès",
    sign_in_passkey: "Se connecter avec une clé d'accès",
    credential_twice: "Cet authentificateur est déjà enregistré pour votre compte, comme clé de second facteur ou comme clé d'accès. Une même clé ne peut pas être les deux : utilisez-en une autre, ou supprimez d'abord l'autre enregistrement.",
    use_security_key: "Utiliser votre clé de sécurité",
    webauthn_failed: "La clé de sécurité n'a pas fonctionné :",
    security_keys: "Clés de sécurité",
    security_keys_intro: "Une clé de sécurité (ou l'empreinte ou la reconnaissance faciale de cet appareil) comme second facteur. Vous pouvez en enregistrer plusieurs ; chacune fonctionne.",
    key_name: "Nom de la clé",
    add_security_key: "Ajouter une clé de sécurité",
    remove_key: "Supprimer",
    rename_key: "Renommer",
    key_added: "ajoutée le",
    no_keys: "Aucune clé de sécurité pour l'instant.",
};

/// The texts in `lang` (`en`, `fr`); English for anything else.
pub fn for_lang(lang: &str) -> &'static Texts {
    crate::providers::in_lang(lang, &EN, &FR)
}
