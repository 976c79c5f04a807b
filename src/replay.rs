//! Replay memory: the `state`s this process saw completed, so a callback replayed with an old
//! copy of the session cookie redeems nothing.

use std::{collections::HashMap, sync::Mutex};

use crate::wire::now_unix;

/// The most used `state`s remembered; beyond it (after forgetting expired ones) replays are
/// stopped by the session and the provider's single-use codes alone.
const MAX_REMEMBERED_STATES: usize = 100_000;

/// The `state`s completed in this process (SHA-256 digests, with when they expire).
#[derive(Default)]
pub(crate) struct UsedStates(Mutex<Memory>);

#[derive(Default)]
struct Memory {
    expiry: HashMap<[u8; 32], u64>,
    /// Sweeping a full map is not tried again before this second: a flood of callbacks cannot
    /// make every sign-in walk 100 000 entries under the lock.
    next_sweep: u64,
}

impl UsedStates {
    /// Whether this process saw `state` completed within its lifetime.
    pub(crate) fn was_used(&self, state: &str) -> bool {
        self.was_used_at(state, now_unix())
    }

    /// [`was_used`](Self::was_used) at `now` (seconds since the Unix epoch).
    fn was_used_at(&self, state: &str, now: u64) -> bool {
        let used = self.0.lock().unwrap_or_else(|e| e.into_inner());
        used.expiry
            .get(&state_key(state))
            .is_some_and(|expires| *expires > now)
    }

    /// Records a `state` as used for `lifetime_secs`; `false` if this process saw it used
    /// before (a callback replayed with an old copy of the session cookie). Only for values we
    /// draw (OAuth 2 `state`: 256 random bits, so a repeat is a replay); an OAuth 1.0a request
    /// token is the provider's, and the provider makes it single use.
    pub(crate) fn consume(&self, state: &str, lifetime_secs: u64) -> bool {
        self.consume_at(state, lifetime_secs, now_unix())
    }

    /// [`consume`](Self::consume) at `now` (seconds since the Unix epoch).
    fn consume_at(&self, state: &str, lifetime_secs: u64, now: u64) -> bool {
        let key = state_key(state);
        let mut used = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if used.expiry.len() >= MAX_REMEMBERED_STATES && now >= used.next_sweep {
            used.expiry.retain(|_, expires| *expires > now);
            used.next_sweep = now + 1;
        }
        if used.expiry.contains_key(&key) {
            return false;
        }
        if used.expiry.len() < MAX_REMEMBERED_STATES {
            used.expiry.insert(key, now + lifetime_secs);
        }
        true
    }
}

/// The key a shared store keeps a used value under: `namespace:` and the value's SHA-256 digest
/// in hex (the store holds no `state` or `jti` values).
pub(crate) fn store_key(namespace: &str, value: &str) -> String {
    use std::fmt::Write as _;
    state_key(value)
        .iter()
        .fold(format!("{namespace}:"), |mut key, b| {
            let _ = write!(key, "{b:02x}");
            key
        })
}

/// The used-state memory's key: a digest, so the memory holds no `state` values.
fn state_key(state: &str) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(state.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::{UsedStates, MAX_REMEMBERED_STATES};

    #[test]
    fn a_state_is_consumed_once() {
        let used = UsedStates::default();
        assert!(!used.was_used("a"));
        assert!(used.consume("a", 600));
        assert!(used.was_used("a"));
        assert!(!used.was_used("b"), "only the state consumed");
        assert!(!used.consume("a", 600), "a replay");
        assert!(used.consume("b", 600), "another state");
        assert!(used.was_used("b"));
    }

    #[test]
    fn a_state_is_remembered_for_its_lifetime() {
        let used = UsedStates::default();
        assert!(used.consume_at("a", 10, 1000));
        assert!(used.was_used_at("a", 1000));
        assert!(used.was_used_at("a", 1009));
        assert!(!used.was_used_at("a", 1010), "expired");
        assert!(!used.was_used_at("b", 1000));
    }

    #[test]
    fn a_full_memory_forgets_expired_states_and_remembers_no_more() {
        let used = UsedStates::default();
        for i in 0..MAX_REMEMBERED_STATES {
            assert!(used.consume_at(&i.to_string(), 10, 1000));
        }
        // Full, nothing expired: a new state passes (the session and the provider's single-use
        // codes stop its replay), but is not remembered; the old ones still are.
        assert!(used.consume_at("new", 10, 1005));
        assert!(!used.was_used_at("new", 1005));
        assert!(used.consume_at("new", 10, 1005));
        assert!(!used.consume_at("0", 10, 1005));
        assert!(used.was_used_at("99999", 1005));
        // Once they expired, a sweep makes room.
        assert!(used.consume_at("later", 10, 1010));
        assert!(used.was_used_at("later", 1010));
        assert!(!used.consume_at("later", 10, 1011));
        assert_eq!(used.0.lock().unwrap().expiry.len(), 1);
    }
}
