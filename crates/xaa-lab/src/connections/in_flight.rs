//! A connection's requests in flight: from dispatch until the response body has been sent in full.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};

use axum::http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::seats::Activity;

/// A connection's service, counting its requests in flight: from dispatch until the response
/// body has been sent in full (or dropped).
#[derive(Clone, Debug)]
pub(crate) struct Tracked<S> {
    pub(super) inner: S,
    pub(super) activity: Arc<Activity>,
}

/// One request in flight on its connection.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Activity>);

impl InFlight {
    pub(super) fn start(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        activity.head.store(false, Ordering::Relaxed);
        Self(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<S, B, R> Service<Request<B>> for Tracked<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<Sending<R>>;
    type Error = S::Error;
    type Future = Dispatched<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let in_flight = InFlight::start(&self.activity);
        Dispatched { inner: self.inner.call(request), in_flight: Some(in_flight) }
    }
}

pin_project! {
    /// A request being handled; its response body carries the request's [`InFlight`] on.
    #[derive(Debug)]
    pub(crate) struct Dispatched<F> {
        #[pin]
        inner: F,
        in_flight: Option<InFlight>,
    }
}

impl<F, R, E> Future for Dispatched<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = Result<Response<Sending<R>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx));
        let in_flight = this.in_flight.take();
        Poll::Ready(response.map(|r| r.map(|body| Sending { body, _in_flight: in_flight })))
    }
}

pin_project! {
    /// A response body being sent: its request is in flight until the body is dropped.
    #[derive(Debug)]
    pub(crate) struct Sending<B> {
        #[pin]
        body: B,
        _in_flight: Option<InFlight>,
    }
}

impl<B: Body> Body for Sending<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
