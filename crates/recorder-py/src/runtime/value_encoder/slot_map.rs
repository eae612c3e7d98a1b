//! [`SlotMap`]: a map from (object address, depth) to values that also hands out each value's
//! slot, so a value that refers to another (a remembered encoding to the entries of the
//! objects it holds) can reach it again by index instead of by hashing.
//!
//! The value cache checks an entry's children at every step; with a hash lookup per child
//! (a probe into a table of tens of thousands of entries) the probing was a sixth of the
//! recorder's time on black. A slot is reused after its value is removed, so a reference by
//! slot is checked against the key the slot holds now (and the caller's own generation).

use crate::runtime::id_hash::IdHashMap;

/// The key: an object's address and the depth it was encoded at.
pub type Key = (usize, usize);

/// Values by key, each in a stable slot until removed.
pub struct SlotMap<V> {
    index: IdHashMap<Key, u32>,
    slots: Vec<Option<(Key, V)>>,
    free: Vec<u32>,
}

impl<V> Default for SlotMap<V> {
    fn default() -> Self {
        Self {
            index: IdHashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<V> SlotMap<V> {
    /// The value under `key` and its slot.
    #[inline]
    pub fn get(&self, key: &Key) -> Option<(u32, &V)> {
        let slot = *self.index.get(key)?;
        self.at(slot, key).map(|v| (slot, v))
    }

    /// The value in `slot` when that slot holds `key` now.
    #[inline]
    pub fn at(&self, slot: u32, key: &Key) -> Option<&V> {
        match self.slots.get(slot as usize) {
            Some(Some((k, v))) if k == key => Some(v),
            _ => None,
        }
    }

    /// The value under `key`, mutably.
    pub fn get_mut(&mut self, key: &Key) -> Option<&mut V> {
        let slot = *self.index.get(key)?;
        match self.slots.get_mut(slot as usize) {
            Some(Some((k, v))) if k == key => Some(v),
            _ => None,
        }
    }

    /// Removes and returns the value under `key`; its slot is free for another.
    pub fn remove(&mut self, key: &Key) -> Option<V> {
        let slot = self.index.remove(key)?;
        let (_, v) = self.slots.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        Some(v)
    }

    /// Puts `value` under `key` (replacing any value there).
    pub fn insert(&mut self, key: Key, value: V) {
        if let Some(&slot) = self.index.get(&key) {
            if let Some(s) = self.slots.get_mut(slot as usize) {
                *s = Some((key, value));
                return;
            }
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        if let Some(s) = self.slots.get_mut(slot as usize) {
            *s = Some((key, value));
            self.index.insert(key, slot);
        }
    }

    /// How many values are held.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Removes every value.
    pub fn clear(&mut self) {
        self.index.clear();
        self.slots.clear();
        self.free.clear();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn slots_are_stable_until_removed_and_checked_against_their_key_after_reuse() {
        let mut m = SlotMap::default();
        m.insert((1, 0), "a");
        m.insert((2, 0), "b");
        let (sa, _) = m.get(&(1, 0)).unwrap();
        let (sb, _) = m.get(&(2, 0)).unwrap();
        assert_ne!(sa, sb);
        m.insert((1, 0), "a2");
        assert_eq!(m.get(&(1, 0)), Some((sa, &"a2")));
        assert_eq!(m.remove(&(1, 0)), Some("a2"));
        assert_eq!(m.at(sa, &(1, 0)), None);
        m.insert((3, 1), "c");
        assert_eq!(m.get(&(3, 1)).unwrap().0, sa, "the free slot is reused");
        assert_eq!(
            m.at(sa, &(1, 0)),
            None,
            "a reused slot does not answer for its old key"
        );
        assert_eq!(m.at(sa, &(3, 1)), Some(&"c"));
        *m.get_mut(&(2, 0)).unwrap() = "b2";
        assert_eq!(m.at(sb, &(2, 0)), Some(&"b2"));
        assert_eq!(m.len(), 2);
        m.clear();
        assert_eq!(m.len(), 0);
        assert_eq!(m.get(&(2, 0)), None);
    }
}
