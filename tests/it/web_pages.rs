//! The server-rendered pages over HTTP: login with CSRF, home, logout, languages.
//! (Pages in a real browser come with the WebAuthn work, which needs Chromium anyway.)

use reqwest::StatusCode;

use crate::common::{Backend, Server, TestDb, both, browser, csrf_of};

both!(
    login_page_round_trip,
    login_form_refuses_missing_csrf_and_bad_password
);

async fn login_page_round_trip(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = browser();

    let r = http.get(server.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login");

    let r = http.get(server.url("/login")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Sign in"));
    let csrf = csrf_of(&html);

    let r = http
        .post(server.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("uid", "alice"),
            ("password", "password-a"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/");

    let html = http
        .get(server.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Signed in as <strong>alice</strong>"),
        "{html}"
    );
    // Already signed in: the login page sends you home.
    let r = http.get(server.url("/login")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/");

    let r = http
        .post(server.url("/logout"))
        .form(&[("csrf", csrf_of(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login");
    assert_eq!(
        http.get(server.url("/")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );

    let fr = http
        .get(server.url("/login"))
        .header("accept-language", "fr-FR,fr;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(fr.contains("<html lang=\"fr\">") && fr.contains("Mot de passe"));
}

async fn login_form_refuses_missing_csrf_and_bad_password(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.add_user("alice", "password-a");
    let server = Server::start(&db).await;
    let http = browser();
    let html = http
        .get(server.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html);

    // A forged form from elsewhere has no matching token.
    let r = http
        .post(server.url("/login"))
        .form(&[
            ("csrf", "forged"),
            ("uid", "alice"),
            ("password", "password-a"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = reqwest::Client::new()
        .post(server.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("uid", "alice"),
            ("password", "password-a"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "token without its cookie"
    );

    let r = http
        .post(server.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("uid", "alice"),
            ("password", "nope-nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body = r.text().await.unwrap();
    assert!(body.contains("Wrong username or password."));
    assert!(body.contains("value=\"alice\""), "the username is kept");
    assert_eq!(
        http.get(server.url("/")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let store = db.store().await;
    assert!(
        store
            .sessions_of("alice", twofold::app::now())
            .await
            .unwrap()
            .is_empty()
    );
}

/// Issue 17.15: a 404 outside /api/ had an empty body. It is a small page in the reader's
/// language; under /api/ it stays the API's JSON error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_17_15_a_missing_page_is_a_page() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = Server::start(&db).await;
    let http = reqwest::Client::new();
    for (lang, want) in [("en", "Page not found"), ("fr", "Page introuvable")] {
        let r = http
            .get(server.url("/no/such/page"))
            .header("accept-language", lang)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/html"), "{ct}");
        let body = r.text().await.unwrap();
        assert!(body.contains(want), "{lang}: {body}");
        assert!(body.contains(&format!("<html lang=\"{lang}\">")), "{body}");
    }
    let r = http
        .get(server.url("/api/v1/no-such-thing"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
}
