//! `perform failover|failback`: Stork's checks in Stork's order, then the Action the controller carries
//! out, with Stork's name and lines.
//!
//! stork-rs adds a preflight (the engine's `io::preflight`, the same for both: a failover switches the
//! application from the source to this cluster, a failback back): `--dry-run` prints what the switch
//! would change on both clusters and changes nothing, and without `--force` a switch whose preflight
//! finds blockers is refused before any Action exists (the controller checks again when it starts).

use std::collections::BTreeSet;
use std::io::Write;

use jiff::{Timestamp, Zoned};
use kube::api::{Api, PostParams};
use stork_api::annotations::STATIC_COPY;
use stork_api::{
    Action, ActionParameter, ActionSpec, ActionType, ClusterPair, FailbackParameter, FailoverParameter,
    MigrationSchedule,
};
use stork_kube::Cluster;
use stork_migrate::io::preflight::{self, Switch};
use thiserror::Error;

use crate::activate::REQUEST_TIMEOUT;
use crate::cli::{GlobalArgs, PerformFailbackArgs, PerformFailoverArgs};
use crate::client::{self, api_text};
use crate::dryrun::{self, Subject, Way};
use crate::{remote, schedule};

/// Go's `2006-01-02-150405`, the suffix of an Action's name.
const NAME_TIME_FORMAT: &str = "%Y-%m-%d-%H%M%S";
/// DNS-1123 subdomain limit for the Action's name.
const NAME_MAX: usize = 253;
/// Why the source is not contacted when the user said so.
const SKIPPED_SOURCE: &str = "not contacted: --skip-source-operations";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum FailoverError {
    #[error("reference MigrationSchedule name needs to be provided for {0}")]
    NoReference(&'static str),
    #[error("unable to find the reference MigrationSchedule {name} in the {namespace} namespace")]
    NoSchedule { name: String, namespace: String },
    #[error("ensure that `storkctl perform failover` is run in the cluster you want to failover to")]
    NotStaticCopy,
    #[error("unable to find the ClusterPair {name} in the {namespace} namespace")]
    NoClusterPair { name: String, namespace: String },
    #[error("unable to get the namespaces based on the --namespace-selectors in the provided MigrationSchedule: {0}")]
    NamespaceSelectors(String),
    #[error("can provide only one of --include-namespaces or --exclude-namespaces values at once")]
    IncludeAndExclude,
    #[error(
        "provided namespaces [{}] are not a subset of the namespaces being migrated by the given MigrationSchedule",
        .0.join(" ")
    )]
    NotSubset(Vec<String>),
    /// stork-rs: an Action with no namespace would read as "all of them" to a controller.
    #[error("no namespace left to {0}: the MigrationSchedule migrates none, or all are excluded")]
    NoNamespaces(&'static str),
    #[error("failed to start {action} for MigrationSchedule {schedule} : {reason}")]
    Start { action: &'static str, schedule: String, reason: String },
    #[error("the preflight found blockers; fix them or pass --force")]
    Blockers,
    #[error("the preflight could not finish: {0}; pass --force to start without it")]
    Preflight(String),
}

/// What the checks found: the schedule, its pair (when required and present) and the namespaces.
struct Target {
    client: kube::Client,
    schedule: MigrationSchedule,
    pair: Option<ClusterPair>,
    namespaces: Vec<String>,
}

fn type_name(action: ActionType) -> &'static str {
    match action {
        ActionType::Failover => "failover",
        ActionType::Failback => "failback",
        ActionType::NearsyncFailover => "nearsyncFailover",
    }
}

/// `<type>-<reference>-<YYYY-MM-DD-HHMMSS>` in local time, the reference cut so that the name fits 253
/// characters (Stork's `getActionName`, which cuts one character early at the limit itself).
pub fn action_name(action: &str, reference: &str, now: &Zoned) -> String {
    let suffix = now.strftime(NAME_TIME_FORMAT).to_string();
    let room = NAME_MAX.saturating_sub(action.len() + suffix.len() + 2);
    let mut reference = reference;
    if reference.len() >= room {
        // Names are ASCII (DNS-1123); a boundary check keeps a malformed one from panicking.
        let mut cut = room;
        while !reference.is_char_boundary(cut) {
            cut -= 1;
        }
        reference = &reference[..cut];
    }
    format!("{action}-{reference}-{suffix}")
}

