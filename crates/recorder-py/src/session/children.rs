//! Child processes of a recording: the `CODETRACER_CHILD_SESSION` value a recording process
//! leaves in its environment for its children (where and how they record), the start request
//! of a child built from it, the `process` block of every trace's metadata and the `children`
//! list a parent's metadata ends with.
//!
//! The value is JSON: `{"follow": bool, "parent_dir": str, "parent_pid": int, "format": str,
//! "policy": {snapshot}, "trace_filter": [str], "env_filter": str|null, "filter_dir":
//! str|null}` — the parent's effective settings, so a child records exactly as its parent
//! does (flags given to the parent's CLI included) into `parent_dir/children/<pid>-<n>/`.
//!
//! The parent writes its `children` list when its recording ends. A child that starts or ends
//! after that (it outlived its parent, or was `exec`'d by it) rewrites the finished parent's
//! list, so the list ends up naming every child and its exit status. Writers of a list hold
//! an exclusive `flock` on the parent's trace directory.

use std::path::{Path, PathBuf};

use codetracer_policy::{PolicyUpdate, RecorderPolicy};
use codetracer_trace_stream::dir::METADATA;
use codetracer_trace_stream::{child_dirs, write_json_atomic, TraceFormat};
use serde_json::{json, Value};

use super::StartRequest;
use crate::errors::{codes, RecorderFailure};

/// How a recorded process came to be (the `started_by` of its `process` block).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartedBy {
    /// Forked from a recorded process.
    Fork,
    /// Started by a recorded process (`subprocess`, `multiprocessing` spawn/forkserver).
    Spawn,
    /// A recorded process `exec`'d this program (same pid).
    Exec,
}

impl StartedBy {
    /// The name in the metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            StartedBy::Fork => "fork",
            StartedBy::Spawn => "spawn",
            StartedBy::Exec => "exec",
        }
    }
}

/// The recording a child process belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    /// The parent's process id.
    pub pid: u32,
    /// The parent's trace directory.
    pub dir: PathBuf,
    /// How the child was started.
    pub started_by: StartedBy,
}

/// The `CODETRACER_CHILD_SESSION` value describing `request`'s recording to its children.
pub fn child_session_value(request: &StartRequest) -> String {
    let policy = serde_json::to_value(&request.policy).unwrap_or(Value::Null);
    json!({
        "follow": request.policy.follow_children,
        "parent_dir": request.dir.display().to_string(),
        "parent_pid": std::process::id(),
        "format": request.format.name(),
        "policy": policy,
        "trace_filter": request.trace_filter,
        "env_filter": request.env_filter,
        "filter_dir": request.filter_dir.as_ref().map(|p| p.display().to_string()),
    })
    .to_string()
}

fn bad_value(detail: &str) -> RecorderFailure {
    RecorderFailure::usage(
        codes::INVALID_POLICY_VALUE,
        format!(
            "{} is not a value the recorder wrote ({detail}); unset it",
            codetracer_policy::env::ENV_CHILD_SESSION
        ),
    )
}

