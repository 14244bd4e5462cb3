//! Defect 2 end to end: a real nginx set up like examples/nginx.conf (the whole site behind
//! `auth_request`, WebDAV files on disk), asked for protected files through every spelling
//! that nginx decodes and normalizes differently from a naive prefix match.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use super::with_rules;
use crate::common::{Backend, TestDb};
use crate::nginx::{Nginx, auth_location, nginx_conf, start_nginx_with};

/// The site of examples/nginx.conf, with the files served from disk.
fn config(dir: &Path, port: u16, twofold: &str, id: &str) -> String {
    let auth = auth_location(
        &format!("{twofold}/api/v1/forward-auth/nginx"),
        "http://files.example.test$request_uri",
    );
    let http = format!(
        r#"  server {{
    listen 127.0.0.1:{port};
    server_name files.example.test;
    location = /_started {{ return 200 "{id}"; }}
    location / {{
      auth_request /_twofold;
      auth_request_set $tf_location $upstream_http_location;
      error_page 401 = @twofold_401;
      root {dir}/www;
    }}
{auth}    location @twofold_401 {{
      if ($tf_location) {{ return 302 $tf_location; }}
      return 401;
    }}
  }}
"#,
        dir = dir.display()
    );
    nginx_conf(dir, 64, &http)
}

async fn start(dir: &Path, twofold: &str) -> Nginx {
    for (file, body) in [
        ("public/readme.txt", "public file\n"),
        ("dav/secret.txt", "SECRET-DAV\n"),
        ("deny/x", "SECRET-DENY\n"),
        ("team/x", "SECRET-TEAM\n"),
        ("public-admin/x", "SECRET-PUBLIC-ADMIN\n"),
    ] {
        let path = dir.join("www").join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    start_nginx_with(dir, |port, id| config(dir, port, twofold, id)).await
}

/// One request written by hand: reqwest (like any URL library) would normalize the path.
fn get(port: u16, host: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_02_encoded_paths_never_reach_protected_files_through_nginx() {
    never_served(&[
        "/public/..%2fdav/secret.txt",
        "/public/%2e%2e%2fdav/secret.txt",
        "/public/..%2Fdav/secret.txt",
        "/public/%2e%2e/dav/secret.txt",
        "/public//..//dav/secret.txt",
        "//dav/secret.txt",
        "/deny/x",
        "//deny/x",
        "/deny%2fx",
        "/%64eny/x",
        "/public/..%2fdeny/x",
        "/team/x",
        "/%74eam/x",
        "/public-admin/x",
        "/public%2f..%2fteam/x",
    ])
    .await;
}

/// Issue 16, defect 3: what one reader cuts at and another keeps. nginx takes a raw `#` in
/// the request line and passes the whole target on (`$request_uri`) while it serves
/// files by the part before it; a backend that gives `#` no meaning reads what follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_16_3_targets_cut_differently_never_reach_protected_files_through_nginx() {
    never_served(&[
        "/public#/../deny/x",
        "/public/readme.txt#/../../dav/secret.txt",
        "/public/readme.txt#",
        "/public%23/../deny/x",
        "/public%3f/../deny/x",
        "/public%3F/../../team/x",
        "/public\\..\\deny\\x",
        "/public\t/../deny/x",
        "/public\x01/../deny/x",
        "/public /../deny/x",
    ])
    .await;
}

/// Asks nginx for each of `paths` (spellings of protected files) and checks that it
/// refuses each one and serves no protected file.
async fn never_served(paths: &[&'static str]) {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = with_rules(&db, &[]).await;
    let nginx = start(&db.dir.path().join("nginx"), &server.base).await;
    let port = nginx.port;
    let ask = move |host: &'static str, path: &'static str| {
        tokio::task::spawn_blocking(move || get(port, host, path).expect("nginx answers"))
    };
    // Sanity: the bypass serves its file, and the protected file is refused when asked
    // for plainly.
    let (s, body) = ask("files.example.test", "/public/readme.txt")
        .await
        .unwrap();
    assert_eq!((s, body.as_str()), (200, "public file\n"));
    assert_eq!(
        ask("files.example.test", "/dav/secret.txt")
            .await
            .unwrap()
            .0,
        401
    );
    for &path in paths {
        let (status, body) = ask("files.example.test", path).await.unwrap();
        assert!(
            !body.contains("SECRET"),
            "{path:?}: {status} served a protected file"
        );
        assert!(
            matches!(status, 401 | 403 | 400 | 404),
            "{path:?}: {status}"
        );
    }
    // The same site under its name with a trailing dot.
    let (status, body) = ask("files.example.test.", "/dav/secret.txt").await.unwrap();
    assert!(!body.contains("SECRET"), "trailing dot: {status}");
}