/// The namespaces to act on: all those the schedule migrates, only the included ones, or all but the
/// excluded ones (Stork's three branches and messages); each once, in the schedule's order.
pub fn chosen_namespaces(
    migrated: &[String],
    include: &[String],
    exclude: &[String],
    action: &'static str,
) -> Result<Vec<String>, FailoverError> {
    let include: Vec<&String> = include.iter().filter(|n| !n.is_empty()).collect();
    let exclude: Vec<&String> = exclude.iter().filter(|n| !n.is_empty()).collect();
    let outside = |list: &[&String]| -> Vec<String> {
        list.iter().filter(|n| !migrated.contains(n)).map(|n| n.to_string()).collect()
    };
    let chosen: Vec<String> = match (include.is_empty(), exclude.is_empty()) {
        (false, false) => return Err(FailoverError::IncludeAndExclude),
        (false, true) => {
            let missing = outside(&include);
            if !missing.is_empty() {
                return Err(FailoverError::NotSubset(missing));
            }
            include.into_iter().cloned().collect()
        }
        (true, false) => {
            let missing = outside(&exclude);
            if !missing.is_empty() {
                return Err(FailoverError::NotSubset(missing));
            }
            migrated.iter().filter(|n| !exclude.contains(n)).cloned().collect()
        }
        (true, true) => migrated.to_vec(),
    };
    let chosen = schedule::merge_namespaces(&chosen, Vec::new());
    if chosen.is_empty() {
        return Err(FailoverError::NoNamespaces(action));
    }
    Ok(chosen)
}

fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 404)
}

/// Stork's `validationsForPerformDRCommands`: the schedule exists (a static copy for a failover), its
/// pair exists unless a failover skips the source, and the namespaces are the schedule's. Only a
/// NotFound is Stork's "unable to find" (Stork says so for any error).
async fn check(
    client: kube::Client,
    namespace: &str,
    action: ActionType,
    reference: &str,
    include: &[String],
    exclude: &[String],
    skip_source: bool,
) -> anyhow::Result<Target> {
    let name = type_name(action);
    let schedules: Api<MigrationSchedule> = Api::namespaced(client.clone(), namespace);
    let schedule = match schedules.get(reference).await {
        Ok(s) => s,
        Err(e) if is_not_found(&e) => {
            return Err(FailoverError::NoSchedule { name: reference.into(), namespace: namespace.into() }.into());
        }
        Err(e) => return Err(e.into()),
    };
    let is_copy = schedule.metadata.annotations.as_ref().and_then(|a| a.get(STATIC_COPY)).is_some_and(|v| v == "true");
    if action == ActionType::Failover && !is_copy {
        return Err(FailoverError::NotStaticCopy.into());
    }
    let pair_name = schedule.spec.template.spec.cluster_pair.clone();
    let pair = if action == ActionType::Failover && skip_source {
        None
    } else {
        let pairs: Api<ClusterPair> = Api::namespaced(client.clone(), namespace);
        let missing = || FailoverError::NoClusterPair { name: pair_name.clone(), namespace: namespace.into() };
        // An empty name would make the GET a LIST.
        if pair_name.is_empty() {
            return Err(missing().into());
        }
        match pairs.get(&pair_name).await {
            Ok(pair) => Some(pair),
            Err(e) if is_not_found(&e) => return Err(missing().into()),
            Err(e) => return Err(e.into()),
        }
    };
    let template = &schedule.spec.template.spec;
    let selected = if template.namespace_selectors.is_empty() {
        Vec::new()
    } else {
        schedule::select_namespaces(&client, &template.namespace_selectors)
            .await
            .map_err(FailoverError::NamespaceSelectors)?
    };
    let migrated = schedule::merge_namespaces(&template.namespaces, selected);
    let namespaces = chosen_namespaces(&migrated, include, exclude, name)?;
    Ok(Target { client, schedule, pair, namespaces })
}

