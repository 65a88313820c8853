//! Pure status logic: from what was observed to the next status, its conditions and the events that
//! the change deserves (only transitions, never one per reconcile).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use stork_api::{
    CONDITION_OPTIONS_VALID, CONDITION_SCHEDULER_READY, CONDITION_STORAGE_READY, CONDITION_TLS_VERIFIED,
    ClusterPairSpec, ClusterPairStatus, ClusterPairStatusType,
};

/// Longest condition message: what failed and what to do, around a bounded server message.
pub const MAX_CONDITION_MESSAGE: usize = 2 * stork_kube::MAX_MESSAGE;

/// The outcome of one check (scheduler or storage).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: ClusterPairStatusType,
    /// PascalCase reason for the condition.
    pub reason: String,
    pub message: String,
}

impl Outcome {
    /// `message` is bounded: it may carry text from the destination.
    pub fn new(status: ClusterPairStatusType, reason: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.to_string(),
            message: stork_kube::bounded(&message.into(), MAX_CONDITION_MESSAGE),
        }
    }
}

/// An event to publish: (warning?, reason, message).
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub warning: bool,
    pub reason: String,
    pub message: String,
}

/// Whether the pair's options are ones stork-rs knows; `Ready` when they are.
pub fn check_options(spec: &ClusterPairSpec) -> Outcome {
    match spec.mode_problem() {
        Some(problem) => Outcome::new(ClusterPairStatusType::Error, "UnknownMode", problem),
        None => Outcome::new(ClusterPairStatusType::Ready, "Valid", "spec.options are valid"),
    }
}

/// Whether the pair's destination certificate is verified. `insecure-skip-tls-verify` is honoured (as
/// client-go does), but reported: whoever can intercept the connection can pose as the destination and
/// receive the pair's credentials.
pub fn check_tls(config: &stork_api::PairKubeconfig) -> Outcome {
    let cluster = config.contexts.get(&config.current_context).map(|c| c.cluster.as_str()).unwrap_or_default();
    match config.clusters.get(cluster) {
        Some(c) if c.insecure_skip_tls_verify == Some(true) => Outcome::new(
            ClusterPairStatusType::Error,
            "InsecureSkipTLSVerify",
            format!(
                "spec.config.clusters.{cluster}.insecure-skip-tls-verify is true: the destination's certificate is not \
                 checked, so whoever can intercept the connection can pose as the destination and receive this pair's \
                 credentials; give certificate-authority-data instead"
            ),
        ),
        _ => Outcome::new(ClusterPairStatusType::Ready, "Verified", "the destination's certificate is verified"),
    }
}

/// Adds the TLS condition (see [`check_tls`]) to a status made by [`next_status`].
pub fn add_tls_condition(
    status: &mut ClusterPairStatus,
    old: Option<&ClusterPairStatus>,
    tls: &Outcome,
    generation: Option<i64>,
    now: &Time,
) {
    let old_conditions = old.map(|s| s.conditions.as_slice()).unwrap_or_default();
    status.conditions.push(condition(old_conditions, CONDITION_TLS_VERIFIED, tls, generation, now));
}

/// The status after observing `scheduler`, `storage` and `options`; condition times move only on change.
pub fn next_status(
    old: Option<&ClusterPairStatus>,
    scheduler: &Outcome,
    storage: &Outcome,
    options: &Outcome,
    remote_storage_id: &str,
    generation: Option<i64>,
    now: &Time,
) -> ClusterPairStatus {
    let old_conditions = old.map(|s| s.conditions.as_slice()).unwrap_or_default();
    ClusterPairStatus {
        scheduler_status: scheduler.status,
        storage_status: storage.status,
        remote_storage_id: remote_storage_id.to_string(),
        conditions: vec![
            condition(old_conditions, CONDITION_SCHEDULER_READY, scheduler, generation, now),
            condition(old_conditions, CONDITION_STORAGE_READY, storage, generation, now),
            condition(old_conditions, CONDITION_OPTIONS_VALID, options, generation, now),
        ],
        observed_generation: generation,
    }
}

