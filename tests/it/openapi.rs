//! The OpenAPI document at `/api/v1/openapi.json`: served to anyone as OpenAPI 3.1, holding
//! every route of the code, and naming only errors the code can answer with.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use reqwest::StatusCode;
use serde_json::Value;
use twofold::error::AppError;

use crate::common::{Backend, Server, TestDb};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn served() -> (TestDb, Server, Value) {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = Server::start(&db).await;
    let r = reqwest::get(server.url("/api/v1/openapi.json"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    (db, server, doc)
}

/// Every (path, method, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((path.clone(), method.to_string(), op.clone()));
            }
        }
    }
    out
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literal that follows each `needle` in `text`, skipping whitespace.
fn literals_after(text: &str, needle: &str) -> Vec<String> {
    text.match_indices(needle)
        .filter_map(|(i, _)| {
            let rest = text[i + needle.len()..].trim_start();
            let rest = rest.strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

/// (file, path) pairs found in the source.
type Found = Vec<(String, String)>;

/// The paths the source code routes or documents, by file: routes added with axum's own
/// `.route(` / `.nest(` (which bypass the document) and paths of `#[utoipa::path]`.
fn paths_in_source() -> (Found, Found) {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let (mut routed, mut annotated) = (Vec::new(), Vec::new());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.display().to_string();
        for needle in [".route(", ".nest(", ".route_service(", ".nest_service("] {
            for p in literals_after(&text, needle) {
                routed.push((name.clone(), p));
            }
        }
        for (i, _) in text.match_indices("#[utoipa::path(") {
            let attribute = &text[i..];
            let attribute = &attribute[..attribute.find(")]\n").unwrap_or(attribute.len())];
            for p in literals_after(attribute, "path =") {
                annotated.push((name.clone(), p));
            }
        }
    }
    (routed, annotated)
}

/// Route coverage, both ways. Code → document: the API's routers are utoipa-axum
/// `OpenApiRouter`s whose routes come from the handlers' annotations, so a route added
/// with axum's plain `.route("/api/…")` (or an `OpenApiRouter::route`) is the only way to
/// serve an undocumented path, and the source scan finds it; an annotated handler left out
/// of the router is found too. Document → code: every documented operation is asked for on
/// the real server and must reach a handler (not the router's 404 or 405).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_in_the_code_is_documented_and_every_documented_route_is_served() {
    let (_db, server, doc) = served().await;
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();

    let (routed, annotated) = paths_in_source();
    assert!(
        annotated.len() >= 40,
        "the scan should see the annotations: {annotated:?}"
    );
    for (file, path) in &routed {
        let api = path.starts_with("/api/") || path == "/healthz" || path == "/readyz";
        assert!(
            !api || documented.contains(path),
            "{file} routes {path} outside the document: use routes!() with #[utoipa::path]"
        );
    }
    for (file, path) in &annotated {
        assert!(
            documented.contains(path),
            "{file} documents {path}, but no router serves it"
        );
    }

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let reaches_a_handler = |status: StatusCode, body: String| {
        // The router's 404 says "route not found"; a handler's names what it did not find.
        let message =
            serde_json::from_str::<Value>(&body).unwrap_or_default()["error"]["message"].clone();
        status != StatusCode::METHOD_NOT_ALLOWED
            && (status != StatusCode::NOT_FOUND || message != "route not found")
    };
    let probe = |method: &str, path: &str| {
        let url = server.url(&path.replace('{', "probe-").replace('}', ""));
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let http = http.clone();
        async move {
            let r = http
                .request(method.clone(), url)
                .header("x-requested-with", "openapi-test")
                .header("content-type", "application/json")
                .body(if method == reqwest::Method::GET {
                    ""
                } else {
                    "{}"
                })
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (status, ct) = probe("get", "/api/v1/not-a-route").await;
    assert!(
        !reaches_a_handler(status, ct),
        "the probe must tell a missing route apart"
    );
    let (status, ct) = probe("delete", "/api/v1/me").await;
    assert!(
        !reaches_a_handler(status, ct),
        "the probe must tell a missing method apart"
    );
    for (path, method, _) in operations(&doc) {
        let (status, ct) = probe(&method, &path).await;
        assert!(
            reaches_a_handler(status, ct),
            "{method} {path} is documented but answered {status}"
        );
    }
}

/// The codes and statuses an error schema or its examples name.
fn codes_in(schema_or_example: &Value, out: &mut BTreeSet<String>) {
    match schema_or_example {
        Value::Object(map) => {
            if let Some(Value::Object(error)) = map.get("error")
                && let Some(Value::String(code)) = error.get("code")
            {
                out.insert(code.clone());
            }
            if let Some(Value::Object(props)) = map.get("properties")
                && let Some(code) = props
                    .get("error")
                    .and_then(|e| e.get("properties"))
                    .and_then(|p| p.get("code"))
                && let Some(Value::Array(values)) = code.get("enum")
            {
                out.extend(values.iter().map(|v| v.as_str().unwrap().to_string()));
            }
            for v in map.values() {
                codes_in(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| codes_in(v, out)),
        _ => {}
    }
}

/// Resolves a `$ref` to `#/components/...`.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r.strip_prefix('#').unwrap();
            doc.pointer(pointer)
                .unwrap_or_else(|| panic!("dangling {r}"))
        }
        None => v,
    }
}

/// Each error code the document names is one `AppError` has, under the status that
/// `AppError::status` gives it (the list of errors is `AppError::catalog`, held to the
/// enum by a match in `error.rs`). One deliberate exception: forward-auth for nginx answers
/// a throttled client 401, since nginx turns any other status into a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_error_code_is_one_the_code_produces() {
    let (_db, server, doc) = served().await;
    let mapping: BTreeMap<&str, u16> = AppError::catalog()
        .iter()
        .map(|e| (e.code(), e.status().as_u16()))
        .collect();
    let mut named = BTreeSet::new();
    for (path, method, op) in operations(&doc) {
        for (status, response) in op["responses"].as_object().unwrap() {
            let response = resolve(&doc, response);
            let Some(json) = response["content"].get("application/json") else {
                continue;
            };
            let status: u16 = status.parse().unwrap();
            if status < 400 {
                continue;
            }
            let mut codes = BTreeSet::new();
            codes_in(json, &mut codes);
            assert!(
                !codes.is_empty(),
                "{method} {path} {status}: a JSON error without codes"
            );
            let schema = serde_json::to_string(&json["schema"]).unwrap();
            assert!(
                schema.contains("#/components/schemas/ErrorBody"),
                "{method} {path} {status}: not the ErrorBody shape: {schema}"
            );
            for code in codes {
                let real = mapping.get(code.as_str()).copied();
                assert!(
                    real.is_some(),
                    "{method} {path} {status}: {code} is no AppError code"
                );
                let nginx_throttle = path == "/api/v1/forward-auth/nginx"
                    && status == 401
                    && code == "too_many_attempts";
                assert!(
                    real == Some(status) || nginx_throttle,
                    "{method} {path}: {code} is answered with {real:?}, documented as {status}"
                );
                named.insert(code);
            }
        }
    }
    // Every code the API can answer with appears somewhere (none is left undocumented).
    // The router's own refusal of a method is described once, in the document's info.
    let info = doc["info"]["description"].as_str().unwrap();
    for code in mapping.keys() {
        let in_info = *code == "method_not_allowed" && info.contains("405 `method_not_allowed`");
        assert!(
            named.contains(*code) || in_info,
            "{code} is documented nowhere"
        );
    }

    // The shape is the one the server sends.
    let body = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(body["required"], serde_json::json!(["error"]));
    let r = reqwest::get(server.url("/api/v1/session")).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let sent: Value = r.json().await.unwrap();
    assert_eq!(sent["error"]["code"], "unauthorized");
    assert!(sent["error"]["message"].is_string());
    let mut documented = BTreeSet::new();
    codes_in(
        resolve(
            &doc,
            &doc["paths"]["/api/v1/session"]["get"]["responses"]["401"],
        ),
        &mut documented,
    );
    assert!(documented.contains("unauthorized"), "{documented:?}");

    // Where the cross-site guard applies, its refusals are documented.
    for (path, method, op) in operations(&doc) {
        let m = axum::http::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        if !path.starts_with("/api/") || !twofold::http::cross_site_checked(&m, &path) {
            continue;
        }
        for (status, code) in [("403", "cross_site"), ("415", "unsupported_media_type")] {
            let mut codes = BTreeSet::new();
            if let Some(r) = op["responses"].get(status) {
                codes_in(resolve(&doc, r), &mut codes);
            }
            assert!(
                codes.contains(code),
                "{method} {path}: the cross-site guard can answer {status} {code}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_served_to_anyone_as_openapi_3_1() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = Server::start(&db).await;
    let r = reqwest::get(server.url("/api/v1/openapi.json"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
    let doc: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "twofold");

    let login = &doc["paths"]["/api/v1/login"];
    assert!(login.get("get").is_none());
    let post = &login["post"];
    assert_eq!(
        post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/LoginRequest"
    );
    assert_eq!(
        post["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/LoginResponse"
    );
    let mut codes = BTreeSet::new();
    codes_in(&post["responses"]["401"], &mut codes);
    assert!(codes.contains("invalid_credentials"), "{codes:?}");
    let stage = &doc["components"]["schemas"]["Stage"]["enum"];
    assert!(
        stage
            .as_array()
            .unwrap()
            .contains(&Value::from("second_factor_pending")),
        "{stage}"
    );

    let nginx = &doc["paths"]["/api/v1/forward-auth/nginx"]["get"];
    assert!(nginx["responses"]["200"]["headers"]["Remote-User"].is_object());
    assert!(nginx["responses"]["401"].is_object());
    let params: Vec<&str> = nginx["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(params.contains(&"X-Original-URL"), "{params:?}");
    assert!(doc["paths"]["/api/v1/forward-auth/traefik"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/admin/users/{uid}/2fa/{provider}"]["delete"].is_object());

    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["session"]["type"], "apiKey");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], "twofold_session");
    assert_eq!(schemes["basic"]["scheme"], "basic");
    assert_eq!(
        doc["paths"]["/api/v1/me"]["get"]["security"],
        serde_json::json!([{"session": []}, {"basic": []}])
    );
}

/// One request of the walk below, and what came back.
struct Answer {
    status: StatusCode,
    content_type: String,
    body: String,
}

async fn ask(
    http: &reqwest::Client,
    method: &str,
    url: String,
    content_type: Option<&str>,
    body: &'static str,
) -> Answer {
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let mut req = http
        .request(method, url)
        .header("x-requested-with", "openapi-test")
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let r = req.send().await.unwrap();
    Answer {
        status: r.status(),
        content_type: r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default(),
        body: r.text().await.unwrap(),
    }
}

/// An error answer under `/api/` is the API's error body, unless the document says this
/// operation answers this status with another content type (forward-auth's plain answers
/// to proxies, the retired endpoint).
fn assert_api_error(doc: &Value, op: Option<&Value>, what: &str, a: &Answer) {
    if a.status.as_u16() < 400 {
        return;
    }
    if let Some(content) = op.and_then(|op| op["responses"].get(a.status.as_str()))
        && let Some(content) = resolve(doc, content)["content"].as_object()
        && content
            .keys()
            .any(|ct| ct != "application/json" && a.content_type.starts_with(ct.as_str()))
    {
        return;
    }
    assert!(
        a.content_type.starts_with("application/json"),
        "{what}: {} with content type {:?}: {:?}",
        a.status,
        a.content_type,
        a.body
    );
    let body: Value = serde_json::from_str(&a.body)
        .unwrap_or_else(|e| panic!("{what}: {} body is no JSON ({e}): {:?}", a.status, a.body));
    assert!(
        body["error"]["code"].is_string() && body["error"]["message"].is_string(),
        "{what}: {} is not the error body: {body}",
        a.status
    );
}

/// Issue 16, defect 7: every answer under `/api/` is the documented error body, also when
/// axum's extractors or router refuse the request before a handler runs. Every operation of
/// the document is asked with each path parameter an invalid UTF-8 escape, with a method it
/// does not have, with an invalid query, and with a malformed JSON body (with and without
/// its content type); unknown routes too. Once without credentials and once as a signed-in
/// administrator, so that the extractors behind authentication run as well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect_16_7_every_api_error_is_the_error_body() {
    let (_db, server, doc) = served().await;
    let admin = crate::common::browser();
    let password = crate::common::bootstrap_password(&server);
    let stage = crate::common::api_login(&admin, &server, "admin", &password).await;
    assert_eq!(
        stage["stage"], "authenticated",
        "the walk needs a signed-in admin"
    );
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut refused_methods = 0;
    let mut refused_parameters = BTreeMap::new();
    for (who, http) in [("anonymous", &anon), ("admin", &admin)] {
        for (path, method, op) in operations(&doc) {
            if !path.starts_with("/api/") {
                continue;
            }
            // A bodiless action (log out…) may end the session: sign in again.
            if who == "admin"
                && admin
                    .get(server.url("/api/v1/session"))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    != StatusCode::OK
            {
                crate::common::api_login(&admin, &server, "admin", &password).await;
            }
            let with = |value: &str| {
                let mut p = path.clone();
                while let (Some(a), Some(b)) = (p.find('{'), p.find('}')) {
                    p.replace_range(a..=b, value);
                }
                server.url(&p)
            };
            let query: Vec<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| resolve(&doc, p))
                .filter(|p| p["in"] == "query")
                .map(|p| format!("{}=%ff", p["name"].as_str().unwrap()))
                .chain(["limit=-x".to_string(), "since=x".to_string()])
                .collect();
            let query = format!("?{}", query.join("&"));
            let json = Some("application/json");
            let probes = [
                ("%ff in each path parameter", with("%ff"), json, "{}"),
                (
                    "an invalid query",
                    format!("{}{query}", with("probe")),
                    json,
                    "{}",
                ),
                ("a malformed JSON body", with("probe"), json, "{"),
                ("a JSON body of the wrong shape", with("probe"), json, "[1]"),
                ("a body without its content type", with("probe"), None, "{"),
                (
                    "a body of another type",
                    with("probe"),
                    Some("text/plain"),
                    "{",
                ),
            ];
            for (what, url, ct, body) in probes {
                let a = ask(http, &method, url, ct, body).await;
                if what.starts_with("%ff") && path.contains('{') && a.status == 400 {
                    *refused_parameters.entry(who).or_insert(0) += 1;
                }
                let what = format!("{who}: {method} {path} with {what}");
                assert_api_error(&doc, Some(&op), &what, &a);
            }
            let documented = doc["paths"][&path].as_object().unwrap();
            if let Some(wrong) = ["patch", "put", "delete", "post", "get"]
                .into_iter()
                .find(|m| !documented.contains_key(*m))
            {
                let a = ask(http, wrong, with("probe"), json, "{}").await;
                let what = format!("{who}: {wrong} {path} (not documented)");
                // Forward-auth answers any method (nginx asks with the checked request's),
                // in the shapes documented for GET.
                assert_api_error(&doc, Some(&op), &what, &a);
                if a.status == StatusCode::METHOD_NOT_ALLOWED {
                    refused_methods += 1;
                }
            }
        }
        for (method, path) in [
            ("get", "/api/v1/not-a-route"),
            ("post", "/api/v1/not-a-route"),
            ("get", "/api/"),
            ("get", "/api/v2/me"),
            ("get", "/api/v1/2fa/%ff"),
            ("delete", "/api/v1/sessions/%ff/x"),
        ] {
            let a = ask(
                http,
                method,
                server.url(path),
                Some("application/json"),
                "{}",
            )
            .await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{who}: {method} {path}");
            assert_api_error(&doc, None, &format!("{who}: {method} {path}"), &a);
        }
    }
    assert!(
        refused_methods > 10,
        "the walk should meet 405s: {refused_methods}"
    );
    // Signed in, every operation with a path parameter gets as far as reading it.
    let with_parameters = operations(&doc)
        .iter()
        .filter(|(p, _, _)| p.starts_with("/api/") && p.contains('{'))
        .count();
    assert_eq!(
        refused_parameters.get("admin"),
        Some(&with_parameters),
        "{refused_parameters:?}"
    );
}