/// `storkctl perform failover`.
pub async fn perform_failover(
    global: &GlobalArgs,
    args: &PerformFailoverArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    interactive: bool,
) -> anyhow::Result<()> {
    let reference = args.migration_reference.as_str();
    let request = Request {
        way: Way::Failover,
        reference,
        include: &args.include_namespaces,
        exclude: &args.exclude_namespaces,
        skip_source: args.skip_source_operations,
        force: args.force,
        dry_run: args.dry_run,
        interactive,
    };
    let Some(target) = prepare(global, &request, out, err).await? else { return Ok(()) };
    let parameter = ActionParameter {
        failover_parameter: Some(FailoverParameter {
            failover_namespaces: target.namespaces,
            migration_schedule_reference: reference.to_string(),
            skip_source_operations: Some(args.skip_source_operations),
            // Only written when asked for, so that an Action without it reads as Stork's.
            force: args.force.then_some(true),
        }),
        failback_parameter: None,
    };
    start(&target.client, &global.namespace, ActionType::Failover, reference, parameter, out).await
}

/// `storkctl perform failback`.
pub async fn perform_failback(
    global: &GlobalArgs,
    args: &PerformFailbackArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    interactive: bool,
) -> anyhow::Result<()> {
    let reference = args.migration_reference.as_str();
    let request = Request {
        way: Way::Failback,
        reference,
        include: &args.include_namespaces,
        exclude: &args.exclude_namespaces,
        skip_source: false,
        force: args.force,
        dry_run: args.dry_run,
        interactive,
    };
    let Some(target) = prepare(global, &request, out, err).await? else { return Ok(()) };
    let parameter = ActionParameter {
        failover_parameter: None,
        failback_parameter: Some(FailbackParameter {
            failback_namespaces: target.namespaces,
            migration_schedule_reference: reference.to_string(),
            force: args.force.then_some(true),
        }),
    };
    start(&target.client, &global.namespace, ActionType::Failback, reference, parameter, out).await
}

/// What `perform failover|failback` was asked.
struct Request<'a> {
    way: Way,
    reference: &'a str,
    include: &'a [String],
    exclude: &'a [String],
    skip_source: bool,
    force: bool,
    dry_run: bool,
    /// A person at a terminal: say what the seconds of checking are spent on (scripts get Stork's
    /// output only).
    interactive: bool,
}

/// Stork's checks, then the preflight: a dry run prints its report and ends (`None`); otherwise, unless
/// forced, blockers refuse the action before it exists. With `--force` the controller's own preflight
/// is the only one: a preflight that cannot finish here must not stand in the way of a forced switch.
async fn prepare(
    global: &GlobalArgs,
    request: &Request<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Option<Target>> {
    let ns = global.namespace.as_str();
    let action = match request.way {
        Way::Failover => ActionType::Failover,
        Way::Failback => ActionType::Failback,
    };
    // Before any client, as Stork: the message does not depend on having a cluster.
    if request.reference.is_empty() {
        return Err(FailoverError::NoReference(type_name(action)).into());
    }
    let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    let target =
        check(client, ns, action, request.reference, request.include, request.exclude, request.skip_source).await?;
    if request.interactive && (request.dry_run || !request.force) {
        writeln!(
            err,
            "Checking {} namespace(s) of {ns}/{} before the {}: the other cluster, the recovery point, drift, dry runs…",
            target.namespaces.len(),
            request.reference,
            type_name(action)
        )?;
    }
    if request.dry_run {
        let (source, found) = preflight(&target, request.way, request.skip_source).await?;
        let schedule = format!("{ns}/{}", request.reference);
        let source = source.as_deref().map_err(String::as_str);
        let subject = Subject { way: request.way, schedule: &schedule, namespaces: &target.namespaces, source };
        out.write_all(dryrun::report(&subject, &found).as_bytes())?;
        return Ok(None);
    }
    if !request.force {
        let (_, found) = preflight(&target, request.way, request.skip_source)
            .await
            .map_err(|e| FailoverError::Preflight(e.to_string()))?;
        for warning in &found.warnings {
            writeln!(err, "warning: {warning}")?;
        }
        if !found.blockers.is_empty() {
            for blocker in &found.blockers {
                writeln!(err, "blocker: {blocker}")?;
            }
            return Err(FailoverError::Blockers.into());
        }
    }
    Ok(Some(target))
}

/// Creates the Action and prints Stork's two lines.
async fn start(
    client: &kube::Client,
    ns: &str,
    action: ActionType,
    reference: &str,
    parameter: ActionParameter,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let kind = type_name(action);
    let name = action_name(kind, reference, &Zoned::now());
    let mut object = Action::new(&name, ActionSpec { action_type: action, action_parameter: parameter });
    object.metadata.namespace = Some(ns.to_string());
    let schedule = format!("{ns}/{reference}");
    let created = Api::<Action>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &object)
        .await
        .map_err(|e| FailoverError::Start { action: kind, schedule: schedule.clone(), reason: api_text(&e) })?;
    let created_name = created.metadata.name.as_deref().unwrap_or(&name);
    let created_ns = created.metadata.namespace.as_deref().unwrap_or(ns);
    writeln!(out, "Started {kind} for MigrationSchedule {schedule}")?;
    writeln!(out, "To check {kind} status use the command : `storkctl get {kind} {created_name} -n {created_ns}`")?;
    Ok(())
}