fn condition(old: &[Condition], kind: &str, outcome: &Outcome, generation: Option<i64>, now: &Time) -> Condition {
    let status = match outcome.status {
        ClusterPairStatusType::Ready | ClusterPairStatusType::NotProvided => "True",
        _ => "False",
    };
    let previous = old.iter().find(|c| c.type_ == kind);
    let last_transition_time = match previous {
        Some(p) if p.status == status && p.reason == outcome.reason => p.last_transition_time.clone(),
        _ => now.clone(),
    };
    Condition {
        type_: kind.to_string(),
        status: status.to_string(),
        reason: outcome.reason.clone(),
        message: outcome.message.clone(),
        last_transition_time,
        observed_generation: generation,
    }
}

/// Events for what changed between `old` and `new`: a status or reason change of either check.
pub fn transitions(old: Option<&ClusterPairStatus>, new: &ClusterPairStatus) -> Vec<Transition> {
    let mut events = Vec::new();
    for kind in [CONDITION_SCHEDULER_READY, CONDITION_STORAGE_READY, CONDITION_OPTIONS_VALID, CONDITION_TLS_VERIFIED] {
        let Some(current) = new.conditions.iter().find(|c| c.type_ == kind) else {
            continue;
        };
        let before = old.and_then(|o| o.conditions.iter().find(|c| c.type_ == kind));
        if before.is_some_and(|b| b.status == current.status && b.reason == current.reason) {
            continue;
        }
        if kind == CONDITION_OPTIONS_VALID || kind == CONDITION_TLS_VERIFIED {
            // Valid options (a verified certificate) from the start deserve no event; a problem, or its
            // fix, does.
            if before.is_some() || current.status == "False" {
                events.push(Transition {
                    warning: current.status == "False",
                    reason: current.reason.clone(),
                    message: current.message.clone(),
                });
            }
            continue;
        }
        let status = if kind == CONDITION_SCHEDULER_READY { new.scheduler_status } else { new.storage_status };
        events.push(Transition {
            warning: status == ClusterPairStatusType::Error,
            reason: status.as_str().to_string(),
            message: current.message.clone(),
        });
    }
    events
}

#[cfg(test)]
mod tls_tests {
    use super::*;

