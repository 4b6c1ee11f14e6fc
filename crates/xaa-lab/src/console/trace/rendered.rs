//! The trace's pages as rendered bytes: each page (the trace page, `trace.json`, a flow's page
//! and exports, for given filters) is rendered once per change of the trace and then served from
//! memory with a strong `ETag`, so a client that sends it back in `If-None-Match` gets `304` and
//! no body. Rendering runs behind its own concurrency limit ([`RENDERS_AT_ONCE`]) on the blocking
//! pool, never on the runtime's workers: however many people poll the trace, the token endpoints
//! and APIs keep the CPU. While a render runs, a request whose page was rendered in the last
//! [`STALE_FOR`] gets that page at once; one with nothing that recent waits at most
//! [`WAIT_FOR_RENDER`] for its turn, then gets `503` with `Retry-After: 1`.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Trace renders that run at once (the rest wait, or get a page rendered moments ago).
pub(crate) const RENDERS_AT_ONCE: usize = 1;
/// How long a request waits for its turn to render before it gets `503`.
pub(crate) const WAIT_FOR_RENDER: Duration = Duration::from_secs(2);
/// How old a page may be to be served while another render runs.
pub(crate) const STALE_FOR: Duration = Duration::from_secs(1);
/// Pages kept (different filters and paging); past that the cache starts over.
const KEPT_PAGES: usize = 64;

/// A render's result.
pub(crate) struct Rendering {
    /// The trace generation it shows.
    pub(crate) generation: u64,
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
}

/// A rendered page.
pub(crate) struct Page {
    generation: u64,
    status: StatusCode,
    etag: HeaderValue,
    body: Bytes,
    rendered_at: Instant,
}

/// The rendered pages of one lab's trace.
pub(crate) struct Rendered {
    permits: Arc<Semaphore>,
    /// Tells this lab's `ETag`s from those of an earlier run (generations start again at 0).
    nonce: String,
    pages: Arc<Mutex<HashMap<String, Arc<Page>>>>,
    /// [`STALE_FOR`] and [`WAIT_FOR_RENDER`] (tests shorten them).
    stale_for: Duration,
    wait: Duration,
}

impl Default for Rendered {
    fn default() -> Self {
        Self {
            permits: Arc::new(Semaphore::new(RENDERS_AT_ONCE)),
            nonce: xaa_core::secret::random_token(6),
            pages: Arc::default(),
            stale_for: STALE_FOR,
            wait: WAIT_FOR_RENDER,
        }
    }
}

impl Rendered {
    /// The `ETag` of page `key` at trace generation `generation`.
    pub(crate) fn etag(&self, key: &str, generation: u64) -> HeaderValue {
        etag(&self.nonce, key, generation)
    }

    fn cached(&self, key: &str) -> Option<Arc<Page>> {
        self.pages.lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned()
    }

    /// Page `key` as of trace generation `generation` (or later): the cached one when it is that
    /// recent, else rendered by `render` (see the module's description); `None`: busy.
    pub(crate) async fn page<F>(&self, key: &str, generation: u64, render: F) -> Option<Arc<Page>>
    where
        F: FnOnce() -> Rendering + Send + 'static,
    {
        let current = |p: &Arc<Page>| p.generation >= generation;
        if let Some(p) = self.cached(key).filter(current) {
            return Some(p);
        }
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if let Some(p) = self.cached(key).filter(|p| p.rendered_at.elapsed() < self.stale_for) {
                    return Some(p);
                }
                tokio::time::timeout(self.wait, Arc::clone(&self.permits).acquire_owned()).await.ok()?.ok()?
            }
        };
        // A render that finished while this request waited may already show its generation.
        if let Some(p) = self.cached(key).filter(current) {
            return Some(p);
        }
        let (pages, key, nonce) = (Arc::clone(&self.pages), key.to_owned(), self.nonce.clone());
        // The permit and the cache travel with the render: a client that goes away mid-render
        // neither frees the permit early nor wastes the page.
        let page = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let r = render();
            let page = Arc::new(Page {
                generation: r.generation,
                status: r.status,
                etag: etag(&nonce, &key, r.generation),
                body: Bytes::from(r.body),
                rendered_at: Instant::now(),
            });
            let mut pages = pages.lock().unwrap_or_else(|p| p.into_inner());
            if pages.len() >= KEPT_PAGES && !pages.contains_key(&key) {
                pages.clear();
            }
            pages.insert(key, Arc::clone(&page));
            page
        })
        .await
        .ok()?;
        Some(page)
    }

    /// The render permits (tests hold one to stand for a render in progress).
    #[cfg(test)]
    fn permits(&self) -> Arc<Semaphore> {
        Arc::clone(&self.permits)
    }
}

/// A strong `ETag`: the lab run, the trace generation, the page.
fn etag(nonce: &str, key: &str, generation: u64) -> HeaderValue {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    HeaderValue::from_str(&format!("\"{nonce}-{generation}-{:016x}\"", h.finish()))
        .unwrap_or(HeaderValue::from_static("\"\""))
}

/// Whether the request's `If-None-Match` names `etag`.
pub(crate) fn not_modified(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(tags) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) else { return false };
    let wanted = etag.to_str().unwrap_or_default();
    tags.split(',').map(str::trim).any(|t| t == "*" || t == wanted || t.strip_prefix("W/") == Some(wanted))
}

