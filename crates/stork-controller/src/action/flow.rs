//! The order of an Action's stages, decided without IO. A failover and a failback are the same switch
//! in opposite directions — idle the cluster left, copy what changed since the last migration, bring up
//! the cluster gone to — with Stork's stage names for each side; a failure rolls back what was done.

use stork_api::{ActionStage, ActionStatus, ActionStatusType};

/// Which way an Action switches the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the source (remote) to this cluster, the destination.
    Failover,
    /// From this cluster back to the source.
    Failback,
}

/// What a stage does, whichever the direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Check the request, reach the other cluster, run the preflight, pause the schedule that copies.
    Validate,
    /// Idle the cluster left.
    ScaleDown,
    /// Wait until its workloads have no pods.
    WaitIdle,
    /// Copy what changed since the last migration.
    LastMile,
    /// Bring up the cluster gone to.
    ScaleUp,
    /// Rollback of a failed scale-up: idle the cluster gone to again.
    IdleAgain,
    /// Rollback: bring the cluster left back up, resume its schedule.
    Restore,
}

/// What happens next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Run(Step),
    /// Move to `Final` with this status.
    Finish(ActionStatusType),
}

impl Direction {
    /// Stork's stage for `step`.
    pub fn stage(self, step: Step) -> ActionStage {
        use ActionStage::*;
        match (self, step) {
            (_, Step::Validate) => Initial,
            (_, Step::WaitIdle) => WaitAfterScaleDown,
            (_, Step::LastMile) => LastMileMigration,
            (Self::Failover, Step::ScaleDown) | (Self::Failback, Step::IdleAgain) => ScaleDownSource,
            (Self::Failover, Step::ScaleUp) | (Self::Failback, Step::Restore) => ScaleUpDestination,
            (Self::Failover, Step::IdleAgain) | (Self::Failback, Step::ScaleDown) => ScaleDownDestination,
            (Self::Failover, Step::Restore) | (Self::Failback, Step::ScaleUp) => ScaleUpSource,
        }
    }

    /// The step a stage is, or `None` for `Final`.
    pub fn step(self, stage: ActionStage) -> Option<Step> {
        [Step::Validate, Step::ScaleDown, Step::WaitIdle, Step::LastMile, Step::ScaleUp, Step::IdleAgain, Step::Restore]
            .into_iter()
            .find(|step| self.stage(*step) == stage)
    }
}

/// Whether a step undoes what the forward steps did.
pub fn is_rollback(step: Step) -> bool {
    matches!(step, Step::IdleAgain | Step::Restore)
}

/// The status a stage ends with.
pub fn ended(step: Step, ok: bool) -> ActionStatusType {
    match (is_rollback(step), ok) {
        (false, true) => ActionStatusType::Successful,
        (false, false) => ActionStatusType::Failed,
        (true, true) => ActionStatusType::RollbackSuccessful,
        (true, false) => ActionStatusType::RollbackFailed,
    }
}

/// Where an Action goes after `step` ended (`ok` or not). With the source's steps skipped (it is out of
/// reach) there is nothing to roll back to; a rollback that failed anywhere fails as a whole.
pub fn after(step: Step, ok: bool, source_skipped: bool, rollback_failed_before: bool) -> Next {
    match (step, ok) {
        (Step::Validate, true) if source_skipped => Next::Run(Step::ScaleUp),
        (Step::Validate, true) => Next::Run(Step::ScaleDown),
        // Validation changes nothing it does not undo itself.
        (Step::Validate, false) => Next::Finish(ActionStatusType::Failed),
        (Step::ScaleDown, true) => Next::Run(Step::WaitIdle),
        (Step::WaitIdle, true) => Next::Run(Step::LastMile),
        (Step::LastMile, true) => Next::Run(Step::ScaleUp),
        (Step::ScaleDown | Step::WaitIdle | Step::LastMile, false) => Next::Run(Step::Restore),
        (Step::ScaleUp, true) => Next::Finish(ActionStatusType::Successful),
        (Step::ScaleUp, false) if source_skipped => Next::Finish(ActionStatusType::Failed),
        (Step::ScaleUp, false) => Next::Run(Step::IdleAgain),
        (Step::IdleAgain, _) => Next::Run(Step::Restore),
        (Step::Restore, true) if !rollback_failed_before => Next::Finish(ActionStatusType::RollbackSuccessful),
        (Step::Restore, _) => Next::Finish(ActionStatusType::RollbackFailed),
    }
}

