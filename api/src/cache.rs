//! Serialized reports per user, served again while the user's data is unchanged.
//!
//! Each user's answers are stamped with the store's `version` for that user,
//! read before the data; a write bumps the version, so the next request
//! misses and recomputes. A cached answer is therefore never older than the
//! data the store would show.

use axum::body::Bytes;
use parking_lot::Mutex;
use spendstream_core::UserId;
use std::collections::HashMap;

/// Answers kept per user (periods, dates); more clears that user's set.
const PER_USER: usize = 64;

struct UserAnswers {
    version: u64,
    answers: HashMap<String, Bytes>,
}

/// A bounded in-process cache of serialized report and statistics bodies.
pub struct ReportCache {
    users: Mutex<HashMap<UserId, UserAnswers>>,
    max_users: usize,
}

impl ReportCache {
    /// A cache for up to `max_users` users; 0 disables it.
    pub fn new(max_users: usize) -> Self {
        ReportCache { users: Mutex::new(HashMap::new()), max_users }
    }

    /// The answer for `key` if it was computed at `version`.
    pub fn get(&self, user: UserId, version: u64, key: &str) -> Option<Bytes> {
        let users = self.users.lock();
        let u = users.get(&user)?;
        if u.version != version {
            return None;
        }
        u.answers.get(key).cloned()
    }

    /// Keeps `body` as the answer for `key` at `version`.
    pub fn put(&self, user: UserId, version: u64, key: String, body: Bytes) {
        if self.max_users == 0 {
            return;
        }
        let mut users = self.users.lock();
        if users.len() >= self.max_users && !users.contains_key(&user) {
            // Drop about half, in the map's arbitrary order: cheap, and the
            // users asking again are re-cached on their next request.
            let keep = self.max_users / 2;
            let drop: Vec<UserId> = users.keys().skip(keep).copied().collect();
            for k in drop {
                users.remove(&k);
            }
        }
        let u = users.entry(user).or_insert_with(|| UserAnswers { version, answers: HashMap::new() });
        if u.version != version {
            // Answers at an older version are dead; a newer one must not be
            // replaced by a request that read an older version.
            if version < u.version {
                return;
            }
            u.version = version;
            u.answers.clear();
        }
        if u.answers.len() >= PER_USER {
            u.answers.clear();
        }
        u.answers.insert(key, body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserId {
        UserId(uuid::Uuid::now_v7())
    }

    #[test]
    fn an_answer_is_served_only_at_its_version() {
        let c = ReportCache::new(10);
        let u = user();
        c.put(u, 3, "month".into(), Bytes::from_static(b"a"));
        assert_eq!(c.get(u, 3, "month").as_deref(), Some(&b"a"[..]));
        assert_eq!(c.get(u, 4, "month"), None);
        assert_eq!(c.get(u, 3, "year"), None);
        assert_eq!(c.get(user(), 3, "month"), None);
    }

    #[test]
    fn a_newer_version_replaces_older_answers_and_an_older_one_is_refused() {
        let c = ReportCache::new(10);
        let u = user();
        c.put(u, 3, "month".into(), Bytes::from_static(b"old"));
        c.put(u, 5, "year".into(), Bytes::from_static(b"new"));
        assert_eq!(c.get(u, 3, "month"), None);
        c.put(u, 4, "month".into(), Bytes::from_static(b"late"));
        assert_eq!(c.get(u, 4, "month"), None);
        assert_eq!(c.get(u, 5, "year").as_deref(), Some(&b"new"[..]));
    }

    #[test]
    fn the_cache_stays_bounded() {
        let c = ReportCache::new(4);
        let users: Vec<UserId> = (0..20).map(|_| user()).collect();
        for u in &users {
            c.put(*u, 1, "k".into(), Bytes::from_static(b"x"));
        }
        assert!(c.users.lock().len() <= 4);
        let u = users[0];
        for i in 0..(PER_USER + 5) {
            c.put(u, 1, format!("k{i}"), Bytes::from_static(b"x"));
        }
        assert!(c.users.lock().get(&u).is_some_and(|a| a.answers.len() <= PER_USER));
    }

    #[test]
    fn a_zero_size_cache_keeps_nothing() {
        let c = ReportCache::new(0);
        let u = user();
        c.put(u, 1, "k".into(), Bytes::from_static(b"x"));
        assert_eq!(c.get(u, 1, "k"), None);
    }
}
