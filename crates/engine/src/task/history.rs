//! A task's lag history, kept small for a standby that runs for months (store migration 9).
//!
//! Every sample is folded, as it is stored, into one per-minute and one per-hour aggregate
//! (`lag_rollups`: count, min / max / last of bytes and seconds behind, how many samples were
//! not streaming and the worst state seen). Retention then only deletes: raw samples after
//! [`RAW_KEPT`], minute aggregates after [`MINUTES_KEPT`]; hour aggregates and every other
//! event (phases, state changes, warnings, steps) stay for ever. A year-old DR task keeps a
//! day of samples, a month of minutes and a year of hours — a few MB instead of ~3 GB.
//!
//! Readers ask for a period at a bucket width ([`width_for`]); the finest source that still
//! covers the period answers, so a 15-minute chart sees every sample and a 30-day chart still
//! shows an hour-long outage three weeks ago (its buckets keep the worst value and state).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::event::EventKind;
use super::model::{ReplicationState, TaskId};
use super::monitor::Sample;
use crate::store::events;
use crate::store::tasks::TaskStoreError;
use crate::store::Store;

/// Raw samples are kept this long (seconds).
pub const RAW_KEPT: i64 = 24 * 3600;
/// Per-minute aggregates are kept this long (seconds); per-hour ones for ever.
pub const MINUTES_KEPT: i64 = 30 * 24 * 3600;
/// Retention runs at most this often per task (seconds of event time).
pub(crate) const PRUNE_EVERY: i64 = 600;
/// The most buckets [`width_for`] asks for: a chart's width in points, roughly.
pub const MAX_BUCKETS: i64 = 720;
/// The aggregate widths stored.
pub(crate) const MINUTE: i64 = 60;
pub(crate) const HOUR: i64 = 3600;

/// One bucket of a task's lag history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct LagBucket {
    /// Where the bucket starts (RFC 3339, UTC).
    pub start: String,
    /// Its width in seconds (5 s and more: one raw sample per bucket at the finest).
    pub width_secs: u32,
    /// Samples folded into it.
    pub samples: u32,
    /// Fewest bytes the destination had not replayed.
    pub bytes_min: Option<u64>,
    /// Most bytes behind: the figure a chart draws, so a spike is never averaged away.
    pub bytes_max: Option<u64>,
    /// Bytes behind at the bucket's last sample that had a figure.
    pub bytes_last: Option<u64>,
    /// Fewest seconds behind.
    pub secs_min: Option<f64>,
    /// Most seconds behind.
    pub secs_max: Option<f64>,
    /// Seconds behind at the last sample that had a figure.
    pub secs_last: Option<f64>,
    /// Samples whose replication state was not `streaming` (an outage leaves them).
    pub not_streaming: u32,
    /// The worst replication state seen (`disconnect` over `catchup` over the rest).
    pub worst: Option<ReplicationState>,
}

/// How bad a state is, for "the worst state in a bucket".
pub(crate) fn rank(state: ReplicationState) -> i64 {
    match state {
        ReplicationState::Streaming => 0,
        ReplicationState::Finish => 1,
        ReplicationState::Unstarted => 2,
        ReplicationState::Catchup => 3,
        ReplicationState::Disconnect => 4,
    }
}

pub(crate) fn state_word(state: ReplicationState) -> &'static str {
    state.as_str()
}

pub(crate) fn state_of(word: &str) -> Option<ReplicationState> {
    serde_json::from_value(serde_json::Value::String(word.to_string())).ok()
}

/// The figures a sample contributes: bytes behind and seconds behind (the servers'
/// `replay_lag`, else the time since the last replayed commit), as the chart has drawn them.
pub(crate) fn figures(sample: &Sample) -> (Option<u64>, Option<f64>) {
    let ms = sample.replay_lag_ms.or(sample.dest_replay_delay_ms);
    (sample.replay_lag_bytes, ms.map(|ms| ms / 1000.0))
}

pub(crate) fn unix_secs(at: &str) -> Option<i64> {
    at.parse::<Timestamp>().ok().map(|t| t.as_second())
}

