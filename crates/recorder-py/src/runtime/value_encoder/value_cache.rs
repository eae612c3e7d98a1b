//! [`ValueCache`]: reuse of a whole value's encoded bytes between steps while every object it
//! was made of is provably unchanged.
//!
//! Every step records every visible variable, so a frame holding a list of forty objects
//! re-recorded all of them at every line, although one attribute of one of them changed. This
//! cache remembers, per object and nesting depth, the bytes it was encoded to and a *shallow
//! snapshot* of everything that encoding read from the object itself: its class, its length,
//! and which objects it held at each recorded position (list/tuple/set items, dict keys and
//! values, instance attribute names and values). A later encoding of the same object at the
//! same depth first checks the snapshot against the object as it is now, recursively for the
//! non-atom objects it holds (each against its own entry, whose generation must still be the
//! one this entry's bytes were made with); when everything matches, the bytes are copied
//! instead of re-derived. When something differs, the object is encoded afresh, and the
//! objects it holds that did not change are copied from their own entries: the cost of a step
//! follows what changed, not what is visible.
//!
//! Why a match proves the bytes: the encoder's output for an object is a function of its
//! class (type ids, class names), its length, the objects it holds in storage order, the
//! encoder's limits, the depth it is encoded at, the nodes left in the value's budget, which
//! objects are being encoded around it (cycle markers) and the attribute filters. Limits are
//! the encoder's own; the depth is part of the key; filters are identified by the scope's
//! token (part of the entry); an entry is made only when nothing inside was cut by the node
//! budget, and used only where at least as many nodes are left as it holds (then no budget
//! check inside can come out differently); the check walks the object graph with the
//! encoder's stack of objects in progress and requires every remembered cycle marker to point
//! at an object in progress and no other remembered object to be one. The check reads the
//! *current* object at every position (it follows the live references of the objects it
//! checks, never a remembered pointer), so a container freed and replaced by another at the
//! same address is simply checked like any other; only what is compared without being looked
//! into is held by a strong reference, so no other object can take its address: atoms (exact
//! `str`/`int`/`float`/`bytes`, immutable, without finalizers or weak references; bool and
//! None are immortal), classes (also held by the type table) and the objects a class name is
//! made of. Containers and instances of the program are never held, so keeping entries never
//! delays a finalizer, a weak-reference callback or a release.
//!
//! What is not reused (encoded afresh each time, as before): subclasses of `int`, `float`,
//! `str` and `bytes`, `bytearray`, any value while `allow_repr` is on (a `repr()` may depend on
//! anything), and so every object holding one of those; opaque objects and exceptions are
//! checked by recomputing their description (no user code runs).
//!
//! Memory is bounded: at most [`MAX_ENTRIES`] entries and [`MAX_BYTES`] bytes of remembered
//! encodings; the cache is emptied when either is reached.

use pyo3::ffi;

use super::attr_memo::AttrMemo;
use super::class_names::ClassNames;
use super::container_cache;
use super::containers::{field_actions, seq_item};
use super::describe::describe;
use super::slot_map::SlotMap;
use super::structs::{
    class_tuple, collect_fields, gives_dict, interned, visit_fields, ClassKey, Fields,
};
use super::{exception_text, Out};
use crate::runtime::owned_ref::OwnedRef;
use crate::runtime::types::class_name;
use codetracer_trace_filter::ValueAction;
use std::sync::atomic::AtomicPtr;

/// Entries remembered before the cache is emptied.
pub const MAX_ENTRIES: usize = 32 * 1024;
/// Bytes of remembered encodings before the cache is emptied.
pub const MAX_BYTES: usize = 32 << 20;

/// How an object is encoded, as far as the cache is concerned.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `list`, `tuple`, `dict`, `set`, `frozenset` or a subclass: its elements.
    Container,
    /// An exception: its description.
    Exception,
    /// An instance of a Python class: a struct of its fields (or opaque without any).
    Instance,
    /// Anything else: its description.
    Opaque,
}

/// How `o` (not an atom) is encoded, or `None` when its bytes cannot be checked cheaply and
/// it is encoded afresh each time (subclasses of scalars, `bytearray`). Mirrors the dispatch
/// of `ValueEncoder::encode_at`.
///
/// # Safety
/// `o` must be a live object and the GIL must be held.
pub unsafe fn kind_of(o: *mut ffi::PyObject) -> Option<Kind> {
    // SAFETY: `o` is live (contract); type checks read its type only.
    unsafe {
        if ffi::PyLong_Check(o) != 0
            || ffi::PyFloat_Check(o) != 0
            || ffi::PyUnicode_Check(o) != 0
            || ffi::PyBytes_Check(o) != 0
            || ffi::PyByteArray_Check(o) != 0
        {
            return None;
        }
        if ffi::PyList_Check(o) != 0
            || ffi::PyTuple_Check(o) != 0
            || ffi::PyDict_Check(o) != 0
            || ffi::PyAnySet_Check(o) != 0
        {
            return Some(Kind::Container);
        }
        if ffi::PyExceptionInstance_Check(o) != 0 {
            return Some(Kind::Exception);
        }
        let tp = ffi::Py_TYPE(o);
        if ((*tp).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE) != 0 && ffi::PyType_Check(o) == 0 {
            return Some(Kind::Instance);
        }
        Some(Kind::Opaque)
    }
}

