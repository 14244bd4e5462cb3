use super::*;

const SEED_SHA1: &[u8] = b"12345678901234567890";
const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

fn params(algorithm: Algorithm, digits: u32) -> TotpParams {
    TotpParams {
        algorithm,
        digits,
        period: 30,
    }
}

#[test]
fn rfc6238_appendix_b_vectors() {
    // (time, SHA1, SHA256, SHA512), 8 digits, period 30, T0 = 0.
    let vectors: [(u64, &str, &str, &str); 6] = [
        (59, "94287082", "46119246", "90693936"),
        (1111111109, "07081804", "68084774", "25091201"),
        (1111111111, "14050471", "67062674", "99943326"),
        (1234567890, "89005924", "91819424", "93441116"),
        (2000000000, "69279037", "90698825", "38618901"),
        (20000000000, "65353130", "77737706", "47863826"),
    ];
    for (time, sha1, sha256, sha512) in vectors {
        for (seed, algorithm, expected) in [
            (SEED_SHA1, Algorithm::Sha1, sha1),
            (SEED_SHA256, Algorithm::Sha256, sha256),
            (SEED_SHA512, Algorithm::Sha512, sha512),
        ] {
            let p = params(algorithm, 8);
            assert_eq!(code_at(seed, &p, time), expected, "{algorithm:?} at {time}");
            assert_eq!(
                verify(seed, &p, expected, time, 0, None),
                Some(step_at(time, 30)),
                "{algorithm:?} at {time}"
            );
        }
    }
}

#[test]
fn rfc4226_appendix_d_values() {
    let expected = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];
    for (counter, code) in expected.iter().enumerate() {
        assert_eq!(
            hotp(SEED_SHA1, counter as u64, Algorithm::Sha1, 6),
            *code,
            "counter {counter}"
        );
    }
}

#[test]
fn hotp_pads_with_zeros_and_refuses_impossible_lengths() {
    // Step 37037036 (time 1111111109) gives 07081804 in 8 digits, so 081804 in 6.
    assert_eq!(hotp(SEED_SHA1, 37037036, Algorithm::Sha1, 6), "081804");
    assert_eq!(hotp(SEED_SHA1, 0, Algorithm::Sha1, 0), "");
    assert_eq!(hotp(SEED_SHA1, 0, Algorithm::Sha1, 11), "");
}

#[test]
fn algorithm_names_round_trip_case_insensitively() {
    for a in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
        assert_eq!(Algorithm::parse(a.as_str()), Some(a));
        assert_eq!(Algorithm::parse(&a.as_str().to_lowercase()), Some(a));
    }
    assert_eq!(Algorithm::parse("sha256"), Some(Algorithm::Sha256));
    assert_eq!(Algorithm::parse("md5"), None);
    assert_eq!(Algorithm::parse(""), None);
}

#[test]
fn default_params_are_what_every_app_supports() {
    assert_eq!(TotpParams::default(), params(Algorithm::Sha1, 6));
}

#[test]
fn generated_secrets_are_160_bits_and_differ() {
    let a = generate_secret();
    let b = generate_secret();
    assert_eq!(a.len(), 20);
    assert_ne!(a, b);
}