fn rfc3339(secs: i64) -> String {
    Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// The bucket width for a chart of `span_secs`: at most [`MAX_BUCKETS`] buckets, whole
/// minutes from a minute up, whole hours from an hour up, never finer than the 5 s samples.
pub fn width_for(span_secs: i64) -> u32 {
    let w = (span_secs.max(1) + MAX_BUCKETS - 1) / MAX_BUCKETS;
    let w = if w <= 5 {
        5
    } else if w < MINUTE {
        w
    } else if w < HOUR {
        (w + MINUTE - 1) / MINUTE * MINUTE
    } else {
        (w + HOUR - 1) / HOUR * HOUR
    };
    u32::try_from(w).unwrap_or(u32::MAX)
}

/// Accumulates points or aggregates into one bucket.
#[derive(Default)]
struct Fold {
    samples: u32,
    bytes_min: Option<u64>,
    bytes_max: Option<u64>,
    bytes_last: Option<u64>,
    secs_min: Option<f64>,
    secs_max: Option<f64>,
    secs_last: Option<f64>,
    not_streaming: u32,
    worst: Option<ReplicationState>,
}

fn lower<T: PartialOrd + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b < a { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn higher<T: PartialOrd + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b > a { b } else { a }),
        (a, b) => a.or(b),
    }
}

impl Fold {
    /// Adds an aggregate (a raw sample is one with equal min, max and last). In time order.
    fn add(&mut self, other: &LagBucket) {
        self.samples += other.samples;
        self.bytes_min = lower(self.bytes_min, other.bytes_min);
        self.bytes_max = higher(self.bytes_max, other.bytes_max);
        self.bytes_last = other.bytes_last.or(self.bytes_last);
        self.secs_min = lower(self.secs_min, other.secs_min);
        self.secs_max = higher(self.secs_max, other.secs_max);
        self.secs_last = other.secs_last.or(self.secs_last);
        self.not_streaming += other.not_streaming;
        self.worst = match (self.worst, other.worst) {
            (Some(a), Some(b)) => Some(if rank(b) > rank(a) { b } else { a }),
            (a, b) => a.or(b),
        };
    }

    fn into_bucket(self, start: i64, width: i64) -> LagBucket {
        LagBucket {
            start: rfc3339(start),
            width_secs: width as u32,
            samples: self.samples,
            bytes_min: self.bytes_min,
            bytes_max: self.bytes_max,
            bytes_last: self.bytes_last,
            secs_min: self.secs_min,
            secs_max: self.secs_max,
            secs_last: self.secs_last,
            not_streaming: self.not_streaming,
            worst: self.worst,
        }
    }
}

/// Folds time-ordered `(unix secs, aggregate)` rows into buckets of `width` seconds.
fn regroup(rows: impl IntoIterator<Item = (i64, LagBucket)>, width: i64) -> Vec<LagBucket> {
    let mut out = Vec::new();
    let mut current: Option<(i64, Fold)> = None;
    for (at, row) in rows {
        let start = at.div_euclid(width) * width;
        match &mut current {
            Some((s, fold)) if *s == start => fold.add(&row),
            _ => {
                if let Some((s, fold)) = current.take() {
                    out.push(fold.into_bucket(s, width));
                }
                let mut fold = Fold::default();
                fold.add(&row);
                current = Some((start, fold));
            }
        }
    }
    if let Some((s, fold)) = current {
        out.push(fold.into_bucket(s, width));
    }
    out
}

/// A raw sample as a one-sample aggregate.
fn point(sample: &Sample) -> LagBucket {
    let (bytes, secs) = figures(sample);
    LagBucket {
        start: String::new(),
        width_secs: 0,
        samples: 1,
        bytes_min: bytes,
        bytes_max: bytes,
        bytes_last: bytes,
        secs_min: secs,
        secs_max: secs,
        secs_last: secs,
        not_streaming: u32::from(
            sample
                .replication
                .is_some_and(|s| s != ReplicationState::Streaming),
        ),
        worst: sample.replication,
    }
}

/// The lag of `task` between `from` and `to` (unix seconds) in buckets of about `width`
/// seconds, oldest first; empty buckets are left out. The finest source that still covers
/// `from` answers: raw samples for widths under a minute within the last day, minute
/// aggregates within the last 30 days, hour aggregates otherwise (the width is then rounded
/// up to whole minutes or hours).
pub fn lag(
    store: &Store,
    task: &TaskId,
    from: i64,
    to: i64,
    width: u32,
) -> Result<Vec<LagBucket>, TaskStoreError> {
    let now = Timestamp::now().as_second();
    let mut width = i64::from(width.max(1));
    if width < MINUTE && from < now - RAW_KEPT {
        width = MINUTE;
    }
    if width < HOUR && from < now - MINUTES_KEPT {
        width = HOUR;
    }
    if width < MINUTE {
        let samples = crate::store::history::samples_between(store, task, from, to)?;
        let points = samples
            .into_iter()
            .map(|(secs, sample)| (secs, point(&sample)));
        return Ok(regroup(points, width));
    }
    let source = if width < HOUR {
        width = (width + MINUTE - 1) / MINUTE * MINUTE;
        MINUTE
    } else {
        width = (width + HOUR - 1) / HOUR * HOUR;
        HOUR
    };
    let rows = crate::store::history::rollups_between(store, task, source, from, to)?;
    Ok(regroup(rows, width))
}

