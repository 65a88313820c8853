//! What a continuous sync says about itself: `status.continuous` of its MigrationSchedule (written by its
//! own field manager, so the schedule's reconcile never overwrites it; at most every few seconds and
//! only when it changed, so an idle sync writes nothing) and the Prometheus series, every second.

use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use stork_api::{AppliedChange, ContinuousSyncStatus, MigrationSchedule};

use crate::context::Context;
use crate::metrics::ContinuousSample;

/// Field manager of `status.continuous`.
pub const STATUS_MANAGER: &str = "stork-rs-continuous";
/// Shortest time between two status writes while changes flow (state changes are written at once).
const STATUS_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    Starting,
    CatchingUp,
    Watching,
    Paused,
    /// Suspended, and everything seen before was written: the sync has ended.
    Drained,
    /// Suspended while it could not write: not drained.
    Stopped,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "Starting",
            Self::CatchingUp => "CatchingUp",
            Self::Watching => "Watching",
            Self::Paused => "Paused",
            Self::Drained => "Drained",
            Self::Stopped => "Stopped",
        }
    }
}

pub(super) struct Reporter {
    namespace: String,
    name: String,
    state: State,
    reason: String,
    applied: u64,
    failed: u64,
    sampled: (u64, u64),
    last_applied: Option<AppliedChange>,
    last_failure: String,
    last_catch_up: Option<Time>,
    written: Option<(ContinuousSyncStatus, Instant)>,
}

impl Reporter {
    pub fn new(namespace: &str, name: &str) -> Self {
        Self {
            namespace: namespace.to_string(),
            name: name.to_string(),
            state: State::Starting,
            reason: String::new(),
            applied: 0,
            failed: 0,
            sampled: (0, 0),
            last_applied: None,
            last_failure: String::new(),
            last_catch_up: None,
            written: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn set_state(&mut self, state: State, reason: impl Into<String>) {
        self.state = state;
        self.reason = stork_kube::error::bounded(&reason.into(), stork_kube::error::MAX_MESSAGE);
    }

    pub fn caught_up(&mut self, written: u64) {
        self.applied += written;
        self.last_catch_up = Some(Time(jiff::Timestamp::now()));
    }

    pub fn applied(&mut self, object: String, action: &str) {
        self.applied += 1;
        self.last_applied = Some(AppliedChange {
            object,
            action: action.to_string(),
            applied_timestamp: Some(Time(jiff::Timestamp::now())),
        });
    }

    pub fn failed(&mut self, message: String) {
        self.failed += 1;
        self.last_failure = stork_kube::error::bounded(&message, stork_kube::error::MAX_MESSAGE);
    }

    fn status(&self, lag: Duration, pending: usize) -> ContinuousSyncStatus {
        ContinuousSyncStatus {
            state: self.state.as_str().to_string(),
            reason: self.reason.clone(),
            lag_milliseconds: u64::try_from(lag.as_millis()).unwrap_or(u64::MAX),
            pending: pending as u64,
            applied_changes: self.applied,
            failed_changes: self.failed,
            last_applied_change: self.last_applied.clone(),
            last_failure: self.last_failure.clone(),
            last_catch_up_timestamp: self.last_catch_up.clone(),
            updated_timestamp: None,
        }
    }

    /// Samples the metrics, and writes the status when it changed: at once when the state did, else
    /// once [`STATUS_EVERY`] has passed since the last write. A failed write is tried at the next report.
    pub async fn report(&mut self, ctx: &Context, lag: Duration, pending: usize) {
        let sample = ContinuousSample {
            lag,
            pending,
            paused: self.state == State::Paused,
            applied_since: self.applied - self.sampled.0,
            failed_since: self.failed - self.sampled.1,
        };
        self.sampled = (self.applied, self.failed);
        ctx.metrics.set_continuous(&self.namespace, &self.name, &sample);

        let status = self.status(lag, pending);
        let due = match &self.written {
            None => true,
            Some((old, _)) if *old == status => false,
            Some((old, _)) if old.state != status.state || old.reason != status.reason => true,
            Some((_, at)) => at.elapsed() >= STATUS_EVERY,
        };
        if !due {
            return;
        }
        let mut written = status.clone();
        written.updated_timestamp = Some(Time(jiff::Timestamp::now()));
        let patch = json!({
            "apiVersion": stork_api::API_VERSION,
            "kind": "MigrationSchedule",
            "status": {"continuous": written},
        });
        match apply(ctx, &self.namespace, &self.name, patch).await {
            Ok(()) => self.written = Some((status, Instant::now())),
            Err(e) => {
                tracing::warn!(schedule = %format!("{}/{}", self.namespace, self.name), error = %e, "continuous status not written")
            }
        }
    }
}

/// Removes `status.continuous` (the schedule is no longer continuous): this manager gives up the field.
pub async fn clear(ctx: &Context, namespace: &str, name: &str) {
    let patch = json!({"apiVersion": stork_api::API_VERSION, "kind": "MigrationSchedule", "status": {}});
    if let Err(e) = apply(ctx, namespace, name, patch).await
        && e.code != Some(404)
    {
        tracing::warn!(schedule = %format!("{namespace}/{name}"), error = %e, "continuous status not cleared");
    }
    ctx.metrics.forget_continuous(namespace, name);
}

async fn apply(
    ctx: &Context,
    namespace: &str,
    name: &str,
    patch: serde_json::Value,
) -> Result<(), stork_kube::RequestError> {
    let api: Api<MigrationSchedule> = Api::namespaced(ctx.client.clone(), namespace);
    let params = PatchParams::apply(STATUS_MANAGER).force();
    let what = format!("writing the continuous status of MigrationSchedule {namespace}/{name}");
    ctx.source.within(what, api.patch_status(name, &params, &Patch::Apply(patch))).await?;
    Ok(())
}
