//! [`Activation`]: recording starts when code from the activation path first runs and ends
//! when that frame returns. Without an activation path, recording is active from the start.
//!
//! Activation decides *when*, the filters decide *what*: when the filters skip the activation
//! file itself (`-m pytest` runs `pytest/__main__.py`, `-m json.tool` a stdlib module), the
//! gate still opens at that file's first code object, which becomes the *gate code*: it is not
//! recorded, but the recorder counts its entries and exits so the gate closes when its
//! outermost frame returns, exactly as for a recorded activation frame.

use std::path::{Path, PathBuf};

/// Where the recording is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the activation path's code to start.
    Waiting,
    /// Recording.
    Active,
    /// The activation frame returned; nothing more is recorded.
    Done,
}

/// The activation gate.
#[derive(Debug, Clone)]
pub struct Activation {
    path: Option<PathBuf>,
    phase: Phase,
    /// The skipped activation code object (its cache key) and how many of its frames run.
    gate: Option<(usize, u32)>,
}

fn normalise(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

impl Activation {
    /// A gate for `path` (active immediately when `None`).
    pub fn new(path: Option<&Path>) -> Self {
        match path {
            Some(p) => Self {
                path: Some(normalise(p)),
                phase: Phase::Waiting,
                gate: None,
            },
            None => Self {
                path: None,
                phase: Phase::Active,
                gate: None,
            },
        }
    }

    /// The current phase.
    #[inline]
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether events are being recorded.
    #[inline]
    pub fn is_active(&self) -> bool {
        self.phase == Phase::Active
    }

    /// Whether code from the file `filename` (the path `co_filename` names, its bytes as they
    /// are) opens the gate (compare once per code object: this touches the filesystem to
    /// normalise the path).
    pub fn is_activation_file(&self, filename: &Path) -> bool {
        self.path
            .as_ref()
            .is_some_and(|p| *p == normalise(filename))
    }

    /// Opens the gate (only while waiting); true if it opened.
    pub fn activate(&mut self) -> bool {
        if self.phase == Phase::Waiting {
            self.phase = Phase::Active;
            true
        } else {
            false
        }
    }

    /// The activation frame returned.
    pub fn finish(&mut self) {
        self.phase = Phase::Done;
    }

    /// Opens the gate at a frame of `code`, an activation-file code object the filters skip
    /// (only while waiting); true if it opened.
    pub fn open_gate(&mut self, code: usize) -> bool {
        if self.activate() {
            self.gate = Some((code, 1));
            true
        } else {
            false
        }
    }

    /// Whether `code` is the skipped activation code object.
    #[inline]
    pub fn is_gate(&self, code: usize) -> bool {
        self.gate.is_some_and(|(c, _)| c == code)
    }

    /// Whether there is an activation path at all.
    pub fn has_path(&self) -> bool {
        self.path.is_some()
    }

    /// Whether the gate opened at a code object the filters skip.
    pub fn opened_at_skipped_code(&self) -> bool {
        self.gate.is_some()
    }

    /// Another frame of the gate code started (recursion) while recording.
    pub fn gate_entered(&mut self) {
        if let Some((_, depth)) = self.gate.as_mut() {
            *depth = depth.saturating_add(1);
        }
    }

    /// A frame of the gate code exited; true (and the gate closed) when it was the outermost.
    pub fn gate_exited(&mut self) -> bool {
        let Some((_, depth)) = self.gate.as_mut() else {
            return false;
        };
        *depth = depth.saturating_sub(1);
        if *depth == 0 && self.phase == Phase::Active {
            self.finish();
            true
        } else {
            false
        }
    }

    /// The phase's name, for the stop summary: `waiting` (the activation file never ran),
    /// `active`, `done`.
    pub fn phase_name(&self) -> &'static str {
        match self.phase {
            Phase::Waiting => "waiting",
            Phase::Active => "active",
            Phase::Done => "done",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_opens_on_the_activation_file_and_closes_for_good() {
        let mut a = Activation::new(Some(Path::new("/nonexistent/app.py")));
        assert_eq!(a.phase(), Phase::Waiting);
        assert!(!a.is_activation_file(Path::new("/nonexistent/other.py")));
        assert!(a.is_activation_file(Path::new("/nonexistent/app.py")));
        assert!(a.activate());
        assert!(a.is_active());
        a.finish();
        assert!(!a.activate());
        assert_eq!(a.phase(), Phase::Done);
    }

    #[test]
    fn a_skipped_gate_code_closes_when_its_outermost_frame_exits() {
        let mut a = Activation::new(Some(Path::new("/nonexistent/app.py")));
        assert!(a.open_gate(7));
        assert!(a.is_gate(7) && !a.is_gate(8));
        assert!(a.opened_at_skipped_code());
        a.gate_entered();
        assert!(!a.gate_exited());
        assert!(a.is_active());
        assert!(a.gate_exited());
        assert_eq!(a.phase_name(), "done");
        assert!(!a.open_gate(7));
    }

    #[test]
    fn no_path_means_active_from_the_start() {
        assert!(Activation::new(None).is_active());
    }
}
