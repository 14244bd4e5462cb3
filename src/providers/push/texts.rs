//! The push provider's texts in English and French.

pub struct Texts {
    pub name: &'static str,
    pub send: &'static str,
    pub send_intro: &'static str,
    pub waiting: &'static str,
    pub number_intro: &'static str,
    pub expires: &'static str,
    pub check_now: &'static str,
    pub paused: &'static str,
    pub settings_intro: &'static str,
    pub turn_on: &'static str,
    pub turn_off: &'static str,
    pub is_on: &'static str,
    pub approvers: &'static str,
    pub no_approvers: &'static str,
    pub rejected: &'static str,
    pub expired: &'static str,
}

pub const EN: Texts = Texts {
    name: "Approve on another device",
    send: "Send a sign-in request to my other devices",
    send_intro: "Approve this sign-in from a device where you are already signed in (with your second factor).",
    waiting: "Waiting for your approval on another device…",
    number_intro: "On your other device, pick this number:",
    expires: "The request expires at",
    check_now: "Check now",
    paused: "Sign-in requests are paused after too many were rejected or ignored. Use another method. Requests resume at",
    settings_intro: "After your password, a sign-in waits until you approve it on another device where you are signed in: a browser tab or phone with this site open, or an app with a two-factor app password. The device shows a number to pick, the one the signing-in screen shows, so a stray tap cannot let anyone in.",
    turn_on: "Turn on sign-in approval",
    turn_off: "Turn off",
    is_on: "Sign-in approval is on.",
    approvers: "Devices that can approve now:",
    no_approvers: "No other device can approve yet: sign in on another device (with your second factor), or create a two-factor app password, before turning this on. Keep your backup codes: they work if no device is at hand.",
    rejected: "The sign-in request was rejected.",
    expired: "The sign-in request expired.",
};

pub const FR: Texts = Texts {
    name: "Approuver sur un autre appareil",
    send: "Envoyer une demande de connexion à mes autres appareils",
    send_intro: "Approuvez cette connexion depuis un appareil où vous êtes déjà connecté (avec votre second facteur).",
    waiting: "En attente de votre approbation sur un autre appareil…",
    number_intro: "Sur votre autre appareil, choisissez ce nombre :",
    expires: "La demande expire à",
    check_now: "Vérifier maintenant",
    paused: "Les demandes de connexion sont suspendues : trop ont été refusées ou ignorées. Utilisez une autre méthode. Elles reprennent à",
    settings_intro: "Après votre mot de passe, une connexion attend que vous l'approuviez sur un autre appareil où vous êtes connecté : un onglet ou un téléphone avec ce site ouvert, ou une application avec un mot de passe d'application à deux facteurs. L'appareil affiche un nombre à choisir, celui de l'écran de connexion : un appui par erreur ne laisse entrer personne.",
    turn_on: "Activer l'approbation des connexions",
    turn_off: "Désactiver",
    is_on: "L'approbation des connexions est activée.",
    approvers: "Appareils pouvant approuver maintenant :",
    no_approvers: "Aucun autre appareil ne peut encore approuver : connectez-vous sur un autre appareil (avec votre second facteur) ou créez un mot de passe d'application à deux facteurs avant d'activer ceci. Gardez vos codes de secours : ils servent si aucun appareil n'est à portée de main.",
    rejected: "La demande de connexion a été refusée.",
    expired: "La demande de connexion a expiré.",
};

pub fn for_lang(lang: &str) -> &'static Texts {
    super::super::in_lang(lang, &EN, &FR)
}
