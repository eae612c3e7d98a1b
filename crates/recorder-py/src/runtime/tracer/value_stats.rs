//! [`ValueStats`]: what the values of one recording carried — how many were written, their
//! nodes and encoded bytes, and how many of them the value cache handed out whole — for the
//! finish summary and `trace_metadata.json` (the benchmarks divide them by the steps).
//!
//! Counted once per value written (a `Value` of a step, an argument of a `Call`, the value of
//! a `Return`): a few integer adds, no allocation.

/// Counters of the values one recording wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValueStats {
    /// Values written: step variables, call arguments and return values (a redaction or
    /// drop marker of a return included; a dropped variable or argument writes nothing).
    pub count: u64,
    /// Their nodes, as the node budget (`max_value_nodes`) counts them: one per scalar,
    /// container and object (an object's field values are nodes of their own), three per
    /// dict entry (the pair, its key, its value); a marker is one.
    pub nodes: u64,
    /// Their encoded bytes (the value alone, before the record around it and before any
    /// compression).
    pub bytes: u64,
    /// Of those values, the ones the value cache handed out whole (not encoded again).
    pub reused: u64,
    /// Their nodes.
    pub reused_nodes: u64,
    /// Their bytes.
    pub reused_bytes: u64,
    /// Every copy the value cache made: the whole values above and the unchanged parts
    /// copied into values that were encoded again (the container cache's copies of runs of
    /// atoms are not counted).
    pub cache_copies: u64,
}

impl ValueStats {
    /// One value written: `bytes` long, `nodes` nodes, `reused` when it came whole from the
    /// value cache.
    #[inline(always)]
    pub fn note(&mut self, bytes: usize, nodes: usize, reused: bool) {
        let (bytes, nodes) = (bytes as u64, nodes as u64);
        self.count += 1;
        self.nodes += nodes;
        self.bytes += bytes;
        if reused {
            self.reused += 1;
            self.reused_nodes += nodes;
            self.reused_bytes += bytes;
        }
    }

    /// The `values` block of the finish summary and of `trace_metadata.json`'s `counters`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "count": self.count,
            "nodes": self.nodes,
            "bytes": self.bytes,
            "reused": self.reused,
            "reused_nodes": self.reused_nodes,
            "reused_bytes": self.reused_bytes,
            "cache_copies": self.cache_copies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ValueStats;

    #[test]
    fn notes_add_up_and_reused_values_are_a_part_of_all() {
        let mut s = ValueStats::default();
        s.note(10, 4, false);
        s.note(7, 3, true);
        s.note(1, 1, false);
        assert_eq!((s.count, s.nodes, s.bytes), (3, 8, 18));
        assert_eq!((s.reused, s.reused_nodes, s.reused_bytes), (1, 3, 7));
        let json = s.to_json();
        assert_eq!(json["count"], 3);
        assert_eq!(json["nodes"], 8);
        assert_eq!(json["bytes"], 18);
        assert_eq!(json["reused_bytes"], 7);
        assert_eq!(json["cache_copies"], 0);
    }
}
