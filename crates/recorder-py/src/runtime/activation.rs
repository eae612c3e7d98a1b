//! [`Activation`]: recording starts when code from the activation path first runs and ends
//! when that frame returns. Without an activation path, recording is active from the start.

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
            },
            None => Self {
                path: None,
                phase: Phase::Active,
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
    fn no_path_means_active_from_the_start() {
        assert!(Activation::new(None).is_active());
    }
}