/// The periods a chart offers, each ending now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub enum Period {
    /// The last 15 minutes.
    #[serde(rename = "15m")]
    Minutes15,
    /// The last hour.
    #[serde(rename = "1h")]
    Hour1,
    /// The last 24 hours.
    #[serde(rename = "24h")]
    Hours24,
    /// The last 7 days.
    #[serde(rename = "7d")]
    Days7,
    /// The last 30 days.
    #[serde(rename = "30d")]
    Days30,
    /// Since the task was created.
    #[serde(rename = "all")]
    All,
}

impl Period {
    /// Every period, shortest first.
    pub const ALL: [Period; 6] = [
        Period::Minutes15,
        Period::Hour1,
        Period::Hours24,
        Period::Days7,
        Period::Days30,
        Period::All,
    ];

    /// Its word (`15m`, `1h`, `24h`, `7d`, `30d`, `all`), as the CLI takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Minutes15 => "15m",
            Period::Hour1 => "1h",
            Period::Hours24 => "24h",
            Period::Days7 => "7d",
            Period::Days30 => "30d",
            Period::All => "all",
        }
    }

    /// Its length in seconds; `All` reaches back to `created` (unix seconds).
    fn span(self, now: i64, created: i64) -> i64 {
        match self {
            Period::Minutes15 => 15 * 60,
            Period::Hour1 => 3600,
            Period::Hours24 => 24 * 3600,
            Period::Days7 => 7 * 24 * 3600,
            Period::Days30 => 30 * 24 * 3600,
            Period::All => (now - created).max(60),
        }
    }
}

impl std::str::FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown period {s:?}: use 15m, 1h, 24h, 7d, 30d or all"))
    }
}

/// A task's lag over a period, as a chart draws it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct LagHistory {
    /// The period asked for.
    pub period: Period,
    /// Where it starts (RFC 3339).
    pub from: String,
    /// Where it ends: now (RFC 3339).
    pub to: String,
    /// The buckets' width in seconds (the finest stored resolution that covers the period).
    pub width_secs: u32,
    /// Oldest first; a bucket without samples is absent.
    pub buckets: Vec<LagBucket>,
}

impl LagHistory {
    /// Reads `task`'s lag over `period`, ending now.
    pub fn read(
        store: &Store,
        task: &super::model::Task,
        period: Period,
    ) -> Result<LagHistory, TaskStoreError> {
        let now = Timestamp::now().as_second();
        let created = unix_secs(&task.created_at).unwrap_or(now);
        let from = now - period.span(now, created);
        let buckets = lag(store, &task.id, from, now, width_for(now - from))?;
        let width_secs = buckets
            .first()
            .map(|b| b.width_secs)
            .unwrap_or_else(|| width_for(now - from));
        Ok(LagHistory {
            period,
            from: rfc3339(from),
            to: rfc3339(now),
            width_secs,
            buckets,
        })
    }
}

/// A stretch of made-up history for [`age`]: samples every `every_secs` from `from` to `to`
/// (unix seconds), streaming with `bytes` behind, or disconnected inside `outages`.
#[derive(Debug, Clone)]
pub struct Ageing {
    /// First sample.
    pub from: i64,
    /// Last sample (exclusive).
    pub to: i64,
    /// Seconds between samples (the monitor's is 5).
    pub every_secs: i64,
    /// Bytes behind while streaming.
    pub bytes: u64,
    /// `(start, end)` of each disconnect (unix seconds): the state changes are logged as
    /// the monitor logs them, and the samples inside carry no lag figures.
    pub outages: Vec<(i64, i64)>,
}

