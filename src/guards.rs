//! What every request goes through around the router, as one tower service with one
//! future (issue 22: these were seven layers, each boxed and cloned per route and per
//! request, and the timeout armed a timer for every request):
//! - the cross-site guard (`http::cross_site_refusal`) before the router;
//! - under `/api/`, an error answer that is not the API's error body is rewritten as one
//!   (`http::needs_error_body`, `http::error_body`);
//! - a 30 s deadline for the answer (`408` after it). The timer is armed only when the
//!   answer is not ready at the first poll: an answer from memory (`/healthz`, a cached
//!   forward-auth decision) never touches the timer wheel;
//! - the security headers, set on every answer that has not set its own.
//!
//! The order is the one the layers had: the deadline covers the guard, the router and the
//! rewrite; the `408` itself is not rewritten; the headers go on every answer, the `408`
//! included.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The guards' settings, shared by every request.
struct Settings {
    own_origin: Option<String>,
    timeout: Duration,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// The layer: `Guards::new(...).layer(router)`.
#[derive(Clone)]
pub struct Guards(Arc<Settings>);

impl Guards {
    /// `public_url`: twofold's, whose origin state-changing requests may come from;
    /// `timeout`: the deadline of an answer; `headers`: set on every answer without them.
    pub fn new(
        public_url: &str,
        timeout: Duration,
        headers: Vec<(HeaderName, HeaderValue)>,
    ) -> Self {
        Self(Arc::new(Settings {
            own_origin: crate::http::own_origin(public_url),
            timeout,
            headers,
        }))
    }
}

impl<S> tower::Layer<S> for Guards {
    type Service = Guarded<S>;

    fn layer(&self, inner: S) -> Guarded<S> {
        Guarded {
            inner,
            settings: self.0.clone(),
        }
    }
}

/// The guarded service.
#[derive(Clone)]
pub struct Guarded<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> tower::Service<Request> for Guarded<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = Infallible;
    type Future = GuardedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let api = req.uri().path().starts_with("/api/");
        let stage = match crate::http::cross_site_refusal(&req, self.settings.own_origin.as_deref())
        {
            Some(refusal) => Stage::Refused(Some(refusal.into_response())),
            None => Stage::Inner(self.inner.call(req)),
        };
        GuardedFuture {
            stage,
            api,
            deadline: None,
            settings: self.settings.clone(),
        }
    }
}

enum Stage<F> {
    Refused(Option<Response>),
    Inner(F),
    Rewriting(Pin<Box<dyn Future<Output = Response> + Send>>),
}

/// The answer of [`Guarded`].
pub struct GuardedFuture<F> {
    stage: Stage<F>,
    api: bool,
    /// Armed at the first poll that finds the answer not ready.
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    settings: Arc<Settings>,
}

impl<F> GuardedFuture<F> {
    fn finish(&self, mut response: Response) -> Poll<Result<Response, Infallible>> {
        let headers = response.headers_mut();
        for (name, value) in &self.settings.headers {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        Poll::Ready(Ok(response))
    }

    /// Not ready yet: `408` once the deadline has passed, else wait.
    fn waiting(&mut self, cx: &mut Context<'_>) -> Poll<Result<Response, Infallible>> {
        let timeout = self.settings.timeout;
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if deadline.as_mut().poll(cx).is_ready() {
            let mut late = Response::new(axum::body::Body::empty());
            *late.status_mut() = StatusCode::REQUEST_TIMEOUT;
            return self.finish(late);
        }
        Poll::Pending
    }
}

impl<F> Future for GuardedFuture<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            let response = match &mut this.stage {
                // Answered once already: nothing more will come.
                Stage::Refused(response) => match response.take() {
                    Some(response) => response,
                    None => return Poll::Pending,
                },
                Stage::Inner(inner) => match Pin::new(inner).poll(cx) {
                    Poll::Ready(Ok(response)) => response,
                    Poll::Ready(Err(never)) => match never {},
                    Poll::Pending => return this.waiting(cx),
                },
                Stage::Rewriting(rewrite) => match rewrite.as_mut().poll(cx) {
                    Poll::Ready(response) => return this.finish(response),
                    Poll::Pending => return this.waiting(cx),
                },
            };
            if this.api && crate::http::needs_error_body(&response) {
                this.stage = Stage::Rewriting(Box::pin(crate::http::error_body(response)));
                continue;
            }
            return this.finish(response);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::{Layer as _, ServiceExt as _};

    fn guards() -> Guards {
        Guards::new(
            "https://auth.example.org",
            Duration::from_secs(30),
            vec![(
                axum::http::header::X_FRAME_OPTIONS,
                HeaderValue::from_static("DENY"),
            )],
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_answer_is_408_with_the_headers() {
        let slow = tower::service_fn(|_req: Request| async {
            tokio::time::sleep(Duration::from_secs(31)).await;
            Ok::<_, Infallible>(Response::new(axum::body::Body::empty()))
        });
        // `service_fn`'s future is not Unpin: the router's is; box it like one.
        let slow = tower::util::BoxCloneSyncService::new(slow);
        let req = Request::builder()
            .uri("/api/v1/anything")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = guards().layer(slow).oneshot(req).await.unwrap();
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(response.headers()["x-frame-options"], "DENY");
    }

    #[tokio::test]
    async fn a_quick_answer_keeps_its_own_headers_and_gets_the_others() {
        let quick =
            tower::util::BoxCloneSyncService::new(tower::service_fn(|_req: Request| async {
                let mut r = Response::new(axum::body::Body::from("ok"));
                r.headers_mut().insert(
                    axum::http::header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("SAMEORIGIN"),
                );
                Ok::<_, Infallible>(r)
            }));
        let req = Request::builder()
            .uri("/healthz")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = guards().layer(quick.clone()).oneshot(req).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-frame-options"], "SAMEORIGIN");
        // A cross-site form post under /api/ is refused before the service, as JSON.
        let req = Request::builder()
            .method("POST")
            .uri("/api/v1/logout")
            .header("origin", "https://evil.example")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = guards().layer(quick).oneshot(req).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.headers()["x-frame-options"], "DENY");
    }
}