/// The class of a summarised or cycle-marked value and the objects its name is made of.
struct NameSrc {
    qualname: Option<OwnedRef>,
    module: Option<OwnedRef>,
}

impl NameSrc {
    /// # Safety
    /// `tp` must be a live type object and the GIL must be held.
    unsafe fn of(names: &mut ClassNames, tp: *mut ffi::PyTypeObject) -> Self {
        // SAFETY: forwarded contract; the objects are live (borrowed from the class).
        unsafe {
            let (q, m) = names.sources(tp);
            Self {
                qualname: OwnedRef::new(q),
                module: OwnedRef::new(m),
            }
        }
    }

    /// # Safety
    /// `tp` must be a live type object and the GIL must be held.
    unsafe fn same(&self, names: &mut ClassNames, tp: *mut ffi::PyTypeObject) -> bool {
        // SAFETY: forwarded contract.
        let (q, m) = unsafe { names.sources(tp) };
        ptr_of(&self.qualname) == q && ptr_of(&self.module) == m
    }
}

/// The address held (null for none).
fn ptr_of(held: &Option<OwnedRef>) -> *mut ffi::PyObject {
    held.as_ref().map_or(std::ptr::null_mut(), OwnedRef::as_ptr)
}

/// What an object held at one recorded position.
enum Child {
    /// An atom, by identity.
    Atom(OwnedRef),
    /// An object with an entry of its own one level deeper, of this generation, in this
    /// slot of the map (checked against the key the slot holds).
    Node {
        ptr: usize,
        slot: u32,
        generation: u64,
    },
    /// An object being encoded around it (recorded as a cycle marker naming its class).
    Cycle { ptr: usize, src: NameSrc },
    /// A container (its length) or an instance with fields (`len` -1) at the depth limit,
    /// summarised by its class (`<T of N items>`, `<T object>`): any object of that class
    /// (and length) not in progress is summarised the same, so no entry of its own is kept.
    Summary {
        class: OwnedRef,
        len: isize,
        src: NameSrc,
    },
    /// A value the filters hide (never read).
    Hidden,
}

/// What the encoding of one object read from the object itself.
enum Snapshot {
    /// A container encoded in full: its length and, per element taken, its item (a dict:
    /// key then value); a namedtuple also its class's `_fields` (hidden fields).
    Elements {
        len: isize,
        fields: Option<OwnedRef>,
    },
    /// A container or instance at the depth limit: `<T of N items>` / `<T object>`.
    Summary { len: isize, src: NameSrc },
    /// An instance: its field names (pre-filter, held), one child per name.
    Fields { names: Vec<OwnedRef> },
    /// An exception, an opaque object or an instance without fields: what its description
    /// is made of.
    Text(Described),
    /// An object found changed at its last checks: nothing remembered (no bytes) for its
    /// next `skip` encodings, which then try again.
    Volatile { skip: u32 },
}

/// What the description of an opaque object (or exception) was made of.
enum Described {
    /// `<module 'm'>`, `<function f>`: the name object (an exact `str`, held), read again
    /// as the encoder reads it.
    Name(OwnedRef),
    /// `<T object>` (of the entry's class, which is held), or `<class 'C'>` of a heap class:
    /// the objects the class name is made of.
    Class(NameSrc),
    /// Anything else (exceptions, builtin reprs, static classes): the text, recomputed.
    Text(String),
}

/// One remembered encoding.
struct Entry {
    class: OwnedRef,
    kind: Kind,
    snapshot: Snapshot,
    children: Vec<Child>,
    bytes: Vec<u8>,
    nodes: usize,
    token: (u64, bool),
    generation: u64,
    /// How many times in a row the object was found changed (see [`Snapshot::Volatile`]).
    misses: u32,
}

/// Found changed this many times in a row, an object is not remembered for its next
/// [`MAX_SKIP`] encodings, then remembered again: a container that changes at every step
/// (the list holding the object the loop updates) would cost a snapshot and a copy of all its
/// bytes each time for nothing; what it holds is still remembered and reused. The pause stays
/// short: an object that changed at a few steps in a row and then holds still (each particle
/// of a simulation in its turn) is remembered again soon.
const VOLATILE_AFTER: u32 = 2;
/// How long a volatile object goes unremembered (encodings).
const MAX_SKIP: u32 = 4;
/// How long a big container of atoms goes unremembered before it is looked at again.
const ATOMS_SKIP: u32 = 64;

/// Remembered encodings by (object address, depth).
#[derive(Default)]
pub struct ValueCache {
    map: SlotMap<Entry>,
    bytes: usize,
    next_generation: u64,
    /// Copies made (for tests and measurements).
    pub hits: u64,
}