/// The source as the pair reaches it (`Ok(pair name)`, or why not), and what the engine's preflight
/// finds for the switch: a failover from the source to this cluster, a failback from this cluster to the
/// source. A failback cannot go to a source out of reach: that is its blocker, without a preflight.
async fn preflight(target: &Target, way: Way, skip_source: bool) -> anyhow::Result<(Result<String, String>, Switch)> {
    let here = Cluster::new(target.client.clone(), "destination", REQUEST_TIMEOUT);
    let reached = match (&target.pair, skip_source) {
        (Some(pair), false) => remote::reach(pair).await,
        _ => Err(SKIPPED_SOURCE.to_string()),
    };
    let source = reached.map(|c| Cluster::new(c, "source", REQUEST_TIMEOUT));
    let namespaces: BTreeSet<String> = target.namespaces.iter().cloned().collect();
    let home = target.schedule.metadata.namespace.clone().unwrap_or_default();
    // storkctl does not know the controller's --admin-namespace: checking with admin rights here can
    // only miss a refusal the controller's own preflight then reports, never invent a blocker.
    let mile = preflight::LastMile { template: &target.schedule.spec.template.spec, namespace: &home, admin: true };
    let now = Timestamp::now();
    let found = match (way, &source) {
        (Way::Failover, _) => {
            // The source's own schedule tells how old the newest copy is; not finding it is the
            // preflight's to say.
            let source_schedule = match &source {
                Ok(cluster) => read_schedule(cluster, &target.schedule).await,
                Err(_) => None,
            };
            let from = source.as_ref().map_err(Clone::clone);
            preflight::switch(from, &here, mile, source_schedule.as_ref(), &namespaces, now).await?
        }
        (Way::Failback, Ok(source)) => {
            preflight::switch(Ok(&here), source, mile, Some(&target.schedule), &namespaces, now).await?
        }
        (Way::Failback, Err(why)) => Switch {
            blockers: vec![format!("the source is out of reach ({why}): a failback brings the applications up there")],
            ..Default::default()
        },
    };
    let pair = target.pair.as_ref().and_then(|p| p.metadata.name.clone()).unwrap_or_default();
    Ok((source.map(|_| pair), found))
}

