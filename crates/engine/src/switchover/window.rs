//! The measured write-unavailability window, as the engine sees it: from the first change
//! the fence makes on the source to the moment a fresh connection to every database of the
//! promoted destination has committed, with the time each step took.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// One step's share of the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct StepTime {
    /// `fence`, `catchup`, `promote`, `unfence`, `verify`.
    pub step: String,
    /// Milliseconds.
    pub ms: u64,
}

/// The window, measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct WriteWindow {
    /// When the fence began (RFC 3339, UTC).
    pub fence_started_at: String,
    /// When the destination had committed from every database (RFC 3339, UTC).
    pub writes_resumed_at: String,
    /// The window in milliseconds.
    pub write_unavailable_ms: u64,
    /// Each step's part, in order.
    pub steps: Vec<StepTime>,
}

/// A stopwatch started when the fence begins.
#[derive(Debug)]
pub struct Stopwatch {
    started: Instant,
    started_at: jiff::Timestamp,
    lap: Instant,
    steps: Vec<StepTime>,
}

/// Whole milliseconds, rounded.
pub fn ms(d: Duration) -> u64 {
    (d.as_micros() as u64 + 500) / 1000
}

fn stamp(t: jiff::Timestamp) -> String {
    t.round(jiff::Unit::Millisecond).unwrap_or(t).to_string()
}

impl Stopwatch {
    /// Starts now.
    pub fn start() -> Stopwatch {
        let now = Instant::now();
        Stopwatch {
            started: now,
            started_at: jiff::Timestamp::now(),
            lap: now,
            steps: Vec::new(),
        }
    }

    /// Ends a step; returns its milliseconds.
    pub fn lap(&mut self, step: &str) -> u64 {
        let now = Instant::now();
        let took = ms(now - self.lap);
        self.lap = now;
        self.steps.push(StepTime {
            step: step.to_string(),
            ms: took,
        });
        took
    }

    /// Milliseconds since the start.
    pub fn elapsed_ms(&self) -> u64 {
        ms(self.started.elapsed())
    }

    /// The window, ending now.
    pub fn finish(self) -> WriteWindow {
        let took = self.started.elapsed();
        let end = self
            .started_at
            .checked_add(jiff::SignedDuration::try_from(took).unwrap_or_default())
            .unwrap_or(self.started_at);
        WriteWindow {
            fence_started_at: stamp(self.started_at),
            writes_resumed_at: stamp(end),
            write_unavailable_ms: ms(took),
            steps: self.steps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_add_up_to_at_most_the_window() {
        let mut w = Stopwatch::start();
        std::thread::sleep(Duration::from_millis(5));
        let a = w.lap("fence");
        std::thread::sleep(Duration::from_millis(5));
        let b = w.lap("promote");
        let window = w.finish();
        assert!(a >= 5 && b >= 5);
        assert!(window.write_unavailable_ms + 1 >= a + b);
        assert_eq!(window.steps.len(), 2);
        // As instants: RFC 3339 text drops trailing zeros ("…:02Z" sorts after "…:02.015Z").
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        assert!(at(&window.writes_resumed_at) >= at(&window.fence_started_at));
    }
}
