//! Failed sign-ins, rate-limited per peer: after [`FREE_FAILURES`] failures in a row from one
//! address (a wrong Basic-auth password, a wrong bearer token), every request from it is
//! refused, without its credentials being looked at, for a back-off that doubles with each
//! further failure: [`FIRST_BACKOFF`], twice that, ... up to [`MAX_BACKOFF`]. A success
//! forgets the address's failures; so does [`FORGET_AFTER`] without one. Each failure is
//! logged on stderr (the peer, the user, the count; never the password). The table holds at
//! most [`MAX_PEERS`] addresses (IPv6 ones by their /64 network, which one client owns whole).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tonic::Status;

/// Failures in a row an address may have before back-off starts (typing mistakes).
pub const FREE_FAILURES: u32 = 3;
/// The back-off after the first failure beyond [`FREE_FAILURES`]; each further one doubles it.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest back-off.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// An address with no failure for this long starts afresh.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// The most addresses the table remembers.
pub const MAX_PEERS: usize = 10_000;

/// One address's failures.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

/// The failed sign-ins of every peer.
#[derive(Debug, Default)]
pub struct Throttle {
    peers: Mutex<HashMap<IpAddr, Failures>>,
}

/// The key of an address: itself, or for IPv6 its /64 network.
fn peer_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
    }
}

/// The back-off after `count` failures in a row.
fn backoff(count: u32) -> Option<Duration> {
    let beyond = count.checked_sub(FREE_FAILURES)?.checked_sub(1)?;
    let factor = 1u32.checked_shl(beyond.min(31)).unwrap_or(u32::MAX);
    Some(FIRST_BACKOFF.saturating_mul(factor).min(MAX_BACKOFF))
}

/// Text from a client, fit for one log line: control characters escaped, at most 64 chars.
fn shown(text: &str) -> String {
    let escaped: String = text
        .chars()
        .take(64)
        .flat_map(char::escape_default)
        .collect();
    if text.chars().count() > 64 {
        format!("{escaped}...")
    } else {
        escaped
    }
}

impl Throttle {
    /// A throttle with no failures.
    pub fn new() -> Self {
        Self::default()
    }

    /// Refuses a request from `ip` while its back-off lasts.
    pub fn admit(&self, ip: Option<IpAddr>) -> Result<(), Status> {
        let Some(ip) = ip else { return Ok(()) };
        let Ok(peers) = self.peers.lock() else {
            return Ok(());
        };
        let Some(until) = peers.get(&peer_key(ip)).and_then(|f| f.blocked_until) else {
            return Ok(());
        };
        let now = Instant::now();
        if until <= now {
            return Ok(());
        }
        let wait = (until - now).as_secs_f64().ceil();
        Err(Status::resource_exhausted(format!(
            "too many failed sign-ins from {ip}: refused for {wait:.0} s more (every further \
             failure doubles the wait, up to {} s)",
            MAX_BACKOFF.as_secs()
        )))
    }

    /// Records a failed sign-in from `ip` as `user` (a user name, or "bearer token") and logs
    /// it on stderr.
    pub fn failed(&self, ip: Option<IpAddr>, user: &str) {
        let Some(ip) = ip else { return };
        let Ok(mut peers) = self.peers.lock() else {
            return;
        };
        let now = Instant::now();
        let key = peer_key(ip);
        if peers.len() >= MAX_PEERS && !peers.contains_key(&key) {
            peers.retain(|_, f| f.blocked_until.is_some_and(|u| u > now));
            if peers.len() >= MAX_PEERS {
                // Still full of blocked addresses: drop the one unblocked soonest.
                let soonest = peers
                    .iter()
                    .min_by_key(|(_, f)| f.blocked_until)
                    .map(|(k, _)| *k);
                if let Some(k) = soonest {
                    peers.remove(&k);
                }
            }
        }
        let entry = peers.entry(key).or_insert(Failures {
            count: 0,
            last: now,
            blocked_until: None,
        });
        if now.duration_since(entry.last) > FORGET_AFTER {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        let wait = backoff(entry.count);
        entry.blocked_until = wait.map(|w| now + w);
        let count = entry.count;
        drop(peers);
        let then = match wait {
            Some(w) => format!("; requests from it refused for {} s", w.as_secs()),
            None => String::new(),
        };
        eprintln!(
            "apiary: failed sign-in from {ip} (user '{}'): {count} in a row{then}",
            shown(user)
        );
    }

    /// Forgets the failures of `ip` after a successful sign-in.
    pub fn succeeded(&self, ip: Option<IpAddr>) {
        let Some(ip) = ip else { return };
        if let Ok(mut peers) = self.peers.lock() {
            peers.remove(&peer_key(ip));
        }
    }

    /// How many addresses the table holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.peers.lock().map(|p| p.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap_or_else(|e| unreachable!("{e}")))
    }

    #[test]
    fn backoff_starts_after_the_free_failures_and_doubles_to_the_cap() {
        assert_eq!(backoff(FREE_FAILURES), None);
        assert_eq!(backoff(FREE_FAILURES + 1), Some(FIRST_BACKOFF));
        assert_eq!(backoff(FREE_FAILURES + 2), Some(FIRST_BACKOFF * 2));
        assert_eq!(backoff(FREE_FAILURES + 3), Some(FIRST_BACKOFF * 4));
        assert_eq!(backoff(FREE_FAILURES + 30), Some(MAX_BACKOFF));
        assert_eq!(backoff(u32::MAX), Some(MAX_BACKOFF));
    }

    #[test]
    fn failures_block_their_peer_only_until_a_success() {
        let t = Throttle::new();
        for _ in 0..FREE_FAILURES {
            t.failed(ip("10.0.0.1"), "ann");
            assert!(t.admit(ip("10.0.0.1")).is_ok());
        }
        t.failed(ip("10.0.0.1"), "ann\nforged line");
        let refused = t.admit(ip("10.0.0.1"));
        assert_eq!(
            refused.err().map(|s| s.code()),
            Some(tonic::Code::ResourceExhausted)
        );
        assert!(t.admit(ip("10.0.0.2")).is_ok());
        t.succeeded(ip("10.0.0.1"));
        assert!(t.admit(ip("10.0.0.1")).is_ok());
    }

    #[test]
    fn ipv6_peers_count_by_network_and_the_table_is_bounded() {
        let t = Throttle::new();
        for _ in 0..=FREE_FAILURES {
            t.failed(ip("2001:db8::1"), "x");
        }
        assert!(t.admit(ip("2001:db8::ffff")).is_err());
        assert!(t.admit(ip("2001:db8:0:1::1")).is_ok());
        for i in 0..(MAX_PEERS as u32 + 10) {
            t.failed(Some(IpAddr::V4(i.into())), "x");
        }
        assert!(t.len() <= MAX_PEERS);
        assert_eq!(shown("a\nb"), "a\\nb");
    }
}
