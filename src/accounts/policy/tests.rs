use super::*;

fn default_policy() -> PasswordPolicy {
    PasswordPolicy::new(&PasswordConfig::default(), "Acme Login")
}

fn check(password: &str) -> Result<(), Weakness> {
    default_policy().check(
        &normalize(password),
        Context {
            uid: "jdupont",
            display_name: "Jeanne Dupont",
        },
    )
}

#[test]
fn the_default_policy_refuses_what_people_actually_choose() {
    use Weakness::*;
    let table: &[(&str, Result<(), Weakness>)] = &[
        ("short", Err(TooShort(10))),
        ("123456789", Err(TooShort(10))),
        ("qwertyuiop", Err(Common)),
        ("QWERTYUIOP", Err(Common)),
        ("1234567890", Err(Common)),
        ("nextcloud123", Err(Guessable)),
        ("Password12", Err(Common)),
        ("Password123!", Err(Guessable)),
        ("jdupont-2024-xyz", Err(ContainsUserName)),
        ("JDUPONT rides bikes", Err(ContainsUserName)),
        ("dupont staple battery", Err(ContainsDisplayName)),
        ("my Twofold horse battery", Err(ContainsServiceName)),
        ("acme horse battery staple", Err(ContainsServiceName)),
        ("correct horse battery staple", Ok(())),
        ("velvet-otter-quarry-89", Ok(())),
        ("Wg7#pL2qZx9v", Ok(())),
    ];
    let wrong: Vec<_> = table
        .iter()
        .map(|(p, expected)| (p, expected, check(p)))
        .filter(|(_, expected, got)| got != *expected)
        .collect();
    assert!(wrong.is_empty(), "(password, expected, got): {wrong:?}");
}

#[test]
fn length_limits_count_characters_and_never_cut() {
    let policy = default_policy();
    let long: String = "correct horse battery staple ".repeat(9);
    assert!(long.chars().count() > 256);
    assert_eq!(
        policy.check(&long, Context::default()),
        Err(Weakness::TooLong(256))
    );
    // 10 characters of 2 bytes each are 10 characters, not 20.
    assert_eq!(
        policy.check("éééééàààà", Context::default()),
        Err(Weakness::TooShort(10))
    );
}

#[test]
fn short_context_parts_are_not_looked_for() {
    let policy = default_policy();
    let context = Context {
        uid: "al",
        display_name: "Al B",
    };
    assert_eq!(
        policy.check("always correct horse battery", context),
        Ok(())
    );
}

#[test]
fn a_lenient_score_still_refuses_common_passwords_and_names() {
    let config = PasswordConfig {
        min_score: 0,
        min_length: 8,
        ..PasswordConfig::default()
    };
    let policy = PasswordPolicy::new(&config, "");
    let context = Context {
        uid: "alice",
        display_name: "alice",
    };
    assert_eq!(policy.check("password-a", context), Ok(()));
    assert_eq!(policy.check("password", context), Err(Weakness::Common));
    assert_eq!(
        policy.check("alice-password", context),
        Err(Weakness::ContainsUserName)
    );
}

#[test]
fn nfkc_makes_one_password_of_its_spellings() {
    // "é" precomposed and "e" + combining acute; a full-width digit and an ASCII one.
    assert_eq!(normalize("caf\u{e9}"), normalize("cafe\u{301}"));
    assert_eq!(normalize("\u{ff11}"), "1");
    assert_eq!(normalize("plain ascii"), "plain ascii");
    // A user name typed in full-width letters is still the user name.
    assert_eq!(
        check("\u{ff4a}\u{ff44}\u{ff55}\u{ff50}\u{ff4f}\u{ff4e}\u{ff54} horse battery"),
        Err(Weakness::ContainsUserName)
    );
}

#[test]
fn every_reason_has_a_code_and_both_languages() {
    use Weakness::*;
    for w in [
        TooShort(10),
        TooLong(256),
        Common,
        Breached,
        ContainsUserName,
        ContainsDisplayName,
        ContainsServiceName,
        Guessable,
    ] {
        assert!(!w.code().is_empty());
        assert_ne!(w.message(false), w.message(true));
    }
    assert_eq!(
        TooShort(10).message(false),
        "too short: at least 10 characters"
    );
}