    #[test]
    fn an_unverified_destination_is_reported_with_a_warning_event() {
        let mut config = stork_api::PairKubeconfig { current_context: "ctx".into(), ..Default::default() };
        config.contexts.insert("ctx".into(), stork_api::KubeContext { cluster: "c".into(), ..Default::default() });
        config.clusters.insert(
            "c".into(),
            stork_api::KubeCluster {
                server: "https://10.0.0.1".into(),
                insecure_skip_tls_verify: Some(true),
                ..Default::default()
            },
        );
        let tls = check_tls(&config);
        assert_eq!(tls.reason, "InsecureSkipTLSVerify");
        let ready = Outcome::new(ClusterPairStatusType::Ready, "Ready", "ok");
        let now = Time(jiff::Timestamp::now());
        let mut status = next_status(None, &ready, &ready, &ready, "", Some(1), &now);
        add_tls_condition(&mut status, None, &tls, Some(1), &now);
        let condition = status.conditions.iter().find(|c| c.type_ == CONDITION_TLS_VERIFIED).expect("condition");
        assert_eq!(condition.status, "False");
        assert!(condition.message.contains("clusters.c.insecure-skip-tls-verify is true"));
        let events = transitions(None, &status);
        assert!(events.iter().any(|e| e.warning && e.reason == "InsecureSkipTLSVerify"), "{events:?}");
        config.clusters.get_mut("c").expect("c").insecure_skip_tls_verify = None;
        assert_eq!(check_tls(&config).reason, "Verified");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).expect("time"))
    }

    fn ready() -> Outcome {
        Outcome::new(ClusterPairStatusType::Ready, "Paired", "Scheduler successfully paired")
    }

    fn valid() -> Outcome {
        check_options(&ClusterPairSpec::default())
    }

    fn not_provided() -> Outcome {
        Outcome::new(
            ClusterPairStatusType::NotProvided,
            "NotProvided",
            "Skipping storage pairing since no storage options provided",
        )
    }

    #[test]
    fn first_status_emits_one_event_per_check() {
        let status = next_status(None, &ready(), &not_provided(), &valid(), "", Some(1), &time(10));
        assert_eq!(status.scheduler_status, ClusterPairStatusType::Ready);
        assert_eq!(status.storage_status, ClusterPairStatusType::NotProvided);
        let events = transitions(None, &status);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].reason, "Ready");
        assert_eq!(events[1].reason, "NotProvided");
        assert!(!events[0].warning);
    }

    #[test]
    fn an_unchanged_check_keeps_its_transition_time_and_emits_nothing() {
        let first = next_status(None, &ready(), &not_provided(), &valid(), "", Some(1), &time(10));
        let second = next_status(Some(&first), &ready(), &not_provided(), &valid(), "", Some(1), &time(70));
        assert_eq!(first, second, "nothing changed, so nothing must be written");
        assert!(transitions(Some(&first), &second).is_empty());
    }

    #[test]
    fn going_to_error_and_back_emits_a_warning_then_a_normal_event() {
        let first = next_status(None, &ready(), &not_provided(), &valid(), "", Some(1), &time(10));
        let down = Outcome::new(ClusterPairStatusType::Error, "Unreachable", "destination is unreachable");
        let failed = next_status(Some(&first), &down, &not_provided(), &valid(), "", Some(1), &time(70));
        assert_eq!(failed.conditions[0].last_transition_time, time(70));
        assert_eq!(failed.conditions[1].last_transition_time, time(10));
        let events = transitions(Some(&first), &failed);
        assert_eq!(
            events,
            vec![Transition { warning: true, reason: "Error".into(), message: "destination is unreachable".into() }]
        );
        let back = next_status(Some(&failed), &ready(), &not_provided(), &valid(), "", Some(1), &time(130));
        let events = transitions(Some(&failed), &back);
        assert_eq!(events.len(), 1);
        assert!(!events[0].warning);
        assert_eq!(back.conditions[0].last_transition_time, time(130));
    }

    #[test]
    fn a_mode_typo_is_a_condition_and_a_warning_but_the_pair_stays_ready() {
        let spec = ClusterPairSpec {
            options: [(stork_api::OPTION_MODE.to_string(), "DisasterRecvery".to_string())].into(),
            ..Default::default()
        };
        let typo = check_options(&spec);
        let status = next_status(None, &ready(), &not_provided(), &typo, "", Some(1), &time(10));
        assert_eq!(status.scheduler_status, ClusterPairStatusType::Ready, "still usable");
        let condition = status.conditions.iter().find(|c| c.type_ == CONDITION_OPTIONS_VALID).expect("condition");
        assert_eq!((condition.status.as_str(), condition.reason.as_str()), ("False", "UnknownMode"));
        assert!(condition.message.contains("DisasterRecovery, OneTimeMigration"), "{}", condition.message);
        let events = transitions(None, &status);
        assert!(events.iter().any(|e| e.warning && e.reason == "UnknownMode"), "{events:?}");
        let fixed = next_status(Some(&status), &ready(), &not_provided(), &valid(), "", Some(2), &time(20));
        let events = transitions(Some(&status), &fixed);
        assert_eq!(events.len(), 1);
        assert!(!events[0].warning && events[0].reason == "Valid");
        let first = next_status(None, &ready(), &not_provided(), &valid(), "", Some(1), &time(10));
        assert_eq!(transitions(None, &first).len(), 2, "valid options from the start: no event");
    }
}