/// What the check and the capture need from the encoder besides the cache.
pub struct Ctx<'a> {
    /// The encoder's stack of objects in progress (pushed and popped while checking).
    pub in_progress: &'a mut Vec<usize>,
    /// The encoder's class names (for name sources).
    pub names: &'a mut ClassNames,
    /// The encoder's verdicts on attribute and key names.
    pub attrs: &'a mut AttrMemo,
    /// The encoder's element limit.
    pub max_elements: usize,
    /// The depth limit.
    pub max_depth: usize,
    /// The filters in force: the scope's token and whether attributes are filtered at all.
    pub token: (u64, bool),
}

impl<'a> Ctx<'a> {
    /// The context of an encoder with these limits, under the filters of `out`.
    pub fn new(
        in_progress: &'a mut Vec<usize>,
        names: &'a mut ClassNames,
        attrs: &'a mut AttrMemo,
        limits: &codetracer_policy::ValueLimits,
        out: &Out<'_>,
    ) -> Self {
        Self {
            in_progress,
            names,
            attrs,
            max_elements: limits.max_elements,
            max_depth: limits.max_depth,
            token: (out.attrs_token, out.attrs.is_some()),
        }
    }
}

impl ValueCache {
    /// The bytes of `o` at `depth` when its entry is still valid and holds at most
    /// `nodes_left` nodes: `(bytes, nodes)`.
    ///
    /// # Safety
    /// `o` must be a live object (not an atom, not in progress) and the GIL must be held.
    pub unsafe fn reusable(
        &mut self,
        o: *mut ffi::PyObject,
        depth: usize,
        nodes_left: usize,
        cx: &mut Ctx<'_>,
    ) -> Option<(&[u8], usize)> {
        let key = (o as usize, depth);
        let (_, entry) = self.map.get(&key)?;
        if entry.nodes > nodes_left || entry.token != cx.token {
            return None;
        }
        // SAFETY: forwarded contract.
        if !unsafe { self.valid(o, entry, depth, cx) } {
            return None;
        }
        self.hits += 1;
        let entry = self.map.get_mut(&key)?;
        entry.misses = 0;
        Some((entry.bytes.as_slice(), entry.nodes))
    }

    /// Whether `entry` still describes `o` (at `depth`), recursively.
    ///
    /// # Safety
    /// `o` must be a live object and the GIL must be held.
    unsafe fn valid(
        &self,
        o: *mut ffi::PyObject,
        entry: &Entry,
        depth: usize,
        cx: &mut Ctx<'_>,
    ) -> bool {
        // SAFETY: (whole body) `o` is live (contract); items are borrowed from it while it
        // is alive and the GIL is held; no Python code runs here.
        unsafe {
            let tp = ffi::Py_TYPE(o);
            if tp != entry.class.as_ptr().cast() {
                return false;
            }
            match &entry.snapshot {
                Snapshot::Text(described) => {
                    (entry.kind != Kind::Instance || !instance_has_fields(o, tp, cx))
                        && described_same(o, entry.kind, tp, described, cx.names)
                }
                Snapshot::Summary { len, src } => {
                    if entry.kind == Kind::Container {
                        container_len(o) == *len && src.same(cx.names, tp)
                    } else {
                        src.same(cx.names, tp) && instance_shows_fields(o, tp, cx)
                    }
                }
                Snapshot::Elements { len, fields } => {
                    if container_len(o) != *len {
                        return false;
                    }
                    if let Some(f) = fields {
                        if namedtuple_fields(tp, cx.names) != f.as_ptr() {
                            return false;
                        }
                    }
                    cx.in_progress.push(o as usize);
                    let ok = self.elements_valid(o, entry, depth, cx);
                    cx.in_progress.pop();
                    ok
                }
                Snapshot::Fields { names } => {
                    cx.in_progress.push(o as usize);
                    let mut i = 0usize;
                    let mut ok = true;
                    let facts = cx.names.facts.get(tp);
                    visit_fields(
                        o,
                        tp,
                        cx.max_elements,
                        facts.as_deref(),
                        &mut |name, value| {
                            ok = match (names.get(i), entry.children.get(i)) {
                                (Some(n), Some(c)) => {
                                    n.as_ptr() == name && self.child_valid(value, c, depth + 1, cx)
                                }
                                _ => false,
                            };
                            i += 1;
                            ok
                        },
                    );
                    cx.in_progress.pop();
                    ok && i == names.len()
                }
                Snapshot::Volatile { .. } => false,
            }
        }
    }