#[test]
fn base32_matches_rfc4648_vectors() {
    // RFC 4648 section 10, without padding.
    let vectors = [
        ("", ""),
        ("f", "MY"),
        ("fo", "MZXQ"),
        ("foo", "MZXW6"),
        ("foob", "MZXW6YQ"),
        ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI"),
    ];
    for (plain, encoded) in vectors {
        assert_eq!(to_base32(plain.as_bytes()), encoded);
        assert_eq!(from_base32(encoded).unwrap(), plain.as_bytes());
    }
    assert_eq!(to_base32(SEED_SHA1), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

#[test]
fn base32_round_trips() {
    for len in 0..70 {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
        assert_eq!(
            from_base32(&to_base32(&bytes)).unwrap(),
            bytes,
            "length {len}"
        );
    }
    let secret = generate_secret();
    assert_eq!(from_base32(&to_base32(&secret)).unwrap(), secret);
}

#[test]
fn base32_decoding_is_tolerant_of_how_people_type() {
    assert_eq!(from_base32("mzxw 6ytb oi======").unwrap(), b"foobar");
    assert_eq!(from_base32("MzXw6YtBoI").unwrap(), b"foobar");
    assert_eq!(from_base32("MZXW6YQ=").unwrap(), b"foob");
}

#[test]
fn base32_decoding_refuses_garbage() {
    assert_eq!(from_base32("MZXW1"), None, "1 is not in the alphabet");
    assert_eq!(from_base32("MZXW-6"), None);
    assert_eq!(from_base32("M"), None, "a lone symbol is not a byte");
    assert_eq!(from_base32("MZX"), None);
    assert_eq!(from_base32("MZXW6Y"), None);
    assert_eq!(from_base32("é"), None);
}

#[test]
fn verify_accepts_codes_within_skew() {
    let p = TotpParams::default();
    let now = 1_700_000_015;
    let step = step_at(now, 30);
    for skew in [0u64, 1, 2] {
        for delta in -(skew as i64)..=skew as i64 {
            let target = step.checked_add_signed(delta).unwrap();
            let code = hotp(SEED_SHA1, target, Algorithm::Sha1, 6);
            assert_eq!(
                verify(SEED_SHA1, &p, &code, now, skew, None),
                Some(target),
                "skew {skew} delta {delta}"
            );
        }
    }
}

#[test]
fn verify_refuses_codes_just_outside_skew() {
    let p = TotpParams::default();
    let now = 1_700_000_015;
    let step = step_at(now, 30);
    for skew in [0u64, 1, 2] {
        for target in [step - skew - 1, step + skew + 1] {
            let code = hotp(SEED_SHA1, target, Algorithm::Sha1, 6);
            assert_eq!(
                verify(SEED_SHA1, &p, &code, now, skew, None),
                None,
                "skew {skew} step {target}"
            );
        }
    }
}

#[test]
fn verify_near_the_epoch_does_not_underflow() {
    let p = TotpParams::default();
    let code = hotp(SEED_SHA1, 0, Algorithm::Sha1, 6);
    assert_eq!(verify(SEED_SHA1, &p, &code, 5, 3, None), Some(0));
    let last = hotp(SEED_SHA1, step_at(u64::MAX, 30), Algorithm::Sha1, 6);
    assert_eq!(
        verify(SEED_SHA1, &p, &last, u64::MAX, 3, None),
        Some(step_at(u64::MAX, 30))
    );
}

#[test]
fn verify_caps_the_skew_window() {
    let p = TotpParams::default();
    let now = 1_700_000_015;
    let step = step_at(now, 30);
    let edge = hotp(SEED_SHA1, step - MAX_SKEW, Algorithm::Sha1, 6);
    assert_eq!(
        verify(SEED_SHA1, &p, &edge, now, u64::MAX, None),
        Some(step - MAX_SKEW)
    );
    let beyond = hotp(SEED_SHA1, step + MAX_SKEW + 1, Algorithm::Sha1, 6);
    assert_eq!(verify(SEED_SHA1, &p, &beyond, now, u64::MAX, None), None);
}

#[test]
fn replay_guard_refuses_the_same_or_an_older_step() {
    let p = TotpParams::default();
    let now = 1_700_000_015;
    let step = step_at(now, 30);
    let code = code_at(SEED_SHA1, &p, now);
    assert_eq!(
        verify(SEED_SHA1, &p, &code, now, 1, Some(step - 1)),
        Some(step)
    );
    assert_eq!(
        verify(SEED_SHA1, &p, &code, now, 1, Some(step)),
        None,
        "same step replayed"
    );
    assert_eq!(
        verify(SEED_SHA1, &p, &code, now, 1, Some(step + 1)),
        None,
        "newer step already used"
    );

    // A still-valid code from the previous step, after the current one was used.
    let older = hotp(SEED_SHA1, step - 1, Algorithm::Sha1, 6);
    assert_eq!(verify(SEED_SHA1, &p, &older, now, 1, None), Some(step - 1));
    assert_eq!(
        verify(SEED_SHA1, &p, &older, now, 1, Some(step)),
        None,
        "older step"
    );
}

#[test]
fn verify_refuses_malformed_codes() {
    let p = TotpParams::default();
    let now = 1_700_000_015;
    let code = code_at(SEED_SHA1, &p, now);
    for bad in [
        "",
        &code[..5],
        &format!("{code}0"),
        &format!("{}a", &code[..5]),
        &format!("{}.{}", &code[..3], &code[3..]),
        &format!("{}_{}", &code[..3], &code[3..]),
        &format!("{}\u{a0}{}", &code[..3], &code[3..]),
        &format!("{}\t{}", &code[..3], &code[3..]),
        "12345٣",
        "-12345",
        "+12345",
        "١٢٣٤٥٦",
    ] {
        assert_eq!(verify(SEED_SHA1, &p, bad, now, 1, None), None, "{bad:?}");
    }
    // A wrong code of the right shape.
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    assert_eq!(verify(SEED_SHA1, &p, &wrong, now, 0, None), None);
}

#[test]
fn verify_refuses_impossible_params_without_panicking() {
    let code = "123456";
    let zero_period = TotpParams {
        period: 0,
        ..TotpParams::default()
    };
    assert_eq!(
        verify(SEED_SHA1, &zero_period, code, 1_700_000_000, 1, None),
        None
    );
    assert_eq!(step_at(1_700_000_000, 0), 0);
    let zero_digits = params(Algorithm::Sha1, 0);
    assert_eq!(
        verify(SEED_SHA1, &zero_digits, "", 1_700_000_000, 1, None),
        None
    );
    let huge_digits = params(Algorithm::Sha1, u32::MAX);
    assert_eq!(
        verify(SEED_SHA1, &huge_digits, code, 1_700_000_000, 1, None),
        None
    );
    // An empty secret is a valid (if useless) HMAC key: it yields codes, not a panic.
    let empty_key_code = hotp(&[], 0, Algorithm::Sha1, 6);
    assert_eq!(empty_key_code.len(), 6);
    assert_eq!(
        verify(&[], &TotpParams::default(), &empty_key_code, 0, 0, None),
        Some(0)
    );
}

#[test]
fn verify_honours_per_secret_params() {
    let p = TotpParams {
        algorithm: Algorithm::Sha256,
        digits: 8,
        period: 60,
    };
    let now = 1_700_000_000;
    let code = code_at(SEED_SHA256, &p, now);
    assert_eq!(code.len(), 8);
    assert_eq!(code, hotp(SEED_SHA256, now / 60, Algorithm::Sha256, 8));
    assert_eq!(verify(SEED_SHA256, &p, &code, now, 0, None), Some(now / 60));
    // The same secret read with the default params gives another code.
    assert_eq!(
        verify(
            SEED_SHA256,
            &TotpParams::default(),
            &code[..6],
            now,
            1,
            None
        ),
        None
    );
}

#[test]
fn otpauth_uri_has_the_expected_shape() {
    let uri = otpauth_uri(SEED_SHA1, &TotpParams::default(), "Twofold", "alice");
    assert_eq!(
        uri,
        "otpauth://totp/Twofold:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
         &issuer=Twofold&algorithm=SHA1&digits=6&period=30"
    );
    let p = TotpParams {
        algorithm: Algorithm::Sha512,
        digits: 8,
        period: 60,
    };
    let uri = otpauth_uri(SEED_SHA1, &p, "Twofold", "alice");
    assert!(
        uri.ends_with("&algorithm=SHA512&digits=8&period=60"),
        "{uri}"
    );
}

#[test]
fn otpauth_uri_percent_encodes_label_and_issuer() {
    let uri = otpauth_uri(
        b"abcde",
        &TotpParams::default(),
        "My Org",
        "bob@example.com",
    );
    assert_eq!(
        uri,
        "otpauth://totp/My%20Org:bob%40example.com?secret=MFRGGZDF\
         &issuer=My%20Org&algorithm=SHA1&digits=6&period=30"
    );
    let uri = otpauth_uri(b"abcde", &TotpParams::default(), "A&B=C?", "x:y/é~._-");
    assert!(
        uri.starts_with("otpauth://totp/A%26B%3DC%3F:x%3Ay%2F%C3%A9~._-?secret="),
        "{uri}"
    );
    assert!(uri.contains("&issuer=A%26B%3DC%3F&"), "{uri}");
}

#[test]
fn otpauth_uri_without_issuer_has_a_bare_label() {
    let uri = otpauth_uri(b"abcde", &TotpParams::default(), "", "bob");
    assert_eq!(
        uri,
        "otpauth://totp/bob?secret=MFRGGZDF&algorithm=SHA1&digits=6&period=30"
    );
}

#[test]
fn defect_17_13_verify_accepts_codes_typed_with_spaces_or_dashes() {
    let p = TotpParams::default();
    let now = 1_700_000_015;
    let code = code_at(SEED_SHA1, &p, now);
    let step = step_at(now, p.period);
    for typed in [
        format!("{} {}", &code[..3], &code[3..]),
        format!("{}-{}", &code[..3], &code[3..]),
        format!(" {code} "),
        format!("{} {} {}", &code[..2], &code[2..4], &code[4..]),
    ] {
        assert_eq!(
            verify(SEED_SHA1, &p, &typed, now, 1, None),
            Some(step),
            "{typed:?}"
        );
    }
    // Stripping does not turn a short code into a valid one.
    assert_eq!(
        verify(SEED_SHA1, &p, &format!("{} -", &code[..5]), now, 1, None),
        None
    );
}
