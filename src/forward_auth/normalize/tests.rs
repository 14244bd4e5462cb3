use super::*;
use proptest::prelude::*;

fn clear(p: &str) -> NormalPath {
    NormalPath::Clear(p.to_string())
}

#[test]
fn paths_are_decoded_once_and_resolved() {
    let table = [
        ("/", clear("/")),
        ("/dav/a.txt", clear("/dav/a.txt")),
        ("/dav/a.txt?x=/public", clear("/dav/a.txt")),
        ("//deny/x", clear("/deny/x")),
        ("/%64eny/x", clear("/deny/x")),
        ("/public/../dav/secret.txt", clear("/dav/secret.txt")),
        ("/public/%2e%2e/dav", clear("/dav")),
        ("/public/./a/", clear("/public/a/")),
        ("/../../etc", clear("/etc")),
        ("/a/..", clear("/")),
        ("/a/b/.", clear("/a/b/")),
        ("/caf%C3%A9", clear("/café")),
        ("/a%20b", clear("/a b")),
    ];
    for (raw, want) in table {
        assert_eq!(path(raw), want, "{raw}");
    }
}

#[test]
fn ambiguous_spellings_are_flagged() {
    for raw in [
        "/public/..%2fdav/secret.txt",
        "/public/%2e%2e%2fdav",
        "/public/..%2Fdav",
        "/deny%2fx",
        "/public%5c..%5cdeny",
        "/public\\..\\deny",
        "/a%00b",
        "/a\u{0}b",
        "/%252e%252e/deny",
        "/100%25",
        "/a%2",
        "/a%zz",
        "/%ff",
        "/public/..;/deny",
        "/deny;x/a",
        "relative",
        "",
        "*",
    ] {
        assert_eq!(path(raw), NormalPath::Ambiguous, "{raw:?}");
    }
}

/// Issue 16, defect 3: nginx takes a raw `#` in the request line and passes the whole
/// target on, so `/public#/../deny/x` is `/deny/x` to a backend that gives `#` no meaning.
/// Whatever one reader cuts and another keeps is ambiguous.
#[test]
fn defect_16_3_what_one_reader_cuts_and_another_keeps_is_ambiguous() {
    for raw in [
        "/public#/../deny/x",
        "/public#",
        "/public/#/../../deny",
        "/public#?/../deny",
        "/public%23/../deny/x",
        "/public%3f/../deny/x",
        "/public%3F/x",
        "/public /../deny/x",
        "/public\t/../deny",
        "/public\u{7f}/x",
    ] {
        assert_eq!(path(raw), NormalPath::Ambiguous, "{raw:?}");
    }
    // The query is cut by every reader: what follows `?` is no path, `#` included.
    assert_eq!(path("/public/a?x=#/../deny"), clear("/public/a"));
    assert_eq!(path("/public/a?x=/../deny"), clear("/public/a"));
}

#[test]
fn hosts_lose_case_port_and_trailing_dot() {
    for (raw, want) in [
        ("files.example.test", Some("files.example.test")),
        ("Files.Example.Test.", Some("files.example.test")),
        ("files.example.test:8443", Some("files.example.test")),
        ("files.example.test.:443", Some("files.example.test")),
        ("[::1]:8080", Some("[::1]")),
        ("127.0.0.1:80", Some("127.0.0.1")),
        ("", None),
        (".", None),
        ("a..b", None),
        ("user@host", None),
        ("host/path", None),
        ("host:port", None),
        ("[::1]x", None),
        ("a b", None),
    ] {
        assert_eq!(host(raw).as_deref(), want, "{raw:?}");
    }
}

#[test]
fn prefixes_match_on_segment_boundaries() {
    assert!(within("/public", "/public"));
    assert!(within("/public/", "/public"));
    assert!(within("/public/a", "/public/"));
    assert!(!within("/public-admin/x", "/public"));
    assert!(!within("/publicity", "/public/"));
    assert!(within("/anything", ""));
    assert!(within("/anything", "/"));
}

/// The ways a backend may read a request target: the query cut off at the first `?` (by
/// every reader), then the path decoded once (nginx), decoded twice, with `\` as `/`
/// (Windows, some frameworks), with `;params` dropped (servlet containers); with the rest
/// cut at a raw `#` (a fragment, as a URL library reads it) or kept (nginx passes a raw
/// `#` on; a backend that gives it no meaning resolves what follows); cut at a raw space
/// (a request line split on spaces) or kept; and cut again at a `?` or `#` that decoding
/// produced (a reader that decodes the whole target before splitting it).
fn readings(raw: &str) -> Vec<String> {
    fn lenient_decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%'
                && i + 2 < b.len()
                && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
            {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            out.push(b[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    let cut = |s: &str, at: &[char]| s.split(at).next().unwrap_or_default().to_string();
    let raw = cut(raw, &['?']);
    let mut out = Vec::new();
    for target in [
        raw.clone(),
        cut(&raw, &['#']),
        cut(&raw, &[' ']),
        cut(&raw, &['#', ' ']),
    ] {
        let once = lenient_decode(&target);
        let twice = lenient_decode(&once);
        for s in [once, twice] {
            let split_again = cut(&s, &['?', '#']);
            for s in [s, split_again] {
                let slashes = s.replace('\\', "/");
                let no_params: String = slashes
                    .split('/')
                    .map(|seg| seg.split(';').next().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("/");
                for v in [s, slashes, no_params] {
                    out.push(remove_dot_segments(&v));
                }
            }
        }
    }
    out
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("public".to_string()),
        Just("deny".to_string()),
        Just("dav".to_string()),
        Just("%64eny".to_string()),
        Just("..".to_string()),
        Just(".".to_string()),
        Just("%2e%2e".to_string()),
        Just("..%2f".to_string()),
        Just("%2F".to_string()),
        Just("%252e%252e".to_string()),
        Just("..;".to_string()),
        Just("%5c".to_string()),
        Just("".to_string()),
        Just("public-admin".to_string()),
        Just("#".to_string()),
        Just("%23".to_string()),
        Just("%3f".to_string()),
        Just("x y".to_string()),
        "[a-z%.;#? \\\\]{0,6}",
    ]
}

fn raw_path() -> impl Strategy<Value = String> {
    prop::collection::vec(segment(), 0..7).prop_map(|s| format!("/{}", s.join("/")))
}

proptest! {
    #[test]
    fn normalizing_twice_changes_nothing(raw in raw_path()) {
        if let NormalPath::Clear(once) = path(&raw) {
            // The normalized form has no escapes left, so it reads the same again, once its
            // spaces (a raw one is ambiguous: a request line splits on it) are escaped.
            prop_assert_eq!(path(&once.replace(' ', "%20")), NormalPath::Clear(once.clone()));
        }
    }

    #[test]
    fn a_clear_path_is_what_every_backend_reads(raw in raw_path()) {
        // If we call a path clear, no other reading may lead somewhere else: otherwise a
        // lenient rule could be matched for a path a backend serves from a stricter one.
        if let NormalPath::Clear(p) = path(&raw) {
            for reading in readings(&raw) {
                prop_assert_eq!(&reading, &p, "raw {:?}", raw);
            }
        }
    }

    #[test]
    fn hosts_normalize_idempotently(raw in "[A-Za-z0-9.:-]{0,20}") {
        if let Some(h) = host(&raw) {
            prop_assert_eq!(host(&h), Some(h.clone()));
        }
    }
}
