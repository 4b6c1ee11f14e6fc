//! Who holds which of a listener's places: the connections of each client address, which of them
//! are idle, and which one makes room for a newcomer.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Context;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::ConnectionLimits;

/// Whom a connection counts against: its client's IPv4 address, or the /64 of its IPv6 address
/// (one host can use any address of its /64). An IPv4 client of an IPv6 listener counts by its
/// IPv4 address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct Source(pub(super) IpAddr);

impl Source {
    pub(super) fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V6(v6) => Self(IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX)))),
            v4 => Self(v4),
        }
    }
}

/// What one connection is doing, shared by its stream (`Idle`), its service (`Tracked`) and
/// its listener's [`Seats`].
#[derive(Debug)]
pub(super) struct Activity {
    /// Requests dispatched whose response has not been sent in full (HTTP/2 may have several).
    pub(super) in_flight: AtomicU32,
    /// Whether a request head is arriving (its first byte read, the request not dispatched yet).
    pub(super) head: AtomicBool,
    /// When a byte last moved either way, in milliseconds since the listener started.
    last_active: AtomicU64,
}

impl Activity {
    fn new(now_ms: u64) -> Self {
        Self { in_flight: AtomicU32::new(0), head: AtomicBool::new(false), last_active: AtomicU64::new(now_ms) }
    }

    pub(super) fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0 && !self.head.load(Ordering::Relaxed)
    }

    pub(super) fn last_active(&self) -> u64 {
        self.last_active.load(Ordering::Relaxed)
    }
}

/// A seated connection as its listener keeps it: dropping it closes the connection.
#[derive(Debug)]
struct Held {
    activity: Arc<Activity>,
    _close: oneshot::Sender<()>,
}

/// Why a newcomer was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    /// Its address holds its share, and none of those connections is idle.
    Share,
    /// The listener is full, and neither the newcomer's address nor any holding more has an idle one.
    Full,
}

/// A listener's open connections, by client address.
#[derive(Debug, Default)]
struct Seats {
    open: usize,
    by_source: HashMap<Source, Vec<Held>>,
}

impl Seats {
    /// Seats `held` from `source` under `cap` connections and `share` per address. Returns the
    /// connection whose place it took, for the caller to drop (which closes it) outside the lock.
    fn admit(&mut self, source: Source, held: Held, cap: usize, share: usize) -> Result<Option<Held>, Refusal> {
        let mine = self.by_source.get(&source).map_or(0, Vec::len);
        let victim = if mine >= share {
            Some((source, self.quietest_idle_of(source).ok_or(Refusal::Share)?))
        } else if self.open >= cap {
            let own = || self.quietest_idle_of(source).map(|index| (source, index));
            Some(self.quietest_idle_of_the_biggest_holder(mine).or_else(own).ok_or(Refusal::Full)?)
        } else {
            None
        };
        let replaced = victim.and_then(|(from, index)| self.remove(from, index));
        if replaced.is_none() {
            self.open += 1;
        }
        self.by_source.entry(source).or_default().push(held);
        Ok(replaced)
    }

    /// Forgets `activity`'s connection from `source` as it ends (it is gone already if its
    /// place was taken). Returns its entry, to be dropped outside the lock.
    fn release(&mut self, source: Source, activity: &Arc<Activity>) -> Option<Held> {
        let index = self.by_source.get(&source)?.iter().position(|h| Arc::ptr_eq(&h.activity, activity))?;
        self.open -= 1;
        self.remove(source, index)
    }

    fn remove(&mut self, source: Source, index: usize) -> Option<Held> {
        let held = self.by_source.get_mut(&source)?;
        let removed = held.swap_remove(index);
        if held.is_empty() {
            self.by_source.remove(&source);
        }
        Some(removed)
    }

    /// The idle connection of `source` that has been quiet longest.
    fn quietest_idle_of(&self, source: Source) -> Option<usize> {
        let held = self.by_source.get(&source)?;
        let idle = held.iter().enumerate().filter(|(_, h)| h.activity.is_idle());
        idle.min_by_key(|(_, h)| h.activity.last_active()).map(|(i, _)| i)
    }

    /// The quietest idle connection of the address holding the most among those holding more than
    /// `mine` and having an idle one.
    fn quietest_idle_of_the_biggest_holder(&self, mine: usize) -> Option<(Source, usize)> {
        let mut best: Option<(usize, u64, Source, usize)> = None;
        for (source, held) in self.by_source.iter().filter(|(_, held)| held.len() > mine) {
            for (index, h) in held.iter().enumerate().filter(|(_, h)| h.activity.is_idle()) {
                let quiet = h.activity.last_active();
                let better = best.is_none_or(|(n, q, _, _)| held.len() > n || (held.len() == n && quiet < q));
                if better {
                    best = Some((held.len(), quiet, *source, index));
                }
            }
        }
        best.map(|(_, _, source, index)| (source, index))
    }
}