    /// Whether the first elements of container `o` match `entry`'s children.
    ///
    /// # Safety
    /// `o` must be a live container and the GIL must be held.
    unsafe fn elements_valid(
        &self,
        o: *mut ffi::PyObject,
        entry: &Entry,
        depth: usize,
        cx: &mut Ctx<'_>,
    ) -> bool {
        // SAFETY: (whole body) `o` is a live container; items are borrowed from its storage
        // (set items: new references, released).
        unsafe {
            let children = &entry.children;
            if ffi::PyList_Check(o) != 0 || ffi::PyTuple_Check(o) != 0 {
                let is_list = ffi::PyList_Check(o) != 0;
                for (i, c) in children.iter().enumerate() {
                    let item = seq_item(o, is_list, i);
                    if item.is_null() {
                        ffi::PyErr_Clear();
                        return false;
                    }
                    if !self.child_valid(item, c, depth + 1, cx) {
                        return false;
                    }
                }
                true
            } else if ffi::PyDict_Check(o) != 0 {
                let mut pos: ffi::Py_ssize_t = 0;
                let mut key: *mut ffi::PyObject = std::ptr::null_mut();
                let mut value: *mut ffi::PyObject = std::ptr::null_mut();
                for pair in children.chunks(2) {
                    if ffi::PyDict_Next(o, &mut pos, &mut key, &mut value) == 0 {
                        return false;
                    }
                    let [k, v] = pair else { return false };
                    if !self.child_valid(key, k, depth + 1, cx)
                        || !self.child_valid(value, v, depth + 1, cx)
                    {
                        return false;
                    }
                }
                true
            } else {
                let mut ok = true;
                each_set_item(o, children.len(), |i, item| {
                    ok = ok
                        && children
                            .get(i)
                            .is_some_and(|c| self.child_valid(item, c, depth + 1, cx));
                    ok
                }) == children.len()
                    && ok
            }
        }
    }

    /// Whether the object `c` now at a position matches what was there.
    ///
    /// # Safety
    /// `c` must be a live object and the GIL must be held.
    unsafe fn child_valid(
        &self,
        c: *mut ffi::PyObject,
        child: &Child,
        depth: usize,
        cx: &mut Ctx<'_>,
    ) -> bool {
        match child {
            Child::Hidden => true,
            Child::Atom(held) => held.as_ptr() == c,
            Child::Cycle { ptr, src } => {
                // SAFETY: `c` is live (contract), so is its type.
                *ptr == c as usize
                    && cx.in_progress.contains(ptr)
                    && unsafe { src.same(cx.names, ffi::Py_TYPE(c)) }
            }
            Child::Summary { class, len, src } => {
                let tp = class.as_ptr().cast::<ffi::PyTypeObject>();
                // SAFETY: `c` is live (contract), so is its type; the class is held.
                unsafe {
                    ffi::Py_TYPE(c) == tp
                        && !cx.in_progress.contains(&(c as usize))
                        && if *len >= 0 {
                            container_len(c) == *len
                        } else {
                            instance_shows_fields(c, tp, cx)
                        }
                        && src.same(cx.names, tp)
                }
            }
            Child::Node {
                ptr,
                slot,
                generation,
            } => {
                if *ptr != c as usize || cx.in_progress.contains(ptr) {
                    return false;
                }
                match self.map.at(*slot, &(*ptr, depth)) {
                    // SAFETY: forwarded contract.
                    Some(e) if e.generation == *generation && e.token == cx.token => unsafe {
                        self.valid(c, e, depth, cx)
                    },
                    _ => false,
                }
            }
        }
    }

    /// The remembered bytes of `o` at `depth` (empty when there are none).
    pub fn bytes_of(&self, o: *mut ffi::PyObject, depth: usize) -> &[u8] {
        self.map
            .get(&(o as usize, depth))
            .map_or(&[], |(_, e)| e.bytes.as_slice())
    }

    /// Forgets the entry of `o` at `depth` (its encoding was cut or marked a cycle).
    pub fn forget(&mut self, o: *mut ffi::PyObject, depth: usize) {
        if let Some(e) = self.map.remove(&(o as usize, depth)) {
            self.bytes -= e.bytes.len();
        }
    }