/// Where an Action that was left in `status` stands: the step to run (again, after a restart: every
/// step can be repeated) or how it finishes.
pub fn resume(direction: Direction, status: &ActionStatus) -> Next {
    let Some(step) = direction.step(status.stage) else { return Next::Finish(status.status) };
    let skipped = status.stages.iter().any(|r| r.skipped);
    let rollback_failed = status.stages.iter().any(|r| r.status == ActionStatusType::RollbackFailed);
    match status.status {
        ActionStatusType::Successful | ActionStatusType::RollbackSuccessful => {
            after(step, true, skipped, rollback_failed)
        }
        ActionStatusType::Failed | ActionStatusType::RollbackFailed => after(step, false, skipped, rollback_failed),
        ActionStatusType::Initial | ActionStatusType::Scheduled | ActionStatusType::InProgress => Next::Run(step),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stork_api::StageRecord;

    const ALL: [Step; 7] = [
        Step::Validate,
        Step::ScaleDown,
        Step::WaitIdle,
        Step::LastMile,
        Step::ScaleUp,
        Step::IdleAgain,
        Step::Restore,
    ];

    /// Runs the flow from the start, each step succeeding unless it is `failing`.
    fn path(failing: &[Step], skipped: bool) -> (Vec<Step>, ActionStatusType) {
        let mut steps = vec![];
        let mut next = Next::Run(Step::Validate);
        let mut rollback_failed = false;
        while let Next::Run(step) = next {
            steps.push(step);
            let ok = !failing.contains(&step);
            rollback_failed |= is_rollback(step) && !ok;
            next = after(step, ok, skipped, rollback_failed);
        }
        let Next::Finish(status) = next else { unreachable!() };
        (steps, status)
    }

    #[test]
    fn a_switch_runs_every_stage_in_order() {
        use Step::*;
        assert_eq!(
            path(&[], false),
            (vec![Validate, ScaleDown, WaitIdle, LastMile, ScaleUp], ActionStatusType::Successful)
        );
        assert_eq!(path(&[], true), (vec![Validate, ScaleUp], ActionStatusType::Successful), "source out of reach");
    }

    #[test]
    fn a_failure_rolls_back_what_was_done() {
        use Step::*;
        assert_eq!(path(&[Validate], false), (vec![Validate], ActionStatusType::Failed));
        for failing in [ScaleDown, WaitIdle, LastMile] {
            let (steps, status) = path(&[failing], false);
            assert_eq!(steps.last(), Some(&Restore), "{failing:?}");
            assert!(!steps.contains(&ScaleUp) && !steps.contains(&IdleAgain), "{failing:?}: {steps:?}");
            assert_eq!(status, ActionStatusType::RollbackSuccessful);
        }
        assert_eq!(
            path(&[ScaleUp], false),
            (
                vec![Validate, ScaleDown, WaitIdle, LastMile, ScaleUp, IdleAgain, Restore],
                ActionStatusType::RollbackSuccessful
            )
        );
        assert_eq!(path(&[ScaleUp, IdleAgain], false).1, ActionStatusType::RollbackFailed, "one part failed");
        assert_eq!(path(&[LastMile, Restore], false).1, ActionStatusType::RollbackFailed);
        assert_eq!(
            path(&[ScaleUp], true),
            (vec![Validate, ScaleUp], ActionStatusType::Failed),
            "nothing to go back to"
        );
    }

    #[test]
    fn every_step_has_its_own_stage_per_direction() {
        for direction in [Direction::Failover, Direction::Failback] {
            for step in ALL {
                assert_eq!(direction.step(direction.stage(step)), Some(step), "{direction:?} {step:?}");
            }
            assert_eq!(direction.step(ActionStage::Final), None);
        }
        assert_eq!(Direction::Failover.stage(Step::ScaleDown), ActionStage::ScaleDownSource);
        assert_eq!(Direction::Failback.stage(Step::ScaleDown), ActionStage::ScaleDownDestination);
        assert_eq!(Direction::Failover.stage(Step::Restore), ActionStage::ScaleUpSource);
        assert_eq!(Direction::Failback.stage(Step::Restore), ActionStage::ScaleUpDestination);
    }

    #[test]
    fn a_restarted_controller_picks_up_where_the_status_says() {
        let status = |stage, status, records: Vec<StageRecord>| ActionStatus {
            stage,
            status,
            stages: records,
            ..Default::default()
        };
        let fo = Direction::Failover;
        assert_eq!(resume(fo, &ActionStatus::default()), Next::Run(Step::Validate));
        assert_eq!(
            resume(fo, &status(ActionStage::LastMileMigration, ActionStatusType::InProgress, vec![])),
            Next::Run(Step::LastMile),
            "repeated"
        );
        assert_eq!(
            resume(fo, &status(ActionStage::LastMileMigration, ActionStatusType::Successful, vec![])),
            Next::Run(Step::ScaleUp)
        );
        assert_eq!(
            resume(fo, &status(ActionStage::WaitAfterScaleDown, ActionStatusType::Failed, vec![])),
            Next::Run(Step::Restore)
        );
        let skipped = vec![StageRecord { stage: ActionStage::ScaleDownSource, skipped: true, ..Default::default() }];
        assert_eq!(
            resume(fo, &status(ActionStage::Initial, ActionStatusType::Successful, skipped.clone())),
            Next::Run(Step::ScaleUp)
        );
        assert_eq!(
            resume(fo, &status(ActionStage::ScaleUpDestination, ActionStatusType::Failed, skipped)),
            Next::Finish(ActionStatusType::Failed)
        );
        let failed = vec![StageRecord { status: ActionStatusType::RollbackFailed, ..Default::default() }];
        assert_eq!(
            resume(fo, &status(ActionStage::ScaleUpSource, ActionStatusType::RollbackSuccessful, failed)),
            Next::Finish(ActionStatusType::RollbackFailed)
        );
        assert_eq!(
            resume(fo, &status(ActionStage::Final, ActionStatusType::Successful, vec![])),
            Next::Finish(ActionStatusType::Successful)
        );
    }
}
