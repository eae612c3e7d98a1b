//! The enumerated policy options: [`OnRecorderError`], [`LogLevel`] and [`IoCapture`].
//!
//! Each has a canonical lower-case spelling ([`as_str`](IoCapture::as_str), used by `Display`,
//! serde and snapshots) and a case-insensitive, whitespace-tolerant [`FromStr`] that also takes
//! the synonyms listed in its `ACCEPTED` constant; an unknown spelling is a
//! [`PolicyError::InvalidValue`] that lists what is accepted.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::error::PolicyError;

/// Implements `Display`, `Serialize` (as the canonical string) for an option enum.
macro_rules! canonical_string {
    ($ty:ty) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

/// What the recorder does when it fails while the program runs (SPEC §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnRecorderError {
    /// The error propagates: recording stops and the CLI exits with status 1.
    #[default]
    Abort,
    /// The error is logged, the recorder detaches and the program finishes untraced.
    Disable,
}

impl OnRecorderError {
    /// Accepted spellings (case-insensitive).
    pub const ACCEPTED: &'static str = "abort, disable (or disabled)";

    /// The canonical spelling: `"abort"` or `"disable"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Abort => "abort",
            Self::Disable => "disable",
        }
    }
}

impl FromStr for OnRecorderError {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "abort" => Ok(Self::Abort),
            "disable" | "disabled" => Ok(Self::Disable),
            _ => Err(PolicyError::invalid("on_recorder_error", s, Self::ACCEPTED)),
        }
    }
}

canonical_string!(OnRecorderError);

/// The most verbose level of the recorder's own log messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum LogLevel {
    /// No log messages at all.
    Off,
    /// Errors only.
    Error,
    /// Errors and warnings (the default).
    #[default]
    Warn,
    /// Also informational messages (e.g. where the trace went).
    Info,
    /// Also debugging messages.
    Debug,
    /// Everything, including per-event tracing of the recorder itself.
    Trace,
}

impl LogLevel {
    /// Accepted spellings (case-insensitive).
    pub const ACCEPTED: &'static str =
        "off (or none), error (or critical), warn (or warning), info, debug, trace";

    /// The canonical spelling: `"off"`, `"error"`, `"warn"`, `"info"`, `"debug"` or `"trace"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Error => "error",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Debug => "debug",
            Self::Trace => "trace",
        }
    }

    /// The equivalent [`log::LevelFilter`] for the Rust `log` facade.
    pub fn to_level_filter(self) -> log::LevelFilter {
        match self {
            Self::Off => log::LevelFilter::Off,
            Self::Error => log::LevelFilter::Error,
            Self::Warn => log::LevelFilter::Warn,
            Self::Info => log::LevelFilter::Info,
            Self::Debug => log::LevelFilter::Debug,
            Self::Trace => log::LevelFilter::Trace,
        }
    }

    /// The equivalent numeric level of Python's `logging` module (`Trace` is 5, below `DEBUG`;
    /// `Off` is 100, above `CRITICAL`, so nothing passes).
    pub fn python_level(self) -> u32 {
        match self {
            Self::Off => 100,
            Self::Error => 40,
            Self::Warn => 30,
            Self::Info => 20,
            Self::Debug => 10,
            Self::Trace => 5,
        }
    }
}

impl FromStr for LogLevel {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" | "none" => Ok(Self::Off),
            "error" | "critical" => Ok(Self::Error),
            "warn" | "warning" => Ok(Self::Warn),
            "info" => Ok(Self::Info),
            "debug" => Ok(Self::Debug),
            "trace" => Ok(Self::Trace),
            _ => Err(PolicyError::invalid("log_level", s, Self::ACCEPTED)),
        }
    }
}

canonical_string!(LogLevel);

/// How the program's stdin/stdout/stderr are captured into the trace (SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IoCapture {
    /// Streams are left untouched; the trace has no IO events.
    Off,
    /// `sys.stdout`/`sys.stderr`/`sys.stdin` are wrapped by recording proxies (the default).
    #[default]
    Proxies,
    /// Proxies, plus capture of raw writes to file descriptors 1 and 2.
    ProxiesAndFd,
}

