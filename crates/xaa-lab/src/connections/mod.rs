//! Bounded connections: each component's listener takes at most so many connections at once, one
//! client address at most its share of them, and connections that idle or send their request too
//! slowly are closed. One component's clients (a room of 500 laptops, or one hostile script
//! holding thousands of sockets) can then never use up the file descriptors the other components
//! need, and one address can never shut the rest of the room out of a component.
//!
//! - A listener takes at most `per_listener` connections; one client address at most
//!   [`ConnectionLimits::per_address`] of them (by default half, rounded up). An address is an
//!   IPv4 address or an IPv6 /64; loopback counts like any other address, so the lab's own calls
//!   and a browser on the lab's machine share one share.
//! - A connection is *busy* from the first byte of a request head until its response has been
//!   sent in full (a server-sent event stream stays busy while it is open), and *idle* otherwise:
//!   never used yet, or kept alive between requests.
//! - A newcomer from an address holding its share takes the place of that address's idle
//!   connection that has been quiet longest. A newcomer to a full listener takes the place of the
//!   quietest idle connection of the address holding the most among those holding more than the
//!   newcomer's, or else of its own address's quietest idle one. Only when there is no such idle
//!   connection is the newcomer refused (closed as soon as it is accepted).
//! - An idle connection, and a busy one that moves no byte either way, is closed after
//!   `idle_timeout` ([`Idle`]); server-sent events send a comment every 15 s, so open trace pages
//!   stay connected. A request head (HTTP/1), once its first byte has arrived, must be complete
//!   within `header_read_timeout`. HTTP/2 has no such timer: its connection preface is followed
//!   by frames that belong to no request.
//!
//! The bookkeeping takes one lock per listener, held for a few steps when a connection is
//! accepted and when it ends (the search for a connection to close runs only when a newcomer would
//! otherwise be refused); reading, writing and each request touch only the connection's atomics.

mod idle;
mod in_flight;
mod seats;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use idle::Idle;
use in_flight::Tracked;
use seats::{Listener, Source};

/// How many connections each listener takes and how long it waits for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections per component; past it a newcomer takes an idle connection's place or is
    /// closed at once.
    pub per_listener: usize,
    /// How many of them one client address (IPv6: one /64) may hold; `None`: half, rounded up.
    pub per_address: Option<usize>,
    /// How long an HTTP/1 request head may take to arrive once its first byte has.
    pub header_read_timeout: Duration,
    /// How long any connection may go without reading or writing a byte: never used, kept alive
    /// between requests, or waiting on a slow handler.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            per_listener: default_per_listener(),
            per_address: None,
            header_read_timeout: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(90),
        }
    }
}

impl ConnectionLimits {
    /// How many connections one client address may hold: `per_address`, or half of
    /// `per_listener` rounded up; at least 1 and at most `per_listener`.
    pub fn per_address(&self) -> usize {
        let cap = self.per_listener.max(1);
        self.per_address.unwrap_or(cap.div_ceil(2)).clamp(1, cap)
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

/// Why a connection whose place a newcomer took ends.
fn replaced() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "idle connection closed to make room for another")
}

/// An acceptor that seats connections in the listener's limits, wraps them in [`Idle`] and their
/// service in [`Tracked`].
#[derive(Clone, Debug)]
pub(crate) struct Guarded<A> {
    inner: A,
    listener: Arc<Listener>,
    timeouts: Timeouts,
}

/// The two timeouts of [`Idle`].
#[derive(Clone, Copy, Debug)]
struct Timeouts {
    idle: Duration,
    head: Duration,
}

impl<A> Guarded<A> {
    pub(crate) fn new(inner: A, limits: &ConnectionLimits, service: &'static str) -> Self {
        Self {
            inner,
            listener: Arc::new(Listener::new(limits, service)),
            timeouts: Timeouts { idle: limits.idle_timeout, head: limits.header_read_timeout },
        }
    }
}

type Accepted<S, V> = Pin<Box<dyn Future<Output = io::Result<(Idle<S>, Tracked<V>)>> + Send>>;

impl<S, A> Accept<TcpStream, S> for Guarded<A>
where
    A: Accept<TcpStream, S>,
    A::Future: Send + 'static,
    A::Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = Idle<A::Stream>;
    type Service = Tracked<A::Service>;
    type Future = Accepted<A::Stream, A::Service>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let peer = match stream.peer_addr() {
            Ok(peer) => peer,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        let Some(mut seat) = self.listener.seat(Source::of(peer.ip())) else {
            return Box::pin(std::future::ready(Err(io::Error::other("connection limit reached"))));
        };
        let timeouts = self.timeouts;
        let accepting = self.inner.accept(stream, service);
        Box::pin(async move {
            // A TLS handshake that stalls holds an idle place, and gives it up like one.
            let (stream, service) = tokio::select! {
                biased;
                accepted = accepting => accepted?,
                _ = &mut seat.closed => return Err(replaced()),
            };
            let activity = seat.activity.clone();
            Ok((Idle::new(stream, seat, timeouts), Tracked { inner: service, activity }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_leaves_room_for_five_listeners_under_the_files_limit() {
        let n = super::default_per_listener();
        assert!((32..=1024).contains(&n), "{n}");
        let files = super::open_files_limit().expect("Linux names its open-files limit");
        assert!(n as u64 * 5 < files.max(5 * 32 + 1), "{n} × 5 within {files}");
    }

    #[test]
    fn one_address_may_hold_half_the_slots_unless_told_otherwise() {
        let limits = |per_listener, per_address| ConnectionLimits { per_listener, per_address, ..Default::default() };
        assert_eq!(limits(1024, None).per_address(), 512);
        assert_eq!(limits(33, None).per_address(), 17);
        assert_eq!(limits(1, None).per_address(), 1);
        assert_eq!(limits(16, Some(16)).per_address(), 16);
        assert_eq!(limits(16, Some(100)).per_address(), 16, "never more than the listener takes");
        assert_eq!(limits(16, Some(0)).per_address(), 1, "never none");
    }
}
