//! A connection's timeouts: idle (no byte either way), and a request head that has started.

use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::seats::Seat;
use super::{Timeouts, replaced};

/// What the first bytes of a connection showed it speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    /// This many bytes matched the HTTP/2 connection preface so far.
    Unknown(usize),
    Http1,
    Http2,
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

impl Protocol {
    fn after(self, bytes: &[u8]) -> Self {
        let Self::Unknown(matched) = self else { return self };
        let n = bytes.len().min(H2_PREFACE.len() - matched);
        if bytes[..n] != H2_PREFACE[matched..matched + n] {
            Self::Http1
        } else if matched + n == H2_PREFACE.len() {
            Self::Http2
        } else {
            Self::Unknown(matched + n)
        }
    }
}

/// A connection that fails with `TimedOut` once it has neither read nor written for its idle
/// timeout or has not completed a request head within the header timeout, fails with
/// `ConnectionAborted` once its place was given to a newcomer, and gives its place back when it
/// ends.
#[derive(Debug)]
pub(crate) struct Idle<S> {
    inner: S,
    seat: Seat,
    timeouts: Timeouts,
    protocol: Protocol,
    /// When the request head now arriving must be complete.
    head_due: Option<Instant>,
    timer: Pin<Box<Sleep>>,
}

impl<S> Idle<S> {
    pub(super) fn new(inner: S, seat: Seat, timeouts: Timeouts) -> Self {
        let deadline = seat.listener.at(seat.activity.last_active()) + timeouts.idle;
        let timer = Box::pin(tokio::time::sleep_until(deadline));
        Self { inner, seat, timeouts, protocol: Protocol::Unknown(0), head_due: None, timer }
    }

    /// Bytes arrived: activity, and the start of a request head if none is arriving or in flight.
    fn arrived(&mut self, bytes: &[u8]) {
        let now = self.seat.touch();
        self.protocol = self.protocol.after(bytes);
        let activity = &self.seat.activity;
        if self.protocol == Protocol::Http2 {
            if self.head_due.take().is_some() {
                activity.head.store(false, Ordering::Relaxed);
            }
        } else if activity.is_idle() {
            activity.head.store(true, Ordering::Relaxed);
            let due = now + self.timeouts.head;
            self.head_due = Some(due);
            if due < self.timer.deadline() {
                self.timer.as_mut().reset(due);
            }
        }
    }

