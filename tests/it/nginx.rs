//! Real nginx (Debian package, on a loopback port) protecting a WebDAV location with
//! twofold's forward-auth: app passwords PUT and GET, the main password of a 2FA user
//! is refused, a browser session that passed 2FA gets in, and a browser without one is
//! sent to the portal.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Backend, Server, TestDb, browser};
use crate::two_factor::oathtool;

/// nginx as a child process with its own prefix, config and logs; killed when dropped.
pub struct Nginx {
    pub base: String,
    pub port: u16,
    child: Child,
}

impl Drop for Nginx {
    /// SIGTERM, not SIGKILL: a killed master leaves its workers behind.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// What every test nginx shares: in the foreground, its files in `dir`, no access log.
/// `http` is the inside of the `http {}` block.
pub fn nginx_conf(dir: &Path, worker_connections: u32, http: &str) -> String {
    format!(
        r#"
user root;
daemon off;
worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections {worker_connections}; }}
http {{
  access_log off;
  client_body_temp_path {dir}/tmp/body;
  proxy_temp_path {dir}/tmp/proxy;
  fastcgi_temp_path {dir}/tmp/fastcgi;
  uwsgi_temp_path {dir}/tmp/uwsgi;
  scgi_temp_path {dir}/tmp/scgi;
{http}}}
"#,
        dir = dir.display()
    )
}

/// The internal location that asks twofold, as examples/nginx.conf sets it up: the
/// forward-auth endpoint at `forward_auth`, the original request as `original_url`.
pub fn auth_location(forward_auth: &str, original_url: &str) -> String {
    format!(
        r#"    location = /_twofold {{
      internal;
      proxy_pass {forward_auth};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URL {original_url};
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Forwarded-For $remote_addr;
    }}
"#
    )
}

pub fn nginx_config(dir: &Path, port: u16, twofold: &str, id: &str) -> String {
    let auth = auth_location(
        &format!("{twofold}/api/v1/forward-auth/nginx"),
        "$scheme://$http_host$request_uri",
    );
    let http = format!(
        r#"  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{port};
    # Proves to the test that this nginx, not another process, holds the port.
    location = /_started {{ return 200 "{id}"; }}
    location /dav/ {{
      auth_request /_twofold;
      auth_request_set $tf_user $upstream_http_remote_user;
      auth_request_set $tf_location $upstream_http_location;
      auth_request_set $tf_reason $upstream_http_x_twofold_reason;
      error_page 401 = @twofold_401;
      root {dir}/www;
      dav_methods PUT DELETE MKCOL;
      create_full_put_path on;
      add_header X-Remote-User $tf_user always;
    }}
{auth}    location @twofold_401 {{
      if ($tf_location) {{ return 302 $tf_location; }}
      default_type text/plain;
      return 401 "$tf_reason\n";
    }}
  }}
"#,
        dir = dir.display()
    );
    nginx_conf(dir, 256, &http)
}

pub async fn start_nginx(dir: &Path, twofold: &str) -> Nginx {
    std::fs::create_dir_all(dir.join("www/dav")).unwrap();
    start_nginx_with(dir, |port, id| nginx_config(dir, port, twofold, id)).await
}

/// Starts nginx in `dir` with the config `config(port, id)` makes; the config must answer
/// `GET /_started` with `id`. The port is free when picked but may be taken by a test
/// beside this one before nginx binds it: only an answer carrying this start's id proves
/// the port is ours.
pub async fn start_nginx_with(dir: &Path, config: impl Fn(u16, &str) -> String) -> Nginx {
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let id = uuid::Uuid::new_v4().simple().to_string();
        if let Some(nginx) = try_start_nginx(dir, port, &id, &config(port, &id)).await {
            return nginx;
        }
    }
    panic!("nginx could not bind a free port in 5 tries");
}