/// The policy a child uses: its parent's, field by field.
fn policy_of(snapshot: &Value) -> Result<RecorderPolicy, RecorderFailure> {
    let Some(fields) = snapshot.as_object() else {
        return Err(bad_value("no policy"));
    };
    let pairs = fields.iter().map(|(name, value)| {
        let text = match value {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        (name.clone(), text)
    });
    let update = PolicyUpdate::from_fields(pairs).map_err(|e| bad_value(&e.to_string()))?;
    RecorderPolicy::resolve(PolicyUpdate::new(), update).map_err(|e| bad_value(&e.to_string()))
}

/// What a process started with `value` in its environment records: `None` when its parent
/// does not follow children. `dir` is left empty (the caller creates the child directory).
pub fn child_request(
    value: &str,
    program: String,
    args: Vec<String>,
) -> Result<Option<(StartRequest, Parent)>, RecorderFailure> {
    let doc: Value = serde_json::from_str(value).map_err(|e| bad_value(&e.to_string()))?;
    if !doc["follow"].as_bool().unwrap_or(false) {
        return Ok(None);
    }
    let parent_dir = doc["parent_dir"]
        .as_str()
        .ok_or_else(|| bad_value("no parent_dir"))?;
    let parent_pid = doc["parent_pid"]
        .as_u64()
        .and_then(|p| u32::try_from(p).ok())
        .ok_or_else(|| bad_value("no parent_pid"))?;
    let format = TraceFormat::parse(doc["format"].as_str().unwrap_or("binary"))?;
    let strings = |key: &str| -> Vec<String> {
        doc[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let started_by = if parent_pid == std::process::id() {
        StartedBy::Exec
    } else {
        StartedBy::Spawn
    };
    let request = StartRequest {
        dir: PathBuf::new(),
        format,
        activation_path: None,
        program,
        args,
        policy: policy_of(&doc["policy"])?,
        trace_filter: strings("trace_filter"),
        env_filter: doc["env_filter"].as_str().map(str::to_owned),
        filter_dir: doc["filter_dir"].as_str().map(PathBuf::from),
        parent: None,
        test_framework: None,
        durable: true,
        series: false,
    };
    let parent = Parent {
        pid: parent_pid,
        dir: PathBuf::from(parent_dir),
        started_by,
    };
    Ok(Some((request, parent)))
}

/// The `process` block of a trace's metadata: this process, its command line, its parent.
pub fn process_block(argv: &[String], parent: Option<&Parent>) -> Value {
    json!({
        "pid": std::process::id(),
        // The command line as `args` is: secret-named options' values redacted.
        "argv": codetracer_trace_filter::redact_argv(argv),
        "started_by": parent.map(|p| p.started_by.as_str()),
        "parent": parent.map(|p| json!({"pid": p.pid, "trace_dir": p.dir.display().to_string()})),
    })
}

/// An exclusive lock on a trace directory, held while its `children` list is written;
/// released when dropped.
pub struct ListingLock {
    _dir: Option<std::fs::File>,
}

/// Waits for the [`ListingLock`] of the trace directory `dir` (none when it cannot be had:
/// the list is then written unlocked).
pub fn lock_listing(dir: &Path) -> ListingLock {
    let file = std::fs::File::open(dir).ok();
    #[cfg(unix)]
    let file = file.filter(|f| {
        use std::os::fd::AsRawFd;
        // SAFETY: `flock` on a descriptor this `File` owns; the lock goes with the descriptor.
        unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) == 0 }
    });
    ListingLock { _dir: file }
}

fn read_json(path: &Path) -> Value {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

/// In a child: when the parent's recording has ended already, rewrites its `children` list
/// (this child's entry appears or gets its exit status). Best effort: a failure leaves the
/// parent's list as it was.
pub fn refresh_parent_listing(parent: &Parent) {
    let _lock = lock_listing(&parent.dir);
    let path = parent.dir.join(METADATA);
    let mut meta = read_json(&path);
    if meta["process_exit_status"].is_null() {
        return; // still recording (or killed): its own end writes the list
    }
    if let Some(obj) = meta.as_object_mut() {
        obj.insert("children".into(), children_list(&parent.dir));
        if let Err(e) = write_json_atomic(&path, &meta) {
            log::warn!("cannot update the children list of {}: {e}", path.display());
        }
    }
}

/// The `children` list of a parent's metadata: one entry per child trace under `dir`, as
/// far as the child's own metadata tells (a child still running has no exit status yet).
pub fn children_list(dir: &Path) -> Value {
    let entries: Vec<Value> = child_dirs(dir)
        .into_iter()
        .map(|child| {
            let meta = read_json(&child.dir.join(METADATA));
            let process = &meta["process"];
            json!({
                "pid": child.pid,
                "argv": process["argv"],
                "started_by": process["started_by"],
                "trace": child.relative(),
                "exit_status": meta["process_exit_status"],
            })
        })
        .collect();
    Value::Array(entries)
}
