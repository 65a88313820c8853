//! An Action's status as a record of its stages: when each began and ended, how, and why.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use stork_api::{ActionStage, ActionStatus, ActionStatusType, StageRecord};

/// Marks `stage` as running (again, after a restart: its record is kept).
pub fn begin(status: &mut ActionStatus, stage: ActionStage, now: Timestamp) {
    let resumed = status.stage == stage
        && status.stages.last().is_some_and(|r| r.stage == stage && r.finish_timestamp.is_none() && !r.skipped);
    status.stage = stage;
    status.status = ActionStatusType::InProgress;
    if !resumed {
        status.stages.push(StageRecord {
            stage,
            status: ActionStatusType::InProgress,
            start_timestamp: Some(Time(now)),
            ..Default::default()
        });
    }
}

/// When the running stage began.
pub fn started(status: &ActionStatus) -> Option<Timestamp> {
    status.stages.last().filter(|r| r.stage == status.stage).and_then(|r| r.start_timestamp.as_ref()).map(|t| t.0)
}

/// What the running stage is doing or waiting for.
pub fn note(status: &mut ActionStatus, what: &str) {
    if let Some(record) = status.stages.last_mut() {
        record.reason = stork_kube::bounded(what, stork_kube::MAX_MESSAGE);
    }
}

/// Ends the running stage.
pub fn end(status: &mut ActionStatus, outcome: ActionStatusType, reason: &str, now: Timestamp) {
    status.status = outcome;
    if let Some(record) = status.stages.last_mut() {
        record.status = outcome;
        record.finish_timestamp = Some(Time(now));
        record.reason = stork_kube::bounded(reason, 2 * stork_kube::MAX_MESSAGE);
    }
}

/// Records stages that will not run, and why.
pub fn skip(status: &mut ActionStatus, stages: &[ActionStage], why: &str) {
    for stage in stages {
        status.stages.push(StageRecord { stage: *stage, reason: why.to_string(), skipped: true, ..Default::default() });
    }
}

/// Moves to `Final`.
pub fn finish(status: &mut ActionStatus, outcome: ActionStatusType, now: Timestamp) {
    status.stage = ActionStage::Final;
    status.status = outcome;
    status.finish_timestamp = Some(Time(now));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_recorded_once_each_with_their_times() {
        let t = |s: i64| Timestamp::from_second(1_800_000_000 + s).expect("ts");
        let mut status = ActionStatus::default();
        begin(&mut status, ActionStage::Initial, t(0));
        note(&mut status, "waiting");
        begin(&mut status, ActionStage::Initial, t(5));
        assert_eq!(status.stages.len(), 1, "a resumed stage keeps its record");
        assert_eq!(started(&status), Some(t(0)));
        end(&mut status, ActionStatusType::Successful, "reached", t(6));
        skip(&mut status, &[ActionStage::ScaleDownSource], "source out of reach");
        begin(&mut status, ActionStage::ScaleUpDestination, t(7));
        assert_eq!(status.stages.len(), 3);
        assert_eq!(started(&status), Some(t(7)));
        end(&mut status, ActionStatusType::Failed, "refused", t(8));
        finish(&mut status, ActionStatusType::Failed, t(9));
        assert_eq!((status.stage, status.status), (ActionStage::Final, ActionStatusType::Failed));
        assert_eq!(status.stages[0].reason, "reached");
        assert!(status.stages[1].skipped && status.stages[1].start_timestamp.is_none());
    }
}
