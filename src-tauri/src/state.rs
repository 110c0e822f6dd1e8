//! What the app keeps while it runs: the engine over the state directory, the assessment
//! runs started from the window, and the instances being created.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use pgrelocate_engine::host::Hosts;
use pgrelocate_engine::instances::Instances;
use pgrelocate_engine::store::Store;
use pgrelocate_engine::task::Tasks;

use crate::commands::assessments::AssessmentEvent;
use crate::commands::switchover::SwitchEvent;
use crate::error::CommandError;
use crate::jobs::Jobs;
use crate::watches::Watches;

/// The app state every command receives.
pub struct Console {
    engine: Result<Arc<Instances>, String>,
    tasks: Option<Tasks>,
    hosts: Result<Hosts, String>,
    /// The page's live subscriptions (ended when the page reloads).
    pub watches: Watches,
    state_dir: Option<PathBuf>,
    /// The folder of the app's log files, when it could be created.
    pub log_dir: Option<PathBuf>,
    /// Assessment runs started from the window.
    pub assessments: Jobs<AssessmentEvent>,
    /// Switchovers and failovers started from the window, by task id.
    pub switches: Jobs<SwitchEvent>,
    /// Names of instances being created (shown as Creating until they exist).
    creating: Mutex<BTreeSet<String>>,
}

impl Console {
    /// Opens the engine over the state directory. A failure is kept and reported by every
    /// command, so the window still opens and can say what is wrong.
    pub fn open(log_dir: Option<PathBuf>) -> Console {
        let state_dir = pgrelocate_engine::home::state_dir();
        let engine = match &state_dir {
            Ok(dir) => Instances::open(dir)
                .map(Arc::new)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = &engine {
            tracing::error!(error = %e, "the engine could not open the state directory");
        }
        let tasks = engine.as_ref().ok().map(|i| Tasks::new(i.clone()));
        // Remote hosts live in the same store, with pgrelocate's ssh folder beside it.
        let hosts = match &engine {
            Ok(instances) => {
                let dir = instances.state_dir();
                Store::open(dir)
                    .map(|store| Hosts::new(Arc::new(store), dir))
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.clone()),
        };
        Console {
            engine,
            tasks,
            hosts,
            watches: Watches::default(),
            state_dir: state_dir.ok(),
            log_dir,
            assessments: Jobs::default(),
            switches: Jobs::default(),
            creating: Mutex::new(BTreeSet::new()),
        }
    }

    /// The instance service, or why it is not available.
    pub fn instances(&self) -> Result<Arc<Instances>, CommandError> {
        self.engine.clone().map_err(CommandError::EngineUnavailable)
    }

    /// The hosts service, or why it is not available.
    pub fn hosts(&self) -> Result<Hosts, CommandError> {
        self.hosts.clone().map_err(CommandError::EngineUnavailable)
    }

    /// The task service, or why it is not available.
    pub fn tasks(&self) -> Result<Tasks, CommandError> {
        match (&self.tasks, &self.engine) {
            (Some(t), _) => Ok(t.clone()),
            (None, Err(e)) => Err(CommandError::EngineUnavailable(e.clone())),
            (None, Ok(_)) => Err(CommandError::EngineUnavailable("no task service".into())),
        }
    }

    /// Re-attaches to the tasks left running (a task in incremental sync is monitored
    /// again; one in link setup continues). Call once, inside the async runtime.
    pub async fn attach_tasks(&self) {
        let Some(tasks) = &self.tasks else { return };
        for (id, result) in tasks.attach_all().await {
            match result {
                Ok(driving) => tracing::info!(task = %id, driving, "re-attached to task"),
                Err(e) => tracing::warn!(task = %id, error = %e, "cannot re-attach to task"),
            }
        }
    }

    /// Stops driving every task from this process (the servers keep replicating).
    pub async fn shutdown(&self) {
        if let Some(tasks) = &self.tasks {
            tasks.shutdown().await;
        }
    }

    /// The state directory, if one could be determined.
    pub fn state_dir(&self) -> Option<&PathBuf> {
        self.state_dir.as_ref()
    }

    /// Marks `names` as being created until the returned guard drops.
    pub fn creating(&self, names: &[&str]) -> CreatingGuard<'_> {
        let mut set = self.creating.lock().unwrap_or_else(|e| e.into_inner());
        for n in names {
            set.insert(n.to_string());
        }
        CreatingGuard {
            console: self,
            names: names.iter().map(|n| n.to_string()).collect(),
        }
    }

    /// The instances being created now.
    pub fn creating_now(&self) -> Vec<String> {
        let set = self.creating.lock().unwrap_or_else(|e| e.into_inner());
        set.iter().cloned().collect()
    }
}

/// Unmarks instances as being created when dropped (also when the creation failed).
pub struct CreatingGuard<'a> {
    console: &'a Console,
    names: Vec<String>,
}

impl Drop for CreatingGuard<'_> {
    fn drop(&mut self) {
        let mut set = self
            .console
            .creating
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for n in &self.names {
            set.remove(n);
        }
    }
}