/// One listener's connections and limits.
#[derive(Debug)]
pub(super) struct Listener {
    service: &'static str,
    cap: usize,
    share: usize,
    started: Instant,
    seats: Mutex<Seats>,
    refused: AtomicU64,
    replaced: AtomicU64,
}

impl Listener {
    pub(super) fn new(limits: &ConnectionLimits, service: &'static str) -> Self {
        Self {
            service,
            cap: limits.per_listener.max(1),
            share: limits.per_address(),
            started: Instant::now(),
            seats: Mutex::new(Seats::default()),
            refused: AtomicU64::new(0),
            replaced: AtomicU64::new(0),
        }
    }

    fn millis(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.started).as_millis()).unwrap_or(u64::MAX)
    }

    pub(super) fn at(&self, millis: u64) -> Instant {
        self.started + Duration::from_millis(millis)
    }

    /// A seat for a newcomer from `source`, or `None` when it is refused.
    pub(super) fn seat(self: &Arc<Self>, source: Source) -> Option<Seat> {
        let activity = Arc::new(Activity::new(self.millis(Instant::now())));
        let (close, closed) = oneshot::channel();
        let held = Held { activity: activity.clone(), _close: close };
        let admitted =
            self.seats.lock().unwrap_or_else(PoisonError::into_inner).admit(source, held, self.cap, self.share);
        match admitted {
            Ok(replaced) => {
                if replaced.is_some() {
                    let n = self.replaced.fetch_add(1, Ordering::Relaxed) + 1;
                    if n.is_power_of_two() {
                        tracing::info!(
                            service = self.service,
                            replaced = n,
                            "connections full: closing idle connections to make room for new ones"
                        );
                    }
                }
                Some(Seat { listener: self.clone(), source, activity, closed, replaced: false })
            }
            Err(refusal) => {
                let n = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_power_of_two() {
                    let why = match refusal {
                        Refusal::Share => {
                            "one address holds its share of connections, all busy (see --max-connections-per-address)"
                        }
                        Refusal::Full => {
                            "connection limit reached, all busy: closing new connections until some end (see --max-connections)"
                        }
                    };
                    tracing::warn!(service = self.service, refused = n, address = %source.0, "{why}");
                }
                None
            }
        }
    }
}

/// A connection's place in its listener, given back when it is dropped.
#[derive(Debug)]
pub(super) struct Seat {
    pub(super) listener: Arc<Listener>,
    source: Source,
    pub(super) activity: Arc<Activity>,
    /// Ready once the listener gave this place to a newcomer.
    pub(super) closed: oneshot::Receiver<()>,
    replaced: bool,
}

impl Seat {
    /// Whether the listener gave this connection's place to a newcomer (registers `cx` until then).
    pub(super) fn replaced(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.replaced && Pin::new(&mut self.closed).poll(cx).is_ready() {
            self.replaced = true;
        }
        self.replaced
    }