    /// Remembers `bytes`, just written as the encoding of `o` (of `kind`) at `depth` using
    /// `nodes` nodes with nothing cut, with the snapshot of what it was made of; `filter`
    /// gives the filters' action for a field or `str` key name. Remembers nothing when a
    /// part cannot be checked.
    ///
    /// # Safety
    /// `o` must be a live object and the GIL must be held; `cx.in_progress` must be the stack
    /// the encoding ran under (without `o`).
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn capture(
        &mut self,
        o: *mut ffi::PyObject,
        kind: Kind,
        depth: usize,
        bytes: &[u8],
        nodes: usize,
        cx: &mut Ctx<'_>,
        out: &mut Out<'_>,
    ) {
        let key = (o as usize, depth);
        let mut old = self.map.remove(&key);
        let mut misses = 0;
        if let Some(mut e) = old.take() {
            self.bytes -= e.bytes.len();
            match &mut e.snapshot {
                Snapshot::Volatile { skip } if *skip > 0 => {
                    *skip -= 1;
                    self.map.insert(key, e);
                    return;
                }
                // The pause is over: remembered again; one more change pauses it again.
                Snapshot::Volatile { .. } => misses = VOLATILE_AFTER - 1,
                _ => misses = e.misses + 1,
            }
            old = Some(e);
        }
        if self.map.len() >= MAX_ENTRIES || self.bytes + bytes.len() > MAX_BYTES {
            self.clear();
        }
        // Recycle the old entry's buffers.
        let (mut buf, mut children) = match old {
            Some(e) => (e.bytes, e.children),
            None => (Vec::new(), Vec::new()),
        };
        buf.clear();
        children.clear();
        // SAFETY: `o` is live, so is its class.
        let Some(class) = (unsafe { OwnedRef::new(ffi::Py_TYPE(o).cast()) }) else {
            return;
        };
        self.next_generation += 1;
        let generation = self.next_generation;
        // Big lists, tuples and dicts of atoms only are the container cache's: it copies
        // their elements already, and a snapshot would cost as much as encoding them again
        // (a dict a loop fills changes every other step). Looked at again after a long pause.
        let atoms = kind == Kind::Container && depth < cx.max_depth && {
            // SAFETY: `o` is a live container (its kind), the GIL is held.
            let take = usize::try_from(unsafe { container_len(o) }).unwrap_or(0);
            let take = take.min(cx.max_elements);
            // SAFETY: as above.
            take >= container_cache::MIN_ELEMENTS && unsafe { atoms_only(o, take) }
        };
        if atoms || misses >= VOLATILE_AFTER {
            let skip = if atoms { ATOMS_SKIP } else { MAX_SKIP };
            self.map.insert(
                key,
                Entry {
                    class,
                    kind,
                    snapshot: Snapshot::Volatile { skip },
                    children,
                    bytes: buf,
                    nodes,
                    token: cx.token,
                    generation,
                    misses,
                },
            );
            return;
        }
        // SAFETY: forwarded contract.
        let Some(snapshot) = (unsafe { self.snapshot(o, kind, depth, cx, out, &mut children) })
        else {
            return;
        };
        buf.extend_from_slice(bytes);
        self.bytes += buf.len();
        self.map.insert(
            key,
            Entry {
                class,
                kind,
                snapshot,
                children,
                bytes: buf,
                nodes,
                token: cx.token,
                generation,
                misses,
            },
        );
    }

