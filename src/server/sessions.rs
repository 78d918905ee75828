//! The server's sessions, one per client connection: kept while used, forgotten after
//! [`SESSION_IDLE_TTL`] without a call, and never more than [`MAX_SESSIONS`] at once (a
//! client opening connection after connection must not grow the server without bound).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tonic::Status;

/// How long a session lives without a call (its `USE`, `SET` and temporary views go with it).
pub const SESSION_IDLE_TTL: Duration = Duration::from_secs(3600);

/// The most sessions the server keeps; past it, the least recently used idle one is
/// forgotten, and when none is idle a new client is told to come back later.
pub const MAX_SESSIONS: usize = 10_000;

struct Entry<T> {
    session: Arc<T>,
    last_used: Instant,
}

/// Sessions by connection key.
pub struct Sessions<T> {
    table: Mutex<HashMap<String, Entry<T>>>,
    idle_ttl: Duration,
    max: usize,
}

impl<T> Sessions<T> {
    /// A table forgetting sessions idle for `idle_ttl`, holding at most `max`.
    pub fn new(idle_ttl: Duration, max: usize) -> Self {
        Self {
            table: Mutex::new(HashMap::new()),
            idle_ttl,
            max: max.max(1),
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Entry<T>>>, Status> {
        self.table
            .lock()
            .map_err(|_| Status::internal("session table poisoned"))
    }

    /// The session of `key`, if it has one (it counts as used now).
    pub fn get(&self, key: &str) -> Result<Option<Arc<T>>, Status> {
        let mut table = self.lock()?;
        Ok(table.get_mut(key).map(|e| {
            e.last_used = Instant::now();
            Arc::clone(&e.session)
        }))
    }

    /// Keeps `session` for `key` (or returns the one another call kept first), after
    /// forgetting expired sessions; RESOURCE_EXHAUSTED when the table is full of sessions in
    /// use.
    pub fn insert(&self, key: &str, session: T) -> Result<Arc<T>, Status> {
        let mut table = self.lock()?;
        if let Some(e) = table.get_mut(key) {
            e.last_used = Instant::now();
            return Ok(Arc::clone(&e.session));
        }
        // A session is idle when no call holds it.
        let idle = |e: &Entry<T>| Arc::strong_count(&e.session) == 1;
        let ttl = self.idle_ttl;
        table.retain(|_, e| !(idle(e) && e.last_used.elapsed() >= ttl));
        if table.len() >= self.max {
            let oldest = table
                .iter()
                .filter(|(_, e)| idle(e))
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    table.remove(&k);
                }
                None => {
                    return Err(Status::resource_exhausted(format!(
                        "the server has {} sessions in use, the most it keeps; try again later",
                        table.len()
                    )));
                }
            }
        }
        let session = Arc::new(session);
        table.insert(
            key.to_string(),
            Entry {
                session: Arc::clone(&session),
                last_used: Instant::now(),
            },
        );
        Ok(session)
    }

    /// How many sessions are kept.
    pub fn len(&self) -> usize {
        self.table.lock().map(|t| t.len()).unwrap_or(0)
    }

    /// Whether no session is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok<T>(r: Result<T, Status>) -> T {
        r.unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn idle_sessions_expire_and_the_table_is_bounded() {
        let sessions = Sessions::new(Duration::from_millis(50), 3);
        let a = ok(sessions.insert("a", 1));
        ok(sessions.insert("b", 2));
        ok(sessions.insert("c", 3));
        // Full: the least recently used idle session ("b"; "a" is held) makes room.
        ok(sessions.insert("d", 4));
        assert_eq!(sessions.len(), 3);
        assert!(ok(sessions.get("b")).is_none());
        assert_eq!(ok(sessions.get("a")).map(|s| *s), Some(1));
        // Every session held: no room, a clear refusal.
        let held: Vec<_> = ["c", "d"]
            .iter()
            .filter_map(|k| ok(sessions.get(k)))
            .collect();
        let refused = sessions.insert("e", 5).err().map(|s| s.code());
        assert_eq!(refused, Some(tonic::Code::ResourceExhausted));
        drop(held);
        drop(a);
        // Idle past the TTL: forgotten at the next insert.
        std::thread::sleep(Duration::from_millis(80));
        ok(sessions.insert("f", 6));
        assert_eq!(sessions.len(), 1);
        assert!(ok(sessions.get("a")).is_none());
    }
}