async fn read_schedule(cluster: &Cluster, schedule: &MigrationSchedule) -> Option<MigrationSchedule> {
    let ns = schedule.metadata.namespace.as_deref()?;
    let name = schedule.metadata.name.as_deref()?;
    let api: Api<MigrationSchedule> = Api::namespaced(cluster.client().clone(), ns);
    cluster.within(format!("reading MigrationSchedule {ns}/{name}"), api.get_opt(name)).await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use jiff::tz::TimeZone;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn new_year() -> Zoned {
        date(2024, 1, 1).at(0, 0, 0, 0).to_zoned(TimeZone::UTC).expect("time")
    }

    #[test]
    fn item_28_action_name() {
        assert_eq!(
            action_name("failover", "test-migrationschedule", &new_year()),
            "failover-test-migrationschedule-2024-01-01-000000"
        );
        let later = date(2024, 11, 5).at(13, 4, 9, 0).to_zoned(TimeZone::UTC).expect("time");
        assert_eq!(action_name("failback", "ms", &later), "failback-ms-2024-11-05-130409");
        // 253 - len("failover") - len(suffix) - 2 = 226 characters are left for the reference.
        let long = "a".repeat(300);
        let name = action_name("failover", &long, &new_year());
        assert_eq!(name.len(), 253);
        assert_eq!(name, format!("failover-{}-2024-01-01-000000", "a".repeat(226)));
        assert_eq!(action_name("failover", &"b".repeat(226), &new_year()).len(), 253, "at the limit: cut to it");
        assert_eq!(action_name("failover", &"b".repeat(225), &new_year()).len(), 252);
    }

    #[test]
    fn item_27_messages() {
        let cases: [(FailoverError, &str); 6] = [
            (
                FailoverError::NoReference("failover"),
                "reference MigrationSchedule name needs to be provided for failover",
            ),
            (
                FailoverError::NoSchedule { name: "invalid-migr-sched".into(), namespace: "default".into() },
                "unable to find the reference MigrationSchedule invalid-migr-sched in the default namespace",
            ),
            (
                FailoverError::NotStaticCopy,
                "ensure that `storkctl perform failover` is run in the cluster you want to failover to",
            ),
            (
                FailoverError::IncludeAndExclude,
                "can provide only one of --include-namespaces or --exclude-namespaces values at once",
            ),
            (
                FailoverError::NotSubset(strings(&["ns3"])),
                "provided namespaces [ns3] are not a subset of the namespaces being migrated by the given MigrationSchedule",
            ),
            (
                FailoverError::NoClusterPair { name: "clusterPair1".into(), namespace: "kube-system".into() },
                "unable to find the ClusterPair clusterPair1 in the kube-system namespace",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
        assert_eq!(
            FailoverError::NotSubset(strings(&["ns3", "ns4"])).to_string(),
            "provided namespaces [ns3 ns4] are not a subset of the namespaces being migrated by the given MigrationSchedule",
            "Go's %v of a []string"
        );
    }

    #[test]
    fn namespaces_follow_storks_three_branches() {
        let migrated = strings(&["ns1", "ns2"]);
        assert_eq!(chosen_namespaces(&migrated, &[], &[], "failover"), Ok(migrated.clone()));
        assert_eq!(chosen_namespaces(&migrated, &strings(&["ns2"]), &[], "failover"), Ok(strings(&["ns2"])));
        assert_eq!(chosen_namespaces(&migrated, &[], &strings(&["ns1"]), "failover"), Ok(strings(&["ns2"])));
        assert_eq!(
            chosen_namespaces(&migrated, &strings(&["ns1"]), &strings(&["ns2"]), "failover"),
            Err(FailoverError::IncludeAndExclude)
        );
        assert_eq!(
            chosen_namespaces(&migrated, &strings(&["ns1", "ns3"]), &[], "failover"),
            Err(FailoverError::NotSubset(strings(&["ns3"])))
        );
        assert_eq!(
            chosen_namespaces(&migrated, &[], &strings(&["ns3"]), "failback"),
            Err(FailoverError::NotSubset(strings(&["ns3"])))
        );
        // stork-rs: nothing left is refused rather than written as an empty list.
        assert_eq!(
            chosen_namespaces(&migrated, &[], &migrated, "failback"),
            Err(FailoverError::NoNamespaces("failback"))
        );
        assert_eq!(chosen_namespaces(&[], &[], &[], "failover"), Err(FailoverError::NoNamespaces("failover")));
        // An empty entry (a trailing comma) names nothing; a repeated one counts once.
        assert_eq!(chosen_namespaces(&migrated, &strings(&["ns2", "", "ns2"]), &[], "failover"), Ok(strings(&["ns2"])));
    }
}