    /// The snapshot of `o` as just encoded and its children, or `None` when a part cannot be
    /// checked.
    ///
    /// # Safety
    /// See [`Self::capture`].
    unsafe fn snapshot(
        &self,
        o: *mut ffi::PyObject,
        kind: Kind,
        depth: usize,
        cx: &mut Ctx<'_>,
        out: &mut Out<'_>,
        children: &mut Vec<Child>,
    ) -> Option<Snapshot> {
        // SAFETY: (whole body) `o` is live and the GIL is held; items are borrowed from it
        // (set items: new references, released) and held only when they are atoms.
        unsafe {
            let tp = ffi::Py_TYPE(o);
            let summarised = depth >= cx.max_depth;
            match kind {
                Kind::Exception | Kind::Opaque => {
                    return described(o, kind, tp, cx.names);
                }
                Kind::Instance => {
                    let facts = cx.names.facts.get(tp);
                    let fields = collect_fields(o, tp, cx.max_elements, facts.as_deref());
                    let snapshot = if fields.names.is_empty() && !fields.has_dict {
                        described(o, kind, tp, cx.names)
                    } else if summarised {
                        // Fields that are all hidden make the encoder describe it instead;
                        // not known to show one: not checkable.
                        instance_shows_fields(o, tp, cx).then(|| Snapshot::Summary {
                            len: 0,
                            src: NameSrc::of(cx.names, tp),
                        })
                    } else {
                        self.instance_children(&fields, depth, cx, out, children)
                    };
                    release(fields);
                    return snapshot;
                }
                Kind::Container => {}
            }
            let len = container_len(o);
            if summarised {
                let src = NameSrc::of(cx.names, tp);
                return Some(Snapshot::Summary { len, src });
            }
            let take = usize::try_from(len).unwrap_or(0).min(cx.max_elements);
            let mut fields = None;
            let push = |c: *mut ffi::PyObject, cx: &mut Ctx<'_>, children: &mut Vec<Child>| {
                let child = self.child(c, depth + 1, cx)?;
                children.push(child);
                Some(())
            };
            if ffi::PyList_Check(o) != 0 || ffi::PyTuple_Check(o) != 0 {
                let is_list = ffi::PyList_Check(o) != 0;
                let hidden =
                    if !is_list && !std::ptr::eq(tp, &raw mut ffi::PyTuple_Type) && cx.token.1 {
                        let f = namedtuple_fields(tp, cx.names);
                        if !f.is_null() {
                            fields = Some(OwnedRef::new(f)?);
                        }
                        field_actions(tp, take, out)
                    } else {
                        Vec::new()
                    };
                for i in 0..take {
                    let item = seq_item(o, is_list, i);
                    if item.is_null() {
                        ffi::PyErr_Clear();
                        return None;
                    }
                    if hidden.get(i).is_some_and(|a| *a != ValueAction::Allow) {
                        children.push(Child::Hidden);
                    } else {
                        push(item, cx, children)?;
                    }
                }
            } else if ffi::PyDict_Check(o) != 0 {
                let mut pos: ffi::Py_ssize_t = 0;
                let mut key: *mut ffi::PyObject = std::ptr::null_mut();
                let mut value: *mut ffi::PyObject = std::ptr::null_mut();
                for _ in 0..take {
                    if ffi::PyDict_Next(o, &mut pos, &mut key, &mut value) == 0 {
                        return None;
                    }
                    push(key, cx, children)?;
                    let str_key = ffi::PyUnicode_Check(key) != 0;
                    if str_key && cx.attrs.action(key, out) != ValueAction::Allow {
                        children.push(Child::Hidden);
                    } else {
                        push(value, cx, children)?;
                    }
                }
            } else {
                let mut ok = true;
                let n = each_set_item(o, take, |_, item| {
                    ok = ok && push(item, cx, children).is_some();
                    ok
                });
                if !ok || n != take {
                    return None;
                }
            }
            Some(Snapshot::Elements { len, fields })
        }
    }

    /// The children of an instance's fields (one per name; hidden ones never read).
    ///
    /// # Safety
    /// See [`Self::capture`]; `fields` are `o`'s, just collected.
    unsafe fn instance_children(
        &self,
        fields: &Fields,
        depth: usize,
        cx: &mut Ctx<'_>,
        out: &mut Out<'_>,
        children: &mut Vec<Child>,
    ) -> Option<Snapshot> {
        // SAFETY: names and values are live (borrowed from / held for the instance).
        unsafe {
            let mut names = Vec::with_capacity(fields.names.len());
            for (name, value) in fields.names.iter().zip(&fields.values) {
                if !std::ptr::eq(ffi::Py_TYPE(*name), &raw mut ffi::PyUnicode_Type) {
                    return None;
                }
                names.push(OwnedRef::new(*name)?);
                if cx.token.1 && cx.attrs.action(*name, out) != ValueAction::Allow {
                    children.push(Child::Hidden);
                } else {
                    children.push(self.child(*value, depth + 1, cx)?);
                }
            }
            Some(Snapshot::Fields { names })
        }
    }

    /// What a position holding `c` (encoded at `depth`) records, or `None` when `c` cannot
    /// be checked (it has no entry: a kind never remembered, or its encoding was cut).
    ///
    /// # Safety
    /// `c` must be a live object and the GIL must be held.
    unsafe fn child(&self, c: *mut ffi::PyObject, depth: usize, cx: &mut Ctx<'_>) -> Option<Child> {
        // SAFETY: forwarded contract.
        unsafe {
            if container_cache::is_atom(c) {
                return OwnedRef::new(c).map(Child::Atom);
            }
            let ptr = c as usize;
            if cx.in_progress.contains(&ptr) {
                return Some(Child::Cycle {
                    ptr,
                    src: NameSrc::of(cx.names, ffi::Py_TYPE(c)),
                });
            }
            if depth >= cx.max_depth {
                if let Some(kind) = kind_of(c) {
                    if summarised_at_limit(c, kind, cx) {
                        let tp = ffi::Py_TYPE(c);
                        let len = if kind == Kind::Container {
                            container_len(c)
                        } else {
                            -1
                        };
                        return Some(Child::Summary {
                            class: OwnedRef::new(tp.cast())?,
                            len,
                            src: NameSrc::of(cx.names, tp),
                        });
                    }
                }
            }
            let (slot, e) = self.map.get(&(ptr, depth))?;
            if matches!(e.snapshot, Snapshot::Volatile { .. }) {
                return None;
            }
            Some(Child::Node {
                ptr,
                slot,
                generation: e.generation,
            })
        }
    }

    /// Forgets everything (releases what entries hold).
    pub fn clear(&mut self) {
        self.map.clear();
        self.bytes = 0;
    }
}

/// `"__qualname__"`, interned (see [`interned`]).
static QUALNAME_KEY: AtomicPtr<ffi::PyObject> = AtomicPtr::new(std::ptr::null_mut());

/// The name object the description of a module or function is made of (a new reference,
/// null when there is none), read as `describe` reads it.
///
/// # Safety
/// `o` must be a live module or function and the GIL must be held.
unsafe fn name_object(o: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: forwarded contract; builtin C getters (module dict, function getset).
    unsafe {
        let name = if ffi::PyModule_Check(o) != 0 {
            ffi::PyModule_GetNameObject(o)
        } else {
            let key = interned(&QUALNAME_KEY, c"__qualname__");
            if key.is_null() {
                return key;
            }
            ffi::PyObject_GetAttr(o, key)
        };
        if name.is_null() {
            ffi::PyErr_Clear();
        }
        name
    }
}

