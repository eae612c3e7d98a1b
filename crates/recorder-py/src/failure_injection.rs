//! Test-only failure injection: lets tests make the recorder fail at chosen points.
//!
//! Compiled in only with the cargo feature `failure-injection` (test builds; `build_info()`
//! reports it as `failure_injection`). Without the feature [`arm_from_env`] does nothing and
//! [`check`] is an inlined `Ok(())`, so release builds carry no trace of it.
//!
//! With the feature, [`arm_from_env`] reads [`ENV_VAR`] once, when a session starts. Its value
//! is a [`Point`] name, optionally followed by `-panic`:
//!
//! | value | effect |
//! |---|---|
//! | `start` | starting fails after the tracer is installed (cleanup is exercised) |
//! | `line` | the first recorded line event fails |
//! | `return` | the first recorded return fails |
//! | `finish` | finishing the trace at stop fails |
//! | `<point>-panic` | the recorder panics at that point instead (must become `ERR_INTERNAL`) |
//!
//! An injected failure is an `InternalError` (`ERR_INTERNAL`) whose context has
//! `injected = <point>`. Each injection fires once per session.

use crate::errors::RecorderResult;

/// The environment variable read by [`arm_from_env`].
pub const ENV_VAR: &str = "CODETRACER_TEST_INJECT_FAILURE";

/// Where a failure can be injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// Session start, after the tracer is installed.
    Start,
    /// A recorded line event.
    Line,
    /// A recorded return (or yield / unwind).
    Return,
    /// Finishing the trace at stop.
    Finish,
}

impl Point {
    /// The name used in [`ENV_VAR`].
    pub fn name(self) -> &'static str {
        match self {
            Point::Start => "start",
            Point::Line => "line",
            Point::Return => "return",
            Point::Finish => "finish",
        }
    }

    /// Parses a [`Point::name`].
    pub fn parse(text: &str) -> Option<Self> {
        [Point::Start, Point::Line, Point::Return, Point::Finish]
            .into_iter()
            .find(|p| p.name() == text)
    }
}

/// An armed injection: where, and whether it panics instead of returning an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Injection {
    /// Where it fires.
    pub point: Point,
    /// Panic instead of returning `ERR_INTERNAL`.
    pub panic: bool,
}

impl Injection {
    /// Parses an [`ENV_VAR`] value (`line`, `finish-panic`, ...); `None` for anything else.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim().to_ascii_lowercase();
        let (name, panic) = match value.strip_suffix("-panic") {
            Some(name) => (name.to_owned(), true),
            None => (value, false),
        };
        Point::parse(&name).map(|point| Injection { point, panic })
    }
}

#[cfg(feature = "failure-injection")]
mod armed {
    use std::sync::atomic::{AtomicU8, Ordering};

    use super::{Injection, Point, ENV_VAR};
    use crate::errors::{RecorderFailure, RecorderResult};

    /// 0 = disarmed; otherwise `1 + point index`, plus [`PANIC_BIT`]. An atomic, so the check on
    /// every line event of a test build stays one load.
    static ARMED: AtomicU8 = AtomicU8::new(0);
    const PANIC_BIT: u8 = 0x80;
    const POINTS: [Point; 4] = [Point::Start, Point::Line, Point::Return, Point::Finish];

    fn encode(i: Injection) -> u8 {
        let index = POINTS.iter().position(|p| *p == i.point).unwrap_or(0);
        (index as u8 + 1) | if i.panic { PANIC_BIT } else { 0 }
    }

    #[allow(
        clippy::disallowed_methods,
        reason = "a test-build-only hook, not a recorder variable (see the module docs)"
    )]
    pub fn arm_from_env() {
        let injection = std::env::var(ENV_VAR)
            .ok()
            .and_then(|v| Injection::parse(&v));
        if let Some(i) = injection {
            log::warn!("test build: failure injection armed at {}", i.point.name());
        }
        ARMED.store(injection.map_or(0, encode), Ordering::SeqCst);
    }

    #[allow(clippy::panic)] // test-only: the injected panic is the point
    pub fn check(point: Point) -> RecorderResult<()> {
        let armed = ARMED.load(Ordering::Relaxed);
        if armed == 0 || POINTS.get(usize::from((armed & !PANIC_BIT) - 1)) != Some(&point) {
            return Ok(());
        }
        if ARMED
            .compare_exchange(armed, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Ok(()); // another thread fired it
        }
        if armed & PANIC_BIT != 0 {
            panic!("injected panic at {} ({ENV_VAR})", point.name());
        }
        Err(RecorderFailure::internal(format!(
            "injected failure at {} ({ENV_VAR}; test builds only)",
            point.name()
        ))
        .with("injected", point.name()))
    }
}

/// Arms the injection named by [`ENV_VAR`] (or disarms it). Call once at session start.
#[inline(always)]
pub fn arm_from_env() {
    #[cfg(feature = "failure-injection")]
    armed::arm_from_env();
}

/// Fails (or panics) if an injection is armed at `point`; fires once.
#[inline(always)]
pub fn check(point: Point) -> RecorderResult<()> {
    #[cfg(feature = "failure-injection")]
    {
        armed::check(point)
    }
    #[cfg(not(feature = "failure-injection"))]
    {
        let _ = point;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_to_points() {
        assert_eq!(
            Injection::parse("line"),
            Some(Injection {
                point: Point::Line,
                panic: false
            })
        );
        assert_eq!(
            Injection::parse(" Finish-Panic "),
            Some(Injection {
                point: Point::Finish,
                panic: true
            })
        );
        assert_eq!(Injection::parse("nowhere"), None);
        assert_eq!(Injection::parse(""), None);
    }

    #[test]
    fn every_point_round_trips() {
        for p in [Point::Start, Point::Line, Point::Return, Point::Finish] {
            assert_eq!(Point::parse(p.name()), Some(p));
        }
    }
}
