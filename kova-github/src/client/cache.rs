//! A bounded in-memory cache of GET responses by URL, so a repeated request is sent with
//! `If-None-Match` and an unchanged resource costs a 304 (which GitHub does not count against
//! the rate limit) and returns the cached body.

use bytes::Bytes;
use std::collections::HashMap;

/// One cached response.
#[derive(Debug, Clone)]
pub struct Cached {
    /// The `ETag` it came with.
    pub etag: String,
    /// Its body.
    pub body: Bytes,
    /// Its `Link` header: a 304 has none of its own, and paging must go on.
    pub link: Option<String>,
}

/// Least-recently-used cache bounded by entry count and total body bytes.
#[derive(Debug)]
pub struct EtagCache {
    entries: HashMap<String, (Cached, u64)>,
    max_entries: usize,
    max_bytes: usize,
    bytes: usize,
    tick: u64,
}

impl EtagCache {
    /// A cache of at most `max_entries` responses and `max_bytes` of bodies (0 disables it).
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        EtagCache {
            entries: HashMap::new(),
            max_entries,
            max_bytes,
            bytes: 0,
            tick: 0,
        }
    }

    /// The cached response for `key`, marking it recently used.
    pub fn get(&mut self, key: &str) -> Option<Cached> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(key).map(|(c, used)| {
            *used = tick;
            c.clone()
        })
    }

    /// Stores a response, evicting the least recently used ones to stay within bounds. A body
    /// larger than an eighth of the byte budget is not cached, so one huge file cannot flush
    /// everything else.
    pub fn put(&mut self, key: String, value: Cached) {
        self.remove(&key);
        if self.max_entries == 0 || value.body.len() > self.max_bytes / 8 {
            return;
        }
        while !self.entries.is_empty()
            && (self.entries.len() >= self.max_entries
                || self.bytes + value.body.len() > self.max_bytes)
        {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.remove(&k),
                None => break,
            }
        }
        self.tick += 1;
        self.bytes += value.body.len();
        self.entries.insert(key, (value, self.tick));
    }

    /// Forgets `key`.
    pub fn remove(&mut self, key: &str) {
        if let Some((c, _)) = self.entries.remove(key) {
            self.bytes -= c.body.len();
        }
    }

    /// Number of cached responses.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(body: &'static [u8]) -> Cached {
        Cached {
            etag: "\"e\"".into(),
            body: Bytes::from_static(body),
            link: None,
        }
    }

    #[test]
    fn evicts_least_recently_used() {
        let mut c = EtagCache::new(2, 1 << 20);
        c.put("a".into(), entry(b"1"));
        c.put("b".into(), entry(b"2"));
        assert!(c.get("a").is_some());
        c.put("c".into(), entry(b"3"));
        assert_eq!(c.len(), 2);
        assert!(c.get("b").is_none(), "b was least recently used");
        assert!(c.get("a").is_some() && c.get("c").is_some());
    }

    #[test]
    fn bounded_by_bytes_and_skips_huge_bodies() {
        let mut c = EtagCache::new(100, 80);
        c.put("big".into(), entry(&[0; 11]));
        assert_eq!(c.len(), 0);
        for k in ["a", "b", "c", "d", "e", "f", "g", "h", "i"] {
            c.put(k.into(), entry(&[0; 10]));
        }
        assert_eq!(c.len(), 8);
        assert!(c.get("a").is_none());
        c.put("i".into(), entry(b"x"));
        assert_eq!(c.get("i").unwrap().body.len(), 1);
        let mut off = EtagCache::new(0, 0);
        off.put("a".into(), entry(b""));
        assert_eq!(off.len(), 0);
    }
}
