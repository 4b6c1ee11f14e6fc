//! Bounded connections: each component's listener takes at most so many connections at once, and
//! closes connections that idle or send their request too slowly. One component's clients (a
//! room of 500 laptops, or one hostile script holding thousands of sockets) can then never use up
//! the file descriptors the other components need.
//!
//! - HTTP/1: the request head must arrive within `header_read_timeout`, counted from when the
//!   server starts waiting for it, so it also closes an idle keep-alive connection (hyper).
//! - Any protocol, HTTP/2 included: a connection that neither reads nor writes a byte for
//!   `idle_timeout` is closed ([`Idle`]); server-sent events send a comment every 15 s, so open
//!   trace pages stay connected.
//! - Past `per_listener` open connections, a new one is closed as soon as it is accepted.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// How many connections each listener takes and how long it waits for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections per component; past it new ones are closed at once.
    pub per_listener: usize,
    /// How long an HTTP/1 request head may take to arrive (also the keep-alive idle time).
    pub header_read_timeout: Duration,
    /// How long any connection may go without reading or writing a byte.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            per_listener: default_per_listener(),
            header_read_timeout: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(90),
        }
    }
}

/// A fifth of the process's open-files limit (five listeners), less a reserve for SQLite files,
/// outbound calls and the terminal; between 32 and 1,024.
pub(crate) fn default_per_listener() -> usize {
    let files = open_files_limit().unwrap_or(1024);
    (files.saturating_sub(128) / 5).clamp(32, 1024) as usize
}

/// The soft `Max open files` limit of this process (Linux), read without `unsafe`.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// An acceptor that counts connections against the listener's limit and wraps them in [`Idle`].
#[derive(Clone, Debug)]
pub(crate) struct Guarded<A> {
    inner: A,
    slots: Arc<Semaphore>,
    idle_timeout: Duration,
    service: &'static str,
    refused: Arc<AtomicU64>,
}

impl<A> Guarded<A> {
    pub(crate) fn new(inner: A, limits: &ConnectionLimits, service: &'static str) -> Self {
        Self {
            inner,
            slots: Arc::new(Semaphore::new(limits.per_listener.max(1))),
            idle_timeout: limits.idle_timeout,
            service,
            refused: Arc::new(AtomicU64::new(0)),
        }
    }
}

type Accepted<S, V> = Pin<Box<dyn Future<Output = io::Result<(Idle<S>, V)>> + Send>>;

impl<I, S, A> Accept<I, S> for Guarded<A>
where
    A: Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = Idle<A::Stream>;
    type Service = A::Service;
    type Future = Accepted<A::Stream, A::Service>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let Ok(permit) = self.slots.clone().try_acquire_owned() else {
            let n = self.refused.fetch_add(1, Ordering::Relaxed);
            if n.is_power_of_two() || n == 0 {
                tracing::warn!(
                    service = self.service,
                    refused = n + 1,
                    "connection limit reached: closing new connections until some end (see --max-connections)"
                );
            }
            return Box::pin(std::future::ready(Err(io::Error::other("connection limit reached"))));
        };
        let idle_timeout = self.idle_timeout;
        let accepting = self.inner.accept(stream, service);
        Box::pin(async move {
            let (stream, service) = accepting.await?;
            Ok((Idle::new(stream, permit, idle_timeout), service))
        })
    }
}

/// A connection that fails with `TimedOut` once it has neither read nor written for its idle
/// timeout, and gives its listener slot back when it ends.
#[derive(Debug)]
pub(crate) struct Idle<S> {
    inner: S,
    timeout: Duration,
    last_active: Instant,
    timer: Pin<Box<Sleep>>,
    _slot: OwnedSemaphorePermit,
}

impl<S> Idle<S> {
    fn new(inner: S, slot: OwnedSemaphorePermit, timeout: Duration) -> Self {
        let now = Instant::now();
        Self { inner, timeout, last_active: now, timer: Box::pin(tokio::time::sleep_until(now + timeout)), _slot: slot }
    }

    /// Whether the connection has idled too long; re-arms the timer while it has not (the timer is
    /// moved only when it fires, not on every read and write).
    fn idled_out(&mut self, cx: &mut Context<'_>) -> bool {
        while self.timer.as_mut().poll(cx).is_ready() {
            let deadline = self.last_active + self.timeout;
            if Instant::now() >= deadline {
                return true;
            }
            self.timer.as_mut().reset(deadline);
        }
        false
    }

    /// What a write came to: a byte written is activity; waiting past the idle timeout is an error.
    fn wrote(&mut self, cx: &mut Context<'_>, written: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match written {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.last_active = Instant::now();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending if self.idled_out(cx) => Poll::Ready(Err(timed_out())),
            other => other,
        }
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection idle for too long")
}

impl<S: AsyncRead + Unpin> AsyncRead for Idle<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.last_active = Instant::now();
                }
                Poll::Ready(r)
            }
            Poll::Pending if self.idled_out(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Idle<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, data);
        self.wrote(cx, written)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.wrote(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_leaves_room_for_five_listeners_under_the_files_limit() {
        let n = super::default_per_listener();
        assert!((32..=1024).contains(&n), "{n}");
        let files = super::open_files_limit().expect("Linux names its open-files limit");
        assert!(n as u64 * 5 < files.max(5 * 32 + 1), "{n} × 5 within {files}");
    }
}
