//! Long work started from the window (an assessment run) keeps its events here, in Rust,
//! so a page that reloads or opens later re-subscribes and sees the same picture: every
//! event so far is replayed, then new ones follow as they happen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tauri::ipc::Channel;

/// Something that receives a job's events (a page's channel; a plain collector in tests).
pub trait Subscriber<E>: Send {
    /// Delivers one event; `false` when the receiver is gone and should be dropped.
    fn deliver(&self, event: &E) -> bool;
}

impl<E: Serialize + Clone + Send> Subscriber<E> for Channel<E> {
    fn deliver(&self, event: &E) -> bool {
        self.send(event.clone()).is_ok()
    }
}

struct JobState<E> {
    events: Vec<E>,
    subscribers: Vec<Box<dyn Subscriber<E>>>,
    finished: bool,
}

/// One job's event history and its live subscribers.
pub struct Job<E> {
    state: Mutex<JobState<E>>,
}

impl<E> Job<E> {
    fn lock(&self) -> std::sync::MutexGuard<'_, JobState<E>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records an event and hands it to every subscriber.
    pub fn publish(&self, event: E) {
        let mut state = self.lock();
        state.subscribers.retain(|s| s.deliver(&event));
        state.events.push(event);
    }

    /// Records the last event; no subscriber is kept after it.
    pub fn finish(&self, event: E) {
        self.publish(event);
        let mut state = self.lock();
        state.finished = true;
        state.subscribers.clear();
    }

    /// Replays every event so far to `subscriber`, then keeps it for the ones to come.
    /// Under one lock, so nothing is missed or delivered twice.
    pub fn subscribe(&self, subscriber: Box<dyn Subscriber<E>>) {
        let mut state = self.lock();
        for event in &state.events {
            if !subscriber.deliver(event) {
                return;
            }
        }
        if !state.finished {
            state.subscribers.push(subscriber);
        }
    }

    /// Whether the last event was published.
    pub fn is_finished(&self) -> bool {
        self.lock().finished
    }

    /// A copy of the events so far.
    pub fn events(&self) -> Vec<E>
    where
        E: Clone,
    {
        self.lock().events.clone()
    }
}

/// The jobs of one kind, by id.
pub struct Jobs<E> {
    jobs: Mutex<HashMap<String, Arc<Job<E>>>>,
}

impl<E> Default for Jobs<E> {
    fn default() -> Self {
        Jobs {
            jobs: Mutex::new(HashMap::new()),
        }
    }
}

impl<E> Jobs<E> {
    /// Registers a new job under a fresh id.
    pub fn start(&self) -> (String, Arc<Job<E>>) {
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        let job = Arc::new(Job {
            state: Mutex::new(JobState {
                events: Vec::new(),
                subscribers: Vec::new(),
                finished: false,
            }),
        });
        self.lock().insert(id.clone(), job.clone());
        (id, job)
    }

    /// Registers a job under a chosen id (e.g. a task's); refused while an unfinished job
    /// holds that id. A finished one is replaced.
    pub fn start_keyed(&self, id: &str) -> Result<Arc<Job<E>>, crate::error::CommandError> {
        let mut jobs = self.lock();
        if jobs.get(id).is_some_and(|j| !j.is_finished()) {
            return Err(crate::error::CommandError::Busy(format!(
                "an operation on {id} is already running"
            )));
        }
        let job = Arc::new(Job {
            state: Mutex::new(JobState {
                events: Vec::new(),
                subscribers: Vec::new(),
                finished: false,
            }),
        });
        jobs.insert(id.to_string(), job.clone());
        Ok(job)
    }

    /// The job with this id.
    pub fn get(&self, id: &str) -> Option<Arc<Job<E>>> {
        self.lock().get(id).cloned()
    }

    /// Every job with its id.
    pub fn all(&self) -> Vec<(String, Arc<Job<E>>)> {
        self.lock()
            .iter()
            .map(|(id, job)| (id.clone(), job.clone()))
            .collect()
    }

    /// Forgets a job.
    pub fn remove(&self, id: &str) -> Option<Arc<Job<E>>> {
        self.lock().remove(id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Job<E>>>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Collector(Arc<Mutex<Vec<u32>>>);

    impl Subscriber<u32> for Collector {
        fn deliver(&self, event: &u32) -> bool {
            self.0.lock().unwrap().push(*event);
            true
        }
    }

    #[test]
    fn a_late_subscriber_gets_the_history_then_live_events_once_each() {
        let jobs = Jobs::<u32>::default();
        let (id, job) = jobs.start();
        job.publish(1);
        job.publish(2);
        let late = Collector::default();
        jobs.get(&id).unwrap().subscribe(Box::new(late.clone()));
        job.publish(3);
        job.finish(4);
        job.publish(5); // after finish: recorded, but nobody is listening any more
        assert_eq!(*late.0.lock().unwrap(), vec![1, 2, 3, 4]);
        assert!(job.is_finished());
    }

    #[test]
    fn a_keyed_job_refuses_a_second_start_until_it_finished() {
        let jobs = Jobs::<u32>::default();
        let first = jobs.start_keyed("task-1").unwrap();
        let refused = jobs.start_keyed("task-1").err().unwrap();
        assert_eq!(refused.code(), "busy");
        first.finish(1);
        let second = jobs.start_keyed("task-1").unwrap();
        assert!(
            second.events().is_empty(),
            "a new attempt starts with no history"
        );
        assert!(jobs.get("task-1").is_some());
    }

    #[test]
    fn subscribing_to_a_finished_job_replays_it_whole() {
        let jobs = Jobs::<u32>::default();
        let (_, job) = jobs.start();
        job.publish(7);
        job.finish(8);
        let reader = Collector::default();
        job.subscribe(Box::new(reader.clone()));
        assert_eq!(*reader.0.lock().unwrap(), vec![7, 8]);
        assert_eq!(job.events(), vec![7, 8]);
    }

    struct Gone;
    impl Subscriber<u32> for Gone {
        fn deliver(&self, _: &u32) -> bool {
            false
        }
    }

    #[test]
    fn a_closed_page_is_dropped_from_the_subscribers() {
        let jobs = Jobs::<u32>::default();
        let (_, job) = jobs.start();
        job.subscribe(Box::new(Gone));
        job.publish(1);
        assert!(job.lock().subscribers.is_empty());
    }
}