/// What the description of `o` (an exception, an opaque object or an instance without
/// fields, of kind `kind`) is made of, as `describe` and `exception_text` compute it.
///
/// # Safety
/// `o` must be a live object of type `tp` and the GIL must be held.
unsafe fn described(
    o: *mut ffi::PyObject,
    kind: Kind,
    tp: *mut ffi::PyTypeObject,
    names: &mut ClassNames,
) -> Option<Snapshot> {
    // SAFETY: forwarded contract; the name object is a new reference released here.
    unsafe {
        let text = match kind {
            Kind::Exception => return Some(Snapshot::Text(Described::Text(exception_text(o)))),
            Kind::Container => return None,
            Kind::Opaque | Kind::Instance => describe(o, tp),
        };
        if ffi::PyModule_Check(o) != 0 || ffi::PyFunction_Check(o) != 0 {
            let name = name_object(o);
            let exact = !name.is_null() && ffi::PyUnicode_CheckExact(name) != 0;
            let held = if exact { OwnedRef::new(name) } else { None };
            if !name.is_null() {
                ffi::Py_DECREF(name);
            }
            return Some(Snapshot::Text(match held {
                Some(n) => Described::Name(n),
                None => Described::Text(text),
            }));
        }
        if ffi::PyType_Check(o) != 0 {
            let class = o.cast::<ffi::PyTypeObject>();
            if ((*class).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE) != 0 {
                return Some(Snapshot::Text(Described::Class(NameSrc::of(names, class))));
            }
            return Some(Snapshot::Text(Described::Text(text)));
        }
        if text.ends_with(" object>") && text == format!("<{} object>", class_name(tp)) {
            return Some(Snapshot::Text(Described::Class(NameSrc::of(names, tp))));
        }
        Some(Snapshot::Text(Described::Text(text)))
    }
}

/// Whether the description of `o` (now of type `tp`, the entry's class) is still the one
/// `described` was taken from.
///
/// # Safety
/// `o` must be a live object of type `tp` and the GIL must be held.
unsafe fn described_same(
    o: *mut ffi::PyObject,
    kind: Kind,
    tp: *mut ffi::PyTypeObject,
    described: &Described,
    names: &mut ClassNames,
) -> bool {
    // SAFETY: forwarded contract; the name object is a new reference released here.
    unsafe {
        match described {
            Described::Name(held) => {
                let name = name_object(o);
                let same = name == held.as_ptr();
                if !name.is_null() {
                    ffi::Py_DECREF(name);
                }
                same
            }
            Described::Class(src) => {
                if ffi::PyType_Check(o) != 0 {
                    let class = o.cast::<ffi::PyTypeObject>();
                    ((*class).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE) != 0 && src.same(names, class)
                } else {
                    src.same(names, tp)
                }
            }
            Described::Text(text) => match kind {
                Kind::Exception => exception_text(o) == *text,
                Kind::Container => false,
                Kind::Opaque | Kind::Instance => describe(o, tp) == *text,
            },
        }
    }
}

/// Whether the first `take` elements of list, tuple or dict `o` (keys and values) are all
/// atoms (a set: never, it is not in the container cache).
///
/// # Safety
/// `o` must be a live container and the GIL must be held.
unsafe fn atoms_only(o: *mut ffi::PyObject, take: usize) -> bool {
    // SAFETY: `o` is a live container; items are borrowed from its storage.
    unsafe {
        if ffi::PyList_Check(o) != 0 || ffi::PyTuple_Check(o) != 0 {
            let is_list = ffi::PyList_Check(o) != 0;
            (0..take).all(|i| container_cache::is_atom(seq_item(o, is_list, i)))
        } else if ffi::PyDict_Check(o) != 0 {
            let mut pos: ffi::Py_ssize_t = 0;
            let mut key: *mut ffi::PyObject = std::ptr::null_mut();
            let mut value: *mut ffi::PyObject = std::ptr::null_mut();
            (0..take).all(|_| {
                ffi::PyDict_Next(o, &mut pos, &mut key, &mut value) != 0
                    && container_cache::is_atom(key)
                    && container_cache::is_atom(value)
            })
        } else {
            false
        }
    }
}

/// The builtin storage size of container `o` (never a Python-level `__len__`).
///
/// # Safety
/// `o` must be a live container and the GIL must be held.
unsafe fn container_len(o: *mut ffi::PyObject) -> isize {
    // SAFETY: `o` is a live container of the checked kind.
    unsafe {
        let n = if ffi::PyList_Check(o) != 0 {
            ffi::PyList_Size(o)
        } else if ffi::PyTuple_Check(o) != 0 {
            ffi::PyTuple_Size(o)
        } else if ffi::PyDict_Check(o) != 0 {
            ffi::PyDict_Size(o)
        } else {
            ffi::PySet_Size(o)
        };
        if n < 0 {
            ffi::PyErr_Clear();
        }
        n
    }
}

/// The `_fields` tuple of a namedtuple class (null for another tuple subclass), as the
/// encoder finds it.
///
/// # Safety
/// `tp` must be a live type object and the GIL must be held.
unsafe fn namedtuple_fields(
    tp: *mut ffi::PyTypeObject,
    names: &mut ClassNames,
) -> *mut ffi::PyObject {
    // SAFETY: forwarded contract.
    unsafe {
        match names.facts.get(tp) {
            Some(f) => f.fields,
            None => class_tuple(tp, ClassKey::Fields),
        }
    }
}