/// A DR task record with no servers behind it, from `source` to `destination` (names only),
/// created at `created_at` (unix seconds): what the tests and benchmarks of a months-old
/// task store and then [`age`].
pub fn made_up_dr_task(source: &str, destination: &str, created_at: i64) -> super::model::Task {
    use super::model::{CopyOptions, Task, TaskInstance, TaskLayout};
    use crate::store::InstanceId;
    let id = TaskId::generate();
    let mut task = Task::new(
        id.clone(),
        crate::assess::model::Mode::Dr,
        TaskInstance {
            id: InstanceId::generate(),
            name: source.into(),
        },
        TaskInstance {
            id: InstanceId::generate(),
            name: destination.into(),
        },
        "report".into(),
        CopyOptions::default(),
        TaskLayout {
            slot_name: id.slot_name(),
            application_name: id.slot_name(),
            data_dir: "/d".into(),
            aside_dir: "/a".into(),
            copy_dir: "/c".into(),
            passfile: "/p".into(),
            standby_files: vec![],
            tablespaces: vec![],
            standby_role: None,
        },
    );
    task.created_at = rfc3339(created_at);
    task
}

/// Ages a task's store with made-up samples through the same write path the monitor uses
/// ([`events::append_events_at`]: aggregates folded as each sample is stored,
/// retention as event time advances), in transactions of a day's samples. For the tests and
/// benchmarks of a months-old task; returns the number of samples written.
pub fn age(store: &Store, task: &TaskId, ageing: &Ageing) -> Result<u64, TaskStoreError> {
    let down = |t: i64| ageing.outages.iter().any(|&(a, b)| t >= a && t < b);
    let mut written = 0;
    let mut t = ageing.from;
    let mut was_down = false;
    while t < ageing.to {
        let end = (t + 24 * 3600).min(ageing.to);
        let mut batch = Vec::new();
        while t < end {
            let is_down = down(t);
            if is_down != was_down {
                let (from, to) = if is_down {
                    (ReplicationState::Streaming, ReplicationState::Disconnect)
                } else {
                    (ReplicationState::Disconnect, ReplicationState::Streaming)
                };
                batch.push((rfc3339(t), EventKind::Replication { from, to }));
                was_down = is_down;
            }
            let sample = if is_down {
                Sample {
                    replication: Some(ReplicationState::Disconnect),
                    source_error: Some("connection refused".into()),
                    ..Sample::default()
                }
            } else {
                Sample {
                    replication: Some(ReplicationState::Streaming),
                    sender_state: Some("streaming".into()),
                    replay_lag_bytes: Some(ageing.bytes),
                    replay_lag_ms: Some(ageing.bytes as f64 / 1000.0),
                    dest_in_recovery: Some(true),
                    receiver_status: Some("streaming".into()),
                    dest_free_bytes: Some(100 << 30),
                    ..Sample::default()
                }
            };
            batch.push((rfc3339(t), EventKind::Sample(Box::new(sample))));
            written += 1;
            t += ageing.every_secs.max(1);
        }
        events::append_events_at(store, task, batch)?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_stay_under_the_bucket_limit_and_land_on_stored_resolutions() {
        assert_eq!(width_for(15 * 60), 5);
        assert_eq!(width_for(3600), 5);
        assert_eq!(width_for(6 * 3600), 30);
        assert_eq!(width_for(24 * 3600), 120);
        assert_eq!(width_for(7 * 24 * 3600), 840);
        assert_eq!(width_for(30 * 24 * 3600), 3600);
        assert_eq!(width_for(365 * 24 * 3600), 13 * 3600);
        for span in [60, 900, 3600, 86_400, 604_800, 2_592_000, 31_536_000] {
            assert!(span / i64::from(width_for(span)) <= MAX_BUCKETS, "{span}");
        }
    }

    #[test]
    fn a_bucket_keeps_the_worst_value_and_state_of_what_it_folds() {
        let s = |bytes, state| {
            point(&Sample {
                replication: Some(state),
                replay_lag_bytes: bytes,
                replay_lag_ms: bytes.map(|b| b as f64),
                ..Sample::default()
            })
        };
        let rows = vec![
            (0, s(Some(10), ReplicationState::Streaming)),
            (5, s(None, ReplicationState::Disconnect)),
            (10, s(Some(7), ReplicationState::Catchup)),
            (65, s(Some(1), ReplicationState::Streaming)),
        ];
        let buckets = regroup(rows, 60);
        assert_eq!(buckets.len(), 2);
        let first = &buckets[0];
        assert_eq!(first.samples, 3);
        assert_eq!(
            (first.bytes_min, first.bytes_max, first.bytes_last),
            (Some(7), Some(10), Some(7))
        );
        assert_eq!(first.not_streaming, 2);
        assert_eq!(first.worst, Some(ReplicationState::Disconnect));
        assert_eq!(first.start, "1970-01-01T00:00:00Z");
        assert_eq!(buckets[1].start, "1970-01-01T00:01:00Z");
        assert_eq!(buckets[1].worst, Some(ReplicationState::Streaming));
    }
}
