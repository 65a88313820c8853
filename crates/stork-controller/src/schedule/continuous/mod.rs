//! Continuous schedules: one sync task per MigrationSchedule whose policy has a `continuous` member,
//! started and stopped by the schedule's reconcile, restarted when its template or policy changes. The
//! full passes of such a schedule are its Migrations, created by the reconcile like an interval's.

mod report;
mod session;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use kube::ResourceExt;
use stork_api::MigrationSchedule;
use stork_migrate::schedule::policy::Continuous;
use tokio::task::JoinHandle;

use crate::context::Context;

/// The running syncs, by schedule.
#[derive(Default)]
pub struct Syncs {
    running: Mutex<HashMap<(String, String), Running>>,
}

struct Running {
    fingerprint: u64,
    task: JoinHandle<()>,
    drain: tokio::sync::watch::Sender<bool>,
}

impl Syncs {
    /// Makes sure a sync runs for `schedule` as its spec and `policy` say: started when none runs (or the
    /// last one ended), restarted when either changed since it started.
    pub fn ensure(&self, ctx: &Arc<Context>, schedule: &MigrationSchedule, policy: Continuous) {
        let key = (schedule.namespace().unwrap_or_default(), schedule.name_any());
        let fingerprint = fingerprint(schedule, policy);
        let mut running = self.lock();
        if let Some(r) = running.get(&key)
            && r.fingerprint == fingerprint
            && !r.task.is_finished()
        {
            return;
        }
        if let Some(old) = running.remove(&key) {
            old.task.abort();
        }
        tracing::info!(schedule = %format!("{}/{}", key.0, key.1), debounce_ms = policy.debounce.as_millis() as u64, "continuous sync starting");
        let (drain, drained) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(session::run(ctx.clone(), schedule.clone(), policy, drained));
        running.insert(key, Running { fingerprint, task, drain });
    }

    /// Stops the sync of a schedule, if one runs; returns whether one did.
    pub fn stop(&self, namespace: &str, name: &str) -> bool {
        match self.lock().remove(&(namespace.to_string(), name.to_string())) {
            Some(r) => {
                r.task.abort();
                tracing::info!(schedule = %format!("{namespace}/{name}"), "continuous sync stopped");
                true
            }
            None => false,
        }
    }

    /// Asks the sync of a suspended schedule to write everything pending, say `Drained` in status, and
    /// end (a failover suspends a continuous schedule after idling the source, then waits for that).
    pub fn drain(&self, namespace: &str, name: &str) {
        if let Some(r) = self.lock().get(&(namespace.to_string(), name.to_string()))
            && !r.task.is_finished()
            && !*r.drain.borrow()
        {
            tracing::info!(schedule = %format!("{namespace}/{name}"), "continuous sync draining");
            let _ = r.drain.send(true);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Syncs {
    fn drop(&mut self) {
        for (_, r) in self.lock().drain() {
            r.task.abort();
        }
    }
}

/// What a running sync depends on: the schedule itself (a recreated one is another), its template and
/// its policy member.
fn fingerprint(schedule: &MigrationSchedule, policy: Continuous) -> u64 {
    let mut hasher = DefaultHasher::new();
    schedule.uid().hash(&mut hasher);
    serde_json::to_string(&schedule.spec.template).unwrap_or_default().hash(&mut hasher);
    policy.hash(&mut hasher);
    hasher.finish()
}

pub use report::clear as clear_status;
