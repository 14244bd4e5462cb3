//! The documented deployment (docs/deployment.md, examples/nginx.conf) in a real browser:
//! twofold at https://auth.example.org, an app at https://files.example.org behind nginx's
//! `auth_request`, one real nginx serving both names over https with a self-signed
//! certificate, Debian's Chromium driven by tests/browser/return.mjs. Every way of signing
//! in must end on the app's page: the redirect after the last login form goes to another
//! origin, which the page's CSP `form-action` must allow (issue 17).

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::common::{Backend, Server, TestDb, text};
use crate::nginx::{auth_location, nginx_conf, start_nginx_with};
use crate::two_factor::enroll_totp;

const APP_PAGE: &str = "<!doctype html><title>Files</title><h1>Protected files</h1>\n";

/// A self-signed certificate for example.org and its subdomains in `dir`; returns the
/// base64 SHA-256 of its public key, which Chromium can be told to trust.
fn self_signed_certificate(dir: &Path) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=example.org", "-addext"])
        .arg("subjectAltName=DNS:example.org,DNS:*.example.org,DNS:*.team.example.org")
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .expect("openssl is installed (Debian package openssl)");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let spki = Command::new("sh")
        .arg("-c")
        .arg(
            "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform der \
             | openssl dgst -sha256 -binary | base64",
        )
        .arg("sh")
        .arg(dir.join("cert.pem"))
        .output()
        .unwrap();
    assert!(spki.status.success(), "{}", text(&spki.stderr));
    text(&spki.stdout).trim().to_string()
}

/// examples/nginx.conf on one https port: the portal at auth.example.org, the app (files
/// on disk) at files.example.org and notes.team.example.org. A plain HTTP request to the
/// port (the start check) is answered by the default server with `id`.
fn config(dir: &Path, port: u16, id: &str, twofold: &str) -> String {
    let auth = auth_location(
        &format!("{twofold}/api/v1/forward-auth/nginx"),
        "https://$host:$server_port$request_uri",
    );
    let http = format!(
        r#"  ssl_certificate {dir}/tls/cert.pem;
  ssl_certificate_key {dir}/tls/key.pem;
  server {{
    listen 127.0.0.1:{port} ssl default_server;
    error_page 497 = @started;
    location @started {{ return 200 "{id}"; }}
    location / {{ return 404; }}
  }}
  server {{
    listen 127.0.0.1:{port} ssl;
    server_name auth.example.org;
    location / {{
      proxy_pass {twofold};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
    }}
  }}
  server {{
    listen 127.0.0.1:{port} ssl;
    server_name files.example.org notes.team.example.org;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_login_path_returns_to_the_app_in_chromium() {
    let db = TestDb::new(Backend::Sqlite).await;
    for uid in ["paula", "tom", "sam", "kim", "erin"] {
        db.add_user(uid, &format!("secret-of-{}", uid.len()));
    }
    // Sam must set up a second factor at login.
    for args in [
        &["group", "add", "staff"][..],
        &["group", "add-member", "staff", "sam"],
        &["twofactorauth", "enforce", "--on", "--group", "staff"],
    ] {
        let out = db.cli(args, "");
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
    // Tom has TOTP, set up through the API of a server on plain http (the https one's
    // cookies are `Secure`, which the test's http client would not send back to it).
    let totp = {
        let plain = Server::start(&db).await;
        enroll_totp(&plain, "tom", "secret-of-3").await.1
    };

    // nginx first: twofold's public URL carries nginx's port. Then twofold, then nginx
    // again with twofold's address.
    let dir = db.dir.path().join("nginx");
    let spki = self_signed_certificate(&dir.join("tls"));
    std::fs::create_dir_all(dir.join("www")).unwrap();
    std::fs::write(dir.join("www/index.html"), APP_PAGE).unwrap();
    let nowhere = "http://127.0.0.1:9";
    let nginx = start_nginx_with(&dir, |port, id| config(&dir, port, id, nowhere)).await;
    let origin = |host: &str| format!("https://{host}:{}", nginx.port);
    let auth = origin("auth.example.org");
    let server = Server::start_with(
        &db,
        &[
            ("TWOFOLD_SERVER_PUBLIC_URL", &auth),
            ("TWOFOLD_SESSION_COOKIE_DOMAIN", "example.org"),
            ("TWOFOLD_FORWARD_AUTH_ALLOWED_DOMAINS", "example.org"),
            ("TWOFOLD_FORWARD_AUTH_DEFAULT_POLICY", "one_factor"),
        ],
    )
    .await;
    nginx
        .reload(&dir, |port, id| config(&dir, port, id, &server.base))
        .await;
    // Forms may lead to twofold and the allowed domain only (on any port, as return URLs).
    let login = reqwest::get(server.url("/login")).await.unwrap();
    let csp = login.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains(
            "form-action 'self' https://auth.example.org:* https://*.auth.example.org:* \
             https://example.org:* https://*.example.org:*;"
        ),
        "{csp}"
    );

    let users: serde_json::Map<String, Value> = ["paula", "tom", "sam", "kim", "erin"]
        .iter()
        .map(|uid| {
            let totp = (*uid == "tom").then_some(totp.as_str());
            let user = json!({"password": format!("secret-of-{}", uid.len()), "totp": totp});
            (uid.to_string(), user)
        })
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/return.mjs");
    let out = Command::new("node")
        .arg(script)
        .env("TWOFOLD_AUTH", &auth)
        .env("TWOFOLD_APP", origin("files.example.org"))
        .env("TWOFOLD_OTHER_APP", origin("notes.team.example.org"))
        .env("TWOFOLD_EVIL", origin("evil.example.net"))
        .env("TWOFOLD_SPKI", &spki)
        .env("TWOFOLD_USERS", Value::Object(users).to_string())
        .output()
        .expect("node is installed");
    assert!(
        out.status.success(),
        "browser run failed:\n{}\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr),
        server.stderr()
    );
    let seen: Value = serde_json::from_str(text(&out.stdout).lines().last().unwrap()).unwrap();
    for (path, app) in [
        ("password", "files.example.org"),
        ("totp", "files.example.org"),
        ("setup", "files.example.org"),
        ("passkey", "files.example.org"),
        ("subdomain", "notes.team.example.org"),
    ] {
        let run = &seen[path];
        assert_eq!(run["error"], Value::Null, "{path}: {run:#}");
        assert_eq!(run["url"], format!("{}/", origin(app)), "{path}: {run:#}");
        assert_eq!(run["heading"], "Protected files", "{path}: {run:#}");
        let console = run["console"].as_array().unwrap();
        assert!(
            !console
                .iter()
                .any(|m| m.as_str().unwrap().contains("Content Security Policy")),
            "{path}: {run:#}"
        );
    }
    // A form posted to any other origin is still refused by the browser.
    let foreign = &seen["foreignForm"];
    assert_eq!(foreign["url"], format!("{auth}/login"), "{foreign:#}");
    assert!(
        foreign["console"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m.as_str().unwrap().contains("form-action")),
        "{foreign:#}"
    );
}