/// `304` with the page's `ETag` when the request already has it, else the page.
pub(crate) fn answer(headers: &HeaderMap, page: &Page, content_type: &'static str) -> Response {
    let cache = [(header::ETAG, page.etag.clone()), (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))];
    if page.status == StatusCode::OK && not_modified(headers, &page.etag) {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (page.status, cache, [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], page.body.clone())
        .into_response()
}

/// `304` at once when the request's `If-None-Match` names page `key` at the trace's current
/// generation: no render, no permit.
pub(crate) fn unchanged(rendered: &Rendered, headers: &HeaderMap, key: &str, generation: u64) -> Option<Response> {
    let etag = rendered.etag(key, generation);
    not_modified(headers, &etag).then(|| {
        (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))],
        )
            .into_response()
    })
}

/// The answer when the trace is busy rendering for others.
pub(crate) fn busy(html: bool) -> Response {
    let retry = [(header::RETRY_AFTER, HeaderValue::from_static("1"))];
    if html {
        let page = "<!doctype html><meta charset=\"utf-8\"><title>Live trace busy · XAA Lab</title>\
            <p>The live trace is busy rendering for other viewers. <a href=\"\">Try again</a> in a second.</p>";
        (StatusCode::SERVICE_UNAVAILABLE, retry, axum::response::Html(page)).into_response()
    } else {
        let body = serde_json::json!({
            "error": "trace_busy",
            "error_description": "the trace is rendering for other clients; retry after a second",
        });
        (StatusCode::SERVICE_UNAVAILABLE, retry, axum::Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn rendering(generation: u64, body: &str) -> Rendering {
        Rendering { generation, status: StatusCode::OK, body: body.as_bytes().to_vec() }
    }

    #[tokio::test]
    async fn a_page_is_rendered_once_per_generation() {
        let r = Rendered::default();
        let renders = Arc::new(AtomicUsize::new(0));
        let counted = |g: u64| {
            let renders = Arc::clone(&renders);
            move || {
                renders.fetch_add(1, Ordering::SeqCst);
                rendering(g, "page")
            }
        };
        let a = r.page("k", 3, counted(3)).await.unwrap();
        let b = r.page("k", 3, counted(3)).await.unwrap();
        assert_eq!(renders.load(Ordering::SeqCst), 1, "the second request is served the cached bytes");
        assert_eq!(a.etag, b.etag);
        assert_eq!(a.etag, r.etag("k", 3), "the ETag is known without rendering");
        let c = r.page("k", 4, counted(4)).await.unwrap();
        assert_eq!(renders.load(Ordering::SeqCst), 2, "a change renders again");
        assert_ne!(a.etag, c.etag);
        assert_ne!(r.etag("k", 4), r.etag("other", 4), "pages of other filters have other ETags");
        assert_ne!(Rendered::default().etag("k", 4), r.etag("k", 4), "another run's ETags never match");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn renders_run_one_at_a_time_however_many_ask() {
        let r = Arc::new(Rendered::default());
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let (r, running, most) = (Arc::clone(&r), Arc::clone(&running), Arc::clone(&most));
                tokio::spawn(async move {
                    r.page(&format!("page-{i}"), 1, move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        // A render's CPU time: long enough for the others to pile up.
                        std::thread::sleep(Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                        rendering(1, "page")
                    })
                    .await
                    .is_some()
                })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap(), "every request got its page within the wait");
        }
        assert_eq!(most.load(Ordering::SeqCst), RENDERS_AT_ONCE);
    }

    #[tokio::test]
    async fn while_a_render_runs_a_recent_page_is_served_and_no_page_waits_then_is_busy() {
        // The wait shortened to 10 ms; pages count as recent for an hour, then for no time at all.
        let r =
            Rendered { stale_for: Duration::from_secs(3600), wait: Duration::from_millis(10), ..Rendered::default() };
        r.page("k", 1, || rendering(1, "first")).await.unwrap();
        let held = r.permits().acquire_owned().await.unwrap();
        let stale = r.page("k", 2, || rendering(2, "never")).await.unwrap();
        assert_eq!(&stale.body[..], b"first", "served the page of a moment ago instead of waiting");
        assert!(r.page("new", 2, || rendering(2, "never")).await.is_none(), "nothing cached: waits, then busy");
        let r = Rendered { stale_for: Duration::ZERO, ..r };
        assert!(r.page("k", 2, || rendering(2, "never")).await.is_none(), "too old to serve: waits, then busy");
        drop(held);
        assert_eq!(&r.page("k", 2, || rendering(2, "second")).await.unwrap().body[..], b"second");
    }

    #[test]
    fn if_none_match_names_the_etag() {
        let r = Rendered::default();
        let etag = r.etag("k", 7);
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
            h
        };
        let tag = etag.to_str().unwrap();
        assert!(not_modified(&with(tag), &etag));
        assert!(not_modified(&with(&format!("\"x\", W/{tag}")), &etag), "a list, a weak copy");
        assert!(!not_modified(&with(r.etag("k", 8).to_str().unwrap()), &etag));
        assert!(!not_modified(&HeaderMap::new(), &etag));
    }
}