    /// Now, and when the connection last moved a byte.
    pub(super) fn touch(&self) -> Instant {
        let now = Instant::now();
        self.activity.last_active.store(self.listener.millis(now), Ordering::Relaxed);
        now
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut seats = self.listener.seats.lock().unwrap_or_else(PoisonError::into_inner);
        let released = seats.release(self.source, &self.activity);
        drop(seats);
        drop(released);
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn an_ipv6_client_counts_by_its_64_and_an_ipv4_client_of_an_ipv6_listener_by_its_ipv4_address() {
        let a: Ipv6Addr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8:1:2:bbbb::7".parse().unwrap();
        let other: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(Source::of(a.into()), Source::of(b.into()));
        assert_ne!(Source::of(a.into()), Source::of(other.into()));
        assert_eq!(Source::of(IpAddr::V6(Ipv4Addr::new(10, 0, 0, 7).to_ipv6_mapped())).0, Ipv4Addr::new(10, 0, 0, 7));
        assert_ne!(Source::of(Ipv4Addr::new(127, 0, 0, 1).into()), Source::of(Ipv4Addr::new(127, 0, 0, 2).into()));
    }

    /// A connection as a test sees it: its activity and whether the listener closed it.
    struct Conn {
        activity: Arc<Activity>,
        closed: oneshot::Receiver<()>,
    }

    impl Conn {
        fn closed(&mut self) -> bool {
            matches!(self.closed.try_recv(), Err(oneshot::error::TryRecvError::Closed))
        }
        fn busy(self) -> Self {
            self.activity.in_flight.fetch_add(1, Ordering::Relaxed);
            self
        }
    }

    fn source(last: u8) -> Source {
        Source(Ipv4Addr::new(127, 0, 0, last).into())
    }

    /// Seats a connection from `127.0.0.{from}` last active at `quiet_since` (ms).
    fn admit(seats: &mut Seats, from: u8, quiet_since: u64, cap: usize, share: usize) -> Result<Conn, Refusal> {
        let activity = Arc::new(Activity::new(quiet_since));
        let (close, closed) = oneshot::channel();
        seats.admit(source(from), Held { activity: activity.clone(), _close: close }, cap, share)?;
        Ok(Conn { activity, closed })
    }

    fn held_by(seats: &Seats, from: u8) -> usize {
        seats.by_source.get(&source(from)).map_or(0, Vec::len)
    }

    #[test]
    fn an_address_at_its_share_replaces_its_own_quietest_idle_connection() {
        let mut seats = Seats::default();
        let mut first = admit(&mut seats, 2, 10, 8, 2).unwrap();
        let mut second = admit(&mut seats, 2, 5, 8, 2).unwrap();
        let mut third = admit(&mut seats, 2, 20, 8, 2).unwrap();
        assert!(second.closed(), "the quietest of the two went");
        assert!(!first.closed() && !third.closed());
        assert_eq!((seats.open, held_by(&seats, 2)), (2, 2));
        // Once none of its connections is idle, the address is refused.
        let mut seats = Seats::default();
        let _busy = [admit(&mut seats, 2, 1, 8, 2).unwrap().busy(), admit(&mut seats, 2, 2, 8, 2).unwrap().busy()];
        assert_eq!(admit(&mut seats, 2, 3, 8, 2).err(), Some(Refusal::Share));
        assert_eq!((seats.open, held_by(&seats, 2)), (2, 2));
        // Another address still gets in.
        assert!(admit(&mut seats, 1, 4, 8, 2).is_ok());
    }

    #[test]
    fn a_full_listener_closes_the_quietest_idle_connection_of_the_address_holding_the_most() {
        let mut seats = Seats::default();
        let mut small = [admit(&mut seats, 3, 1, 6, 6).unwrap(), admit(&mut seats, 3, 2, 6, 6).unwrap()];
        let mut big = [
            admit(&mut seats, 2, 30, 6, 6).unwrap().busy(),
            admit(&mut seats, 2, 20, 6, 6).unwrap(),
            admit(&mut seats, 2, 40, 6, 6).unwrap(),
            admit(&mut seats, 2, 10, 6, 6).unwrap().busy(),
        ];
        let _newcomer = admit(&mut seats, 1, 50, 6, 6).unwrap();
        let closed: Vec<bool> = big.iter_mut().map(Conn::closed).collect();
        assert_eq!(closed, [false, true, false, false], "the quietest idle one, not a busy one");
        assert!(small.iter_mut().all(|c| !c.closed()), "the smaller holder keeps its connections");
        assert_eq!((seats.open, held_by(&seats, 1), held_by(&seats, 2), held_by(&seats, 3)), (6, 1, 3, 2));
    }

    #[test]
    fn a_full_listener_takes_the_newcomers_own_idle_connection_or_refuses_it() {
        let mut seats = Seats::default();
        let _big = [admit(&mut seats, 2, 1, 4, 4).unwrap().busy(), admit(&mut seats, 2, 2, 4, 4).unwrap().busy()];
        let mut mine = [admit(&mut seats, 1, 3, 4, 4).unwrap(), admit(&mut seats, 1, 4, 4, 4).unwrap().busy()];
        assert!(admit(&mut seats, 1, 5, 4, 4).is_ok(), "127.0.0.2 holds no more than 127.0.0.1 and none is idle");
        assert!(mine[0].closed() && !mine[1].closed(), "127.0.0.1's own idle connection made room");
        assert_eq!((seats.open, held_by(&seats, 1), held_by(&seats, 2)), (4, 2, 2));
        // Once every connection is busy, newcomers are refused.
        for held in &seats.by_source[&source(1)] {
            held.activity.in_flight.fetch_add(1, Ordering::Relaxed);
        }
        assert_eq!(admit(&mut seats, 3, 6, 4, 4).err(), Some(Refusal::Full));
        assert_eq!(admit(&mut seats, 1, 6, 4, 4).err(), Some(Refusal::Full));
        assert_eq!(seats.open, 4);
    }

    #[test]
    fn a_connection_gives_its_place_back_once_even_after_it_was_replaced() {
        let mut seats = Seats::default();
        let a = admit(&mut seats, 2, 1, 2, 2).unwrap();
        let b = admit(&mut seats, 2, 2, 2, 2).unwrap();
        let _c = admit(&mut seats, 2, 3, 2, 2).unwrap(); // takes a's place
        assert!(seats.release(source(2), &a.activity).is_none(), "a was gone already");
        assert_eq!(seats.open, 2);
        assert!(seats.release(source(2), &b.activity).is_some());
        assert_eq!((seats.open, held_by(&seats, 2)), (1, 1));
        assert!(admit(&mut seats, 1, 4, 2, 2).is_ok());
        assert_eq!(seats.open, 2);
    }
}