/// Whether `o` (of `kind`), met at the depth limit, is summarised by its class: a container,
/// or an instance with fields (one without is described like an opaque object). Such a
/// value is encoded afresh (a class name and a length) and checked inline in its parent's
/// entry ([`Child::Summary`]), never remembered on its own.
///
/// # Safety
/// `o` must be a live object and the GIL must be held.
pub unsafe fn summarised_at_limit(o: *mut ffi::PyObject, kind: Kind, cx: &mut Ctx<'_>) -> bool {
    // SAFETY: forwarded contract.
    unsafe {
        match kind {
            Kind::Container => true,
            Kind::Instance => instance_shows_fields(o, ffi::Py_TYPE(o), cx),
            Kind::Exception | Kind::Opaque => false,
        }
    }
}

/// Whether an instance has a field at all, filters aside (a dict, or a filled slot): one
/// without is surely described like an opaque object.
///
/// # Safety
/// `o` must be a live object of type `tp` and the GIL must be held.
unsafe fn instance_has_fields(
    o: *mut ffi::PyObject,
    tp: *mut ffi::PyTypeObject,
    cx: &mut Ctx<'_>,
) -> bool {
    // SAFETY: forwarded contract.
    unsafe { has_field(o, tp, cx.names, cx.max_elements, |_| true) }
}

/// Whether an instance at the depth limit is surely summarised as a struct under the filters
/// in force: it has a dict, or a filled slot whose name the filters are known to allow (the
/// encoder describes an instance whose filled slots are all dropped like an opaque object).
/// `false` also when that is not known (a slot only redacted, a name not remembered as
/// allowed): the caller then does not trust a summary, it encodes again.
///
/// # Safety
/// `o` must be a live object of type `tp` and the GIL must be held.
unsafe fn instance_shows_fields(
    o: *mut ffi::PyObject,
    tp: *mut ffi::PyTypeObject,
    cx: &mut Ctx<'_>,
) -> bool {
    let (token, filtered) = cx.token;
    let attrs = &*cx.attrs;
    // SAFETY: forwarded contract.
    unsafe {
        has_field(o, tp, cx.names, cx.max_elements, |name| {
            !filtered || attrs.known_allowed(name, token)
        })
    }
}

/// Whether `tp` gives `o` a dict, or one of `o`'s first `max` filled slots has a name
/// `counts` accepts.
///
/// # Safety
/// `o` must be a live object of type `tp` and the GIL must be held.
unsafe fn has_field(
    o: *mut ffi::PyObject,
    tp: *mut ffi::PyTypeObject,
    names: &mut ClassNames,
    max: usize,
    counts: impl Fn(*mut ffi::PyObject) -> bool,
) -> bool {
    // SAFETY: forwarded contract; `tp` is live.
    unsafe {
        if gives_dict(tp) {
            return true;
        }
        let facts = names.facts.get(tp);
        let mut found = false;
        visit_fields(o, tp, max, facts.as_deref(), &mut |name, _| {
            found = counts(name);
            !found
        });
        found
    }
}

/// Releases the references of collected fields.
///
/// # Safety
/// The GIL must be held.
unsafe fn release(fields: Fields) {
    // SAFETY: the values and the dict are new references owned by `fields`.
    unsafe {
        for v in fields.values {
            ffi::Py_DECREF(v);
        }
        if !fields.dict.is_null() {
            ffi::Py_DECREF(fields.dict);
        }
    }
}

/// Calls `visit(index, item)` for the first `n` items of set `o` in storage order (with the
/// set type's own iterator, as the encoder), until it returns `false`; returns how many items
/// were visited.
///
/// # Safety
/// `o` must be a live set or frozenset and the GIL must be held.
unsafe fn each_set_item(
    o: *mut ffi::PyObject,
    n: usize,
    mut visit: impl FnMut(usize, *mut ffi::PyObject) -> bool,
) -> usize {
    // SAFETY: `o` is a live set; the iterator and each item are new references released
    // here; the base type's iterator slot is C code.
    unsafe {
        let base_iter = if ffi::PyFrozenSet_Check(o) != 0 {
            ffi::PyFrozenSet_Type.tp_iter
        } else {
            ffi::PySet_Type.tp_iter
        };
        let Some(iter_fn) = base_iter else { return 0 };
        let it = iter_fn(o);
        if it.is_null() {
            ffi::PyErr_Clear();
            return 0;
        }
        let mut visited = 0;
        while visited < n {
            let item = ffi::PyIter_Next(it);
            if item.is_null() {
                ffi::PyErr_Clear();
                break;
            }
            let go_on = visit(visited, item);
            ffi::Py_DECREF(item);
            visited += 1;
            if !go_on {
                break;
            }
        }
        ffi::Py_DECREF(it);
        visited
    }
}
