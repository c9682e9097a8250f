//! The metrics a request moves, resolved once per label set and kept per thread: a
//! `Family` lookup hashes every label (SipHash over 7 to 9 pairs) under the family's lock,
//! three times a request, which was most of what the request metrics cost. A label set is
//! made of `&'static str`s, so the strings' addresses and lengths identify it for a cheap
//! hash; a handle is the series itself (an `Arc` inside), so what it records is what the
//! family encodes. Nothing removes these series from their families, so a kept handle is
//! never stale.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Past this many label sets a thread forgets its handles and starts over: label sets are
/// few (verbs x resources x codes), so this only bounds a pathological client.
const MAX_KEPT: usize = 4096;

/// A static string by identity (address and length), for hashing without reading it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct StaticStr(usize, usize);

impl StaticStr {
    pub(crate) fn of(s: &'static str) -> StaticStr {
        StaticStr(s.as_ptr() as usize, s.len())
    }
}

/// The Fx hash (rustc's): keys are a few machine words the caller chose, not the peer.
#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;
type FxMap<K, V> = HashMap<K, V, FxBuild>;

/// A per-thread map from a cheap key to handles, made the first time the key is seen.
pub(crate) struct Kept<K, V>(RefCell<FxMap<K, V>>);

impl<K: std::hash::Hash + Eq + Copy, V> Kept<K, V> {
    pub(crate) fn new() -> Self {
        Kept(RefCell::new(FxMap::default()))
    }

    /// Runs `f` on the handles of `key` without cloning them.
    pub(crate) fn with<R>(&self, key: K, make: impl FnOnce() -> V, f: impl FnOnce(&V) -> R) -> R {
        let mut map = self.0.borrow_mut();
        if map.len() >= MAX_KEPT && !map.contains_key(&key) {
            map.clear();
        }
        f(map.entry(key).or_insert_with(make))
    }

    /// Runs `f` on the handles of `key` if there are some.
    pub(crate) fn with_existing<R>(&self, key: K, f: impl FnOnce(&V) -> R) -> Option<R> {
        self.0.borrow().get(&key).map(f)
    }

    /// Keeps `value` for `key` (bounded as `with`).
    pub(crate) fn insert(&self, key: K, value: V) {
        let mut map = self.0.borrow_mut();
        if map.len() >= MAX_KEPT && !map.contains_key(&key) {
            map.clear();
        }
        map.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_made_once_per_key_and_bounded() {
        let kept: Kept<(StaticStr, u16), u32> = Kept::new();
        let mut made = 0;
        for _ in 0..3 {
            kept.with(
                (StaticStr::of("pods"), 200),
                || {
                    made += 1;
                    7
                },
                |_| (),
            );
        }
        assert_eq!(made, 1);
        assert_eq!(kept.with((StaticStr::of("pods"), 200), || 0, |v| *v), 7);
        for code in 0..(MAX_KEPT as u16 + 10) {
            kept.with((StaticStr::of("pods"), code), || 1, |_| ());
        }
        assert!(kept.0.borrow().len() <= MAX_KEPT);
    }
}