impl IoCapture {
    /// Accepted spellings (case-insensitive; `,` or `+` separate the parts of a combination).
    pub const ACCEPTED: &'static str = "off (or none, 0, false, no, disable, disabled), \
         proxies (or proxy, on, 1, true, yes, enable, enabled), \
         proxies+fd (or fd, proxies,fd, proxies-fd, proxies_fd, fd+proxies, mirror, fallback)";

    /// The canonical spelling: `"off"`, `"proxies"` or `"proxies+fd"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Proxies => "proxies",
            Self::ProxiesAndFd => "proxies+fd",
        }
    }

    /// Whether the `sys` stream proxies are installed (`Proxies` and `ProxiesAndFd`).
    pub fn proxies(self) -> bool {
        !matches!(self, Self::Off)
    }

    /// Whether raw file-descriptor writes are captured too (`ProxiesAndFd` only).
    pub fn fd(self) -> bool {
        matches!(self, Self::ProxiesAndFd)
    }
}

impl FromStr for IoCapture {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.as_str() {
            "off" | "none" | "0" | "false" | "no" | "disable" | "disabled" => return Ok(Self::Off),
            "on" | "1" | "true" | "yes" | "enable" | "enabled" => return Ok(Self::Proxies),
            "proxies-fd" | "proxies_fd" => return Ok(Self::ProxiesAndFd),
            _ => {}
        }
        let invalid = || PolicyError::invalid("io_capture", s, Self::ACCEPTED);
        let (mut proxies, mut fd) = (false, false);
        for token in lower.split([',', '+']) {
            match token.trim() {
                "proxies" | "proxy" => proxies = true,
                "fd" | "mirror" | "fallback" => fd = true,
                _ => return Err(invalid()),
            }
        }
        match (proxies, fd) {
            (_, true) => Ok(Self::ProxiesAndFd),
            (true, false) => Ok(Self::Proxies),
            (false, false) => Err(invalid()),
        }
    }
}

canonical_string!(IoCapture);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn canonical_spellings_round_trip() {
        for v in [OnRecorderError::Abort, OnRecorderError::Disable] {
            assert_eq!(v.as_str().parse::<OnRecorderError>().unwrap(), v);
            assert_eq!(v.to_string(), v.as_str());
        }
        for v in [
            LogLevel::Off,
            LogLevel::Error,
            LogLevel::Warn,
            LogLevel::Info,
            LogLevel::Debug,
            LogLevel::Trace,
        ] {
            assert_eq!(v.as_str().parse::<LogLevel>().unwrap(), v);
            assert_eq!(v.to_string(), v.as_str());
        }
        for v in [IoCapture::Off, IoCapture::Proxies, IoCapture::ProxiesAndFd] {
            assert_eq!(v.as_str().parse::<IoCapture>().unwrap(), v);
            assert_eq!(v.to_string(), v.as_str());
        }
    }

    #[test]
    fn io_capture_helpers() {
        assert!(!IoCapture::Off.proxies() && !IoCapture::Off.fd());
        assert!(IoCapture::Proxies.proxies() && !IoCapture::Proxies.fd());
        assert!(IoCapture::ProxiesAndFd.proxies() && IoCapture::ProxiesAndFd.fd());
    }

    #[test]
    fn log_level_maps_to_log_and_python_levels() {
        assert_eq!(LogLevel::Off.to_level_filter(), log::LevelFilter::Off);
        assert_eq!(LogLevel::Warn.to_level_filter(), log::LevelFilter::Warn);
        assert_eq!(LogLevel::Trace.to_level_filter(), log::LevelFilter::Trace);
        assert_eq!(LogLevel::Error.to_level_filter(), log::LevelFilter::Error);
        assert_eq!(LogLevel::Info.to_level_filter(), log::LevelFilter::Info);
        assert_eq!(LogLevel::Debug.to_level_filter(), log::LevelFilter::Debug);
        let levels: Vec<u32> = [
            LogLevel::Trace,
            LogLevel::Debug,
            LogLevel::Info,
            LogLevel::Warn,
            LogLevel::Error,
            LogLevel::Off,
        ]
        .iter()
        .map(|l| l.python_level())
        .collect();
        assert_eq!(levels, [5, 10, 20, 30, 40, 100]);
        assert!(LogLevel::Trace > LogLevel::Warn);
    }
}