impl Nginx {
    /// Loads the config `config(port, id)` into this running nginx (SIGHUP) and waits
    /// until `GET /_started` answers with the new `id`: the old workers may still answer
    /// for a moment. For a config that names a server started after nginx (one that must
    /// know nginx's port first).
    pub async fn reload(&self, dir: &Path, config: impl Fn(u16, &str) -> String) {
        let id = uuid::Uuid::new_v4().simple().to_string();
        std::fs::write(dir.join("nginx.conf"), config(self.port, &id)).unwrap();
        let hup = Command::new("kill")
            .arg("-HUP")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(hup.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        while !answers_started(&self.base, &id).await {
            let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
            assert!(Instant::now() < deadline, "nginx did not reload: {log}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Whether the nginx at `base` answers `GET /_started` with `id`.
async fn answers_started(base: &str, id: &str) -> bool {
    match reqwest::get(format!("{base}/_started")).await {
        Ok(r) => r.text().await.ok().as_deref() == Some(id),
        Err(_) => false,
    }
}

async fn try_start_nginx(dir: &Path, port: u16, id: &str, config: &str) -> Option<Nginx> {
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, config).unwrap();
    let _ = std::fs::remove_file(dir.join("error.log"));
    let child = Command::new("nginx")
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(&conf)
        .spawn()
        .expect("nginx is installed (Debian package nginx)");
    let mut nginx = Nginx {
        base: format!("http://127.0.0.1:{port}"),
        port,
        child,
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if answers_started(&nginx.base, id).await {
            return Some(nginx);
        }
        let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
        if log.contains("Address already in use") || matches!(nginx.child.try_wait(), Ok(Some(_))) {
            return None; // Drop stops whatever is left of this nginx.
        }
        assert!(Instant::now() < deadline, "nginx did not start: {log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_protects_webdav() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.add_user("alice", "password-a");
    let server = Server::start_with(
        &db,
        &[("TWOFOLD_FORWARD_AUTH_ALLOWED_DOMAINS", "127.0.0.1")],
    )
    .await;
    let nginx = start_nginx(&db.dir.path().join("nginx"), &server.base).await;
    let dav = |path: &str| format!("{}/dav/{path}", nginx.base);

    // Alice sets up TOTP and an app password for her sync client.
    let http = browser();
    let login = json!({"uid": "alice", "password": "password-a"});
    http.post(server.url("/api/v1/login"))
        .json(&login)
        .send()
        .await
        .unwrap();
    let e: Value = http
        .post(server.url("/api/v1/2fa/totp"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = e["secret"].as_str().unwrap().to_string();
    let r = http
        .post(server.url("/api/v1/2fa/totp/verify"))
        .json(&json!({"code": oathtool(&secret, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let created: Value = http
        .post(server.url("/api/v1/app-passwords"))
        .json(&json!({"name": "DAVx5 on phone"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let app_password = created["password"].as_str().unwrap().to_string();

    // A sync client with the app password: PUT then GET through nginx.
    let client = reqwest::Client::new();
    let r = client
        .put(dav("notes/todo.txt"))
        .basic_auth("alice", Some(&app_password))
        .body("buy milk\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let r = client
        .get(dav("notes/todo.txt"))
        .basic_auth("alice", Some(&app_password))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-remote-user"], "alice");
    assert_eq!(r.text().await.unwrap(), "buy milk\n");

    // The main password of a 2FA user is refused, and the client is told why, also
    // through nginx (defect 17.11: nginx's own 401 page used to replace the hint).
    let r = client
        .get(dav("notes/todo.txt"))
        .basic_auth("alice", Some("password-a"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let www: Vec<_> = r.headers().get_all("www-authenticate").iter().collect();
    assert_eq!(www.len(), 1, "{www:?}");
    assert!(www[0].to_str().unwrap().starts_with("Basic"), "{www:?}");
    let body = r.text().await.unwrap();
    assert!(
        body.contains("create an app password"),
        "defect_17_11: through nginx: {body}"
    );
    let r = client
        .get(server.url("/api/v1/forward-auth/nginx"))
        .header("x-original-url", dav("notes/todo.txt"))
        .basic_auth("alice", Some("password-a"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert!(r.text().await.unwrap().contains("create an app password"));
    // Nothing was written by the refused client.
    let r = client
        .put(dav("notes/evil.txt"))
        .basic_auth("alice", Some("password-a"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(!db.dir.path().join("nginx/www/dav/notes/evil.txt").exists());
    // No credentials at all: 401, not a redirect, for a non-browser.
    assert_eq!(
        client
            .get(dav("notes/todo.txt"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // A browser without a session is sent to the portal, with the way back.
    let anon = browser();
    let r = anon
        .get(dav("notes/todo.txt"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let rd: String =
        url::form_urlencoded::byte_serialize(dav("notes/todo.txt").as_bytes()).collect();
    assert_eq!(
        location,
        format!(
            "{}/login?rd={rd}",
            server.url("").replace("127.0.0.1", "localhost")
        )
    );

    // A browser session that passed 2FA reaches the app.
    let b = browser();
    b.post(server.url("/api/v1/login"))
        .json(&login)
        .send()
        .await
        .unwrap();
    let r = b
        .get(dav("notes/todo.txt"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FOUND,
        "password alone is not enough"
    );
    let r = b
        .post(server.url("/api/v1/login/challenge"))
        .json(&json!({"provider": "totp", "code": oathtool(&secret, 30)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = b
        .get(dav("notes/todo.txt"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "buy milk\n");

    // A revoked app password stops working at once.
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        http.delete(server.url(&format!("/api/v1/app-passwords/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let r = client
        .get(dav("notes/todo.txt"))
        .basic_auth("alice", Some(&app_password))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