    /// Why the connection must close now, if it must: its place was taken, it idled too long or
    /// its request head is late. Re-arms the timer while none holds (the timer is moved when it
    /// fires or a head starts, not on every read and write).
    fn closing(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        if self.seat.replaced(cx) {
            return Some(replaced());
        }
        while self.timer.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            if let Some(due) = self.head_due {
                if !self.seat.activity.head.load(Ordering::Relaxed) {
                    self.head_due = None;
                } else if now >= due {
                    return Some(io::Error::new(io::ErrorKind::TimedOut, "request head too slow"));
                }
            }
            let idle_due = self.seat.listener.at(self.seat.activity.last_active()) + self.timeouts.idle;
            if now >= idle_due {
                return Some(io::Error::new(io::ErrorKind::TimedOut, "connection idle for too long"));
            }
            self.timer.as_mut().reset(self.head_due.map_or(idle_due, |due| due.min(idle_due)));
        }
        None
    }

    /// What a write came to: a byte written is activity; waiting past a timeout is an error.
    fn wrote(&mut self, cx: &mut Context<'_>, written: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match written {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.seat.touch();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending => match self.closing(cx) {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Pending,
            },
            other => other,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Idle<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.arrived(&buf.filled()[before..]);
                }
                Poll::Ready(r)
            }
            Poll::Pending => match self.closing(cx) {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Pending,
            },
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
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    use super::*;
    use crate::connections::ConnectionLimits;
    use crate::connections::in_flight::InFlight;
    use crate::connections::seats::{Listener, Source};

    fn source(last: u8) -> Source {
        Source(std::net::Ipv4Addr::new(127, 0, 0, last).into())
    }

    const TIMEOUTS: Timeouts = Timeouts { idle: Duration::from_secs(90), head: Duration::from_secs(15) };

    /// A connection from `127.0.0.{from}` to `listener`, over an in-memory pipe, and its client end.
    fn connection(listener: &Arc<Listener>, from: u8) -> (DuplexStream, Idle<DuplexStream>) {
        let (client, server) = tokio::io::duplex(4096);
        let seat = listener.seat(source(from)).expect("a seat");
        (client, Idle::new(server, seat, TIMEOUTS))
    }

    fn listener(per_listener: usize, per_address: Option<usize>) -> Arc<Listener> {
        let limits = ConnectionLimits { per_listener, per_address, ..ConnectionLimits::default() };
        Arc::new(Listener::new(&limits, "test"))
    }

    /// Reads `conn` until it fails; returns the error's kind and how long that took.
    async fn fails(conn: &mut Idle<DuplexStream>) -> (io::ErrorKind, Duration) {
        let started = Instant::now();
        let mut buf = [0u8; 256];
        loop {
            match conn.read(&mut buf).await {
                Ok(0) => panic!("end of stream"),
                Ok(_) => {}
                Err(e) => return (e.kind(), started.elapsed()),
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_never_used_closes_after_the_idle_timeout_not_the_header_timeout() {
        let (_client, mut conn) = connection(&listener(8, None), 1);
        assert_eq!(fails(&mut conn).await, (io::ErrorKind::TimedOut, Duration::from_secs(90)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_started_request_head_must_be_complete_within_the_header_timeout() {
        let (mut client, mut conn) = connection(&listener(8, None), 1);
        tokio::time::sleep(Duration::from_secs(30)).await;
        client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        assert_eq!(fails(&mut conn).await, (io::ErrorKind::TimedOut, Duration::from_secs(15)));
        assert!(conn.seat.activity.head.load(Ordering::Relaxed), "busy while the head arrives");
    }

    #[tokio::test(start_paused = true)]
    async fn a_kept_alive_connection_closes_after_the_idle_timeout_from_its_last_byte() {
        let (mut client, mut conn) = connection(&listener(8, None), 1);
        client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 64];
        assert!(conn.read(&mut buf).await.unwrap() > 0);
        // The request is dispatched and answered 20 s later.
        let request = InFlight::start(&conn.seat.activity);
        tokio::time::sleep(Duration::from_secs(20)).await;
        conn.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await.unwrap();
        drop(request);
        assert!(conn.seat.activity.is_idle());
        assert_eq!(fails(&mut conn).await, (io::ErrorKind::TimedOut, Duration::from_secs(90)));
    }

    #[tokio::test(start_paused = true)]
    async fn http2_frames_between_requests_start_no_header_timer() {
        let (mut client, mut conn) = connection(&listener(8, None), 1);
        client.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(conn.read(&mut buf).await.unwrap(), 24);
        tokio::time::sleep(Duration::from_secs(10)).await;
        client.write_all(b"\0\0\0\x04\0\0\0\0\0").await.unwrap(); // an empty SETTINGS frame
        assert_eq!(conn.read(&mut buf).await.unwrap(), 9);
        assert!(conn.seat.activity.is_idle());
        assert_eq!(fails(&mut conn).await, (io::ErrorKind::TimedOut, Duration::from_secs(90)));
    }

    #[test]
    fn the_preface_is_told_apart_however_it_is_split() {
        assert_eq!(Protocol::Unknown(0).after(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0"), Protocol::Http2);
        assert_eq!(Protocol::Unknown(0).after(b"PRI *").after(b" HTTP/2.0\r\n\r\nSM\r\n\r\n"), Protocol::Http2);
        assert_eq!(Protocol::Unknown(0).after(b"P"), Protocol::Unknown(1));
        assert_eq!(Protocol::Unknown(0).after(b"P").after(b"OST / HTTP/1.1"), Protocol::Http1);
        assert_eq!(Protocol::Unknown(0).after(b"GET"), Protocol::Http1);
        assert_eq!(Protocol::Http1.after(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Protocol::Http1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_replaced_connection_fails_at_once_and_its_newcomer_keeps_the_place() {
        let listener = listener(2, Some(2));
        let (_a, mut quiet) = connection(&listener, 2);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (_b, busy) = connection(&listener, 2);
        busy.seat.activity.in_flight.fetch_add(1, Ordering::Relaxed);
        let (_c, newcomer) = connection(&listener, 1);
        assert_eq!(fails(&mut quiet).await, (io::ErrorKind::ConnectionAborted, Duration::ZERO));
        drop(quiet);
        newcomer.seat.activity.in_flight.fetch_add(1, Ordering::Relaxed);
        assert!(listener.seat(source(3)).is_none(), "still full: the replaced one gave nothing back twice");
    }
}
