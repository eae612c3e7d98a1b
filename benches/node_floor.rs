//! node_floor: the cheapest per-node check a recorder could hope for, on this machine (#13).
//!
//! A recorder that must prove, at every step, that each visible value is unchanged since the
//! last step (to copy its bytes instead of encoding it again) still looks at every node: it
//! compares the object now at each position with the one remembered there. This measures that
//! check at its cheapest — no hashing, no type checks, no Python, no bytes copied: a walk over
//! a tree of separately allocated objects (allocated in shuffled order, as a long-running
//! program's heap is), comparing each child pointer with a flat snapshot and following the
//! children that are containers (atoms are compared, not entered). The tree is walked again and
//! again, so it is in the caches as the values of a loop's frame are; sizes from 64 to 65 536
//! nodes show where it stops fitting. Also printed: memcpy per byte (the copy of remembered
//! bytes into the trace, in cache).
//!
//! Run (not part of the workspace; no dependencies):
//!
//! ```text
//! rustc -C opt-level=3 -C target-cpu=native benches/node_floor.rs -o /tmp/node_floor
//! /tmp/node_floor
//! ```
//!
//! Feed the `ns/node` of a size like the real programs' nodes per step to
//! `benches/real_programs.py --node-ns NS`.

use std::hint::black_box;
use std::time::Instant;

/// A live object: its children (null-free), and whether it is an atom (not entered).
struct Obj {
    kids: Vec<*const Obj>,
    atom: bool,
}

/// xorshift64*: a fixed, dependency-free shuffle.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// `n` objects in shuffled heap order: containers of `fanout` children, 3 atoms per
/// container on average, as instances with a few scalar attributes and small lists are.
fn build(n: usize, fanout: usize) -> (Vec<Box<Obj>>, usize) {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next(&mut seed) % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    // Allocate in shuffled order; object k of the tree is `objs[slot[k]]`.
    let mut objs: Vec<Box<Obj>> = Vec::with_capacity(n);
    let mut slot = vec![0usize; n];
    for &k in &order {
        slot[k] = objs.len();
        objs.push(Box::new(Obj {
            kids: Vec::new(),
            atom: false,
        }));
    }
    // Breadth-first shape: node k's children are the next `fanout` unassigned nodes; a node
    // with no children is an atom.
    let mut next_kid = 1;
    for k in 0..n {
        let mut kids = Vec::new();
        while kids.len() < fanout && next_kid < n {
            kids.push(&*objs[slot[next_kid]] as *const Obj);
            next_kid += 1;
        }
        let o = &mut objs[slot[k]];
        o.atom = kids.is_empty();
        o.kids = kids;
    }
    (objs, slot[0])
}

/// The snapshot a cache entry would hold: every child pointer in walk order.
fn snapshot(o: &Obj, out: &mut Vec<*const Obj>) {
    for &k in &o.kids {
        out.push(k);
        // SAFETY: every kid points into the live `objs` of `build`.
        let kid = unsafe { &*k };
        if !kid.atom {
            snapshot(kid, out);
        }
    }
}

/// The check: the same child at every position, recursively; `false` at the first change.
fn unchanged(o: &Obj, snap: &[*const Obj], at: &mut usize) -> bool {
    for &k in &o.kids {
        if snap.get(*at) != Some(&k) {
            return false;
        }
        *at += 1;
        // SAFETY: as in `snapshot`.
        let kid = unsafe { &*k };
        if !kid.atom && !unchanged(kid, snap, at) {
            return false;
        }
    }
    true
}

/// Seconds per call of `round`: the best of 5 runs of ~0.1 s each (the least disturbed by
/// other load on a shared machine).
fn time_per_round(mut round: impl FnMut() -> bool) -> f64 {
    let mut rounds = 1u64;
    let mut best = f64::INFINITY;
    let mut runs = 0;
    while runs < 5 {
        let start = Instant::now();
        for _ in 0..rounds {
            assert!(black_box(round()));
        }
        let s = start.elapsed().as_secs_f64();
        if s < 0.1 {
            rounds *= 2;
            continue;
        }
        best = best.min(s / rounds as f64);
        runs += 1;
    }
    best
}

fn main() {
    println!("pointer-compare walk (fanout 4, shuffled heap, warm): ns per node");
    for n in [64usize, 256, 1024, 4096, 16384, 65536] {
        let (objs, root) = build(n, 4);
        let root_obj: &Obj = &objs[root];
        let mut snap = Vec::with_capacity(n);
        snapshot(root_obj, &mut snap);
        let per_round = time_per_round(|| {
            let mut at = 0;
            unchanged(black_box(root_obj), black_box(&snap), &mut at) && at == n - 1
        });
        println!("  {n:>6} nodes: {:.2} ns/node", per_round * 1e9 / n as f64);
    }
    println!("flat array compare (a list of atoms): ns per node");
    for n in [1024usize, 65536] {
        let live: Vec<usize> = (0..n).map(|i| i * 48 + 0x1000).collect();
        let snap = live.clone();
        let per_round = time_per_round(|| black_box(&live) == black_box(&snap));
        println!("  {n:>6} nodes: {:.3} ns/node", per_round * 1e9 / n as f64);
    }
    println!("memcpy (in cache): ns per byte");
    for len in [4096usize, 32768] {
        let src = vec![7u8; len];
        let mut dst = vec![0u8; len];
        let per_round = time_per_round(|| {
            dst.copy_from_slice(black_box(&src));
            black_box(&dst)[len - 1] == 7
        });
        println!(
            "  {len:>6} bytes: {:.4} ns/byte",
            per_round * 1e9 / len as f64
        );
    }
}
