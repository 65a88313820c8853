//! `create|get|delete|suspend|resume migrationschedule(s)`, with Stork's flags, messages and table.
//!
//! Creation checks everything Stork checks, in Stork's order, and then asks the API server for a dry run
//! of the schedule before it writes any SchedulePolicy: a schedule that cannot be created leaves no policy
//! behind (Stork can leave the `-i` policy or `default-migration-policy` when the schedule itself fails).

use std::collections::BTreeMap;
use std::io::Write;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::ObjectMeta;
use serde_json::{Value, json};
use stork_api::{
    ClusterPair, IntervalPolicy, MigrationSchedule, MigrationScheduleSpec, MigrationSpec, MigrationTemplateSpec,
    ResourceTransformation, ResourceTransformationStatusType, SchedulePolicy, SchedulePolicyFields, SchedulePolicyItem,
};
use stork_migrate::schedule::policy;
use thiserror::Error;

use crate::cli::{self, CreateMigrationScheduleArgs, GetMigrationScheduleArgs, GlobalArgs, ScheduleTargetArgs};
use crate::client::{self, api_text};
use crate::discovery;
use crate::objects;
use crate::printer::{self, OutputFormat, cell};

/// The policy a schedule uses when neither `-s` nor `-i` is given; created here when missing.
pub use stork_migrate::schedule::policy::DEFAULT_MIGRATION_POLICY as DEFAULT_POLICY;
/// Retain of the policy `-i` creates (Stork's `DefaultIntervalPolicyRetain`).
const INTERVAL_POLICY_RETAIN: i64 = 10;
/// Where Stork publishes its admin namespace, read as Stork's `GetAdminNamespace` does.
const CONTROLLER_CONFIG_NAMESPACE: &str = "kube-system";
const CONTROLLER_CONFIG: &str = "stork-controller-config";
const ADMIN_NS_KEY: &str = "admin-ns";
const DEFAULT_ADMIN_NAMESPACE: &str = "kube-system";
/// The only optional resource type Stork's `--include-jobs` adds.
const JOB_KIND: &str = "Job";

/// Policy types in the order Stork evaluates (and prints) them, then stork-rs's continuous full passes.
const POLICY_TYPES: [&str; 5] = ["Interval", "Daily", "Weekly", "Monthly", "Continuous"];
const HEADER: [&str; 6] =
    ["NAME", "POLICYNAME", "CLUSTERPAIR", "SUSPEND", "LAST-SUCCESS-TIME", "LAST-SUCCESS-DURATION"];
/// stork-rs's `-o wide` columns: the recovery point now, the next run, and the zone policy times are in.
const WIDE_HEADER: [&str; 3] = ["RPO", "NEXT-TRIGGER", "TIME-ZONE"];

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("exactly one name needs to be provided for migration schedule name")]
    NameCount,
    #[error("ClusterPair name needs to be provided for migration schedule")]
    NoClusterPair,
    #[error("unable to find the admin cluster pair in the admin namespace")]
    NoAdminClusterPair,
    #[error("unable to find the cluster pair in the given namespace")]
    NoClusterPairFound,
    #[error(
        "--exclude-volumes can only be set to true if it is a sync-dr use case or when storage options are not provided in the cluster pair"
    )]
    ExcludeVolumes,
    #[error("unable to get the namespaces based on the provided --namespace-selectors : {0}")]
    NamespaceSelectors(String),
    #[error("no valid namespace found based on the provided --namespaces and --namespace-selectors")]
    NoNamespaces,
    #[error("migration namespaces should only contain the current namespace")]
    OnlyCurrentNamespace,
    #[error("unable to retrieve transformation {namespace}/{name}, err: {reason}")]
    NoTransformation { namespace: String, name: String, reason: String },
    #[error("transformation {namespace}/{name} is not in ready state, state: {state}")]
    TransformationNotReady { namespace: String, name: String, state: String },
    #[error("transformation {namespace}/{name} cannot be applied: {reason}")]
    TransformationInvalid { namespace: String, name: String, reason: String },
    #[error("must provide only one of schedule-policy-name or interval values")]
    PolicyAndInterval,
    #[error("could not create a schedule policy with specified interval: {0}")]
    IntervalPolicy(String),
    #[error("unable to get schedulepolicy {name}: {reason}")]
    NoPolicy { name: String, reason: String },
    #[error("at least one argument needs to be provided for migration schedule name if cluster pair isn't provided")]
    NoNames,
}

fn resource() -> ApiResource {
    ApiResource::erase::<MigrationSchedule>(&())
}

/// The namespace whose schedules may migrate other namespaces: Stork's ConfigMap
/// `kube-system/stork-controller-config` key `admin-ns`, else `kube-system`. Stork falls back the same
/// way when the ConfigMap cannot be read; it takes an empty value when the key is missing (which forbids
/// every schedule to migrate another namespace), stork-rs the default.
async fn admin_namespace(client: &kube::Client) -> String {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), CONTROLLER_CONFIG_NAMESPACE);
    api.get_opt(CONTROLLER_CONFIG)
        .await
        .ok()
        .flatten()
        .and_then(|cm| cm.data)
        .and_then(|data| data.get(ADMIN_NS_KEY).cloned())
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| DEFAULT_ADMIN_NAMESPACE.to_string())
}

/// An API answer that the object is not there (kube does not parse a plain-text 404 into a reason).
fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 404)
}

/// `storkctl create migrationschedule(s)`: Stork's checks in Stork's order (pairs, namespaces,
/// transformation, resource types, policy), a dry run of the schedule, then the writes.
pub async fn create(
    global: &GlobalArgs,
    args: &CreateMigrationScheduleArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let [name] = args.names.as_slice() else {
        return Err(ScheduleError::NameCount.into());
    };
    if args.cluster_pair.is_empty() {
        return Err(ScheduleError::NoClusterPair.into());
    }
    let ns = global.namespace.as_str();
    let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    let admin_ns = admin_namespace(&client).await;
    let storage_options = check_pairs(&client, ns, &admin_ns, args).await?;
    let spec = template(&client, ns, &admin_ns, args, include_volumes(storage_options, args.exclude_volumes)?).await?;

    let plan = policy_plan(name, args.schedule_policy_name.as_deref(), args.interval)?;
    let policies: Api<SchedulePolicy> = Api::all(client.clone());
    if let PolicyPlan::Existing(policy_name) = &plan {
        policies
            .get(policy_name)
            .await
            .map_err(|e| ScheduleError::NoPolicy { name: policy_name.clone(), reason: api_text(&e) })?;
    }
    // The stork-rs controller would fail every Migration of such a schedule (a pre-exec rule, say): Stork
    // accepts it, and so does this command, but not silently.
    if let Err(reason) = stork_migrate::core::validate::check_spec(&spec, ns) {
        eprintln!("warning: every Migration of this schedule will fail: {reason}");
    }
    let annotations = cli::merged(&args.annotations);
    let mut schedule = MigrationSchedule::new(
        name,
        MigrationScheduleSpec {
            template: MigrationTemplateSpec { spec },
            schedule_policy_name: plan.policy_name().to_string(),
            suspend: Some(args.suspend),
            auto_suspend: !args.disable_auto_suspend,
        },
    );
    schedule.metadata = ObjectMeta {
        name: Some(name.clone()),
        namespace: Some(ns.to_string()),
        annotations: (!annotations.is_empty()).then_some(annotations),
        ..Default::default()
    };
    let schedules: Api<MigrationSchedule> = Api::namespaced(client.clone(), ns);
    // Everything the API server would refuse (the name taken, a value its schema rejects) is refused now,
    // before a policy is written for a schedule that will not exist.
    schedules.create(&PostParams { dry_run: true, ..Default::default() }, &schedule).await?;

    let created_policy = write_policy(&policies, &plan).await?;
    if let Err(e) = schedules.create(&PostParams::default(), &schedule).await {
        // Only the policy made for this schedule is taken back; the default one is shared.
        if let Some(policy_name) = created_policy {
            let _ = policies.delete(policy_name, &DeleteParams::default()).await;
        }
        return Err(e.into());
    }
    writeln!(out, "MigrationSchedule {name} created successfully")?;
    Ok(())
}

/// The admin pair (when `--admin-cluster-pair` is given) must exist in the admin namespace and the pair
/// in the schedule's; returns whether the pair has storage options. Only a NotFound is Stork's "unable to
/// find" (Stork says so for any error, a refused connection included).
async fn check_pairs(
    client: &kube::Client,
    ns: &str,
    admin_ns: &str,
    args: &CreateMigrationScheduleArgs,
) -> anyhow::Result<bool> {
    let pair_resource = ApiResource::erase::<ClusterPair>(&());
    if let Some(admin_pair) = &args.admin_cluster_pair {
        // An empty name would make the GET a LIST; Stork's lookup of "" fails just the same.
        if admin_pair.is_empty() {
            return Err(ScheduleError::NoAdminClusterPair.into());
        }
        let pairs: Api<DynamicObject> = Api::namespaced_with(client.clone(), admin_ns, &pair_resource);
        match pairs.get(admin_pair).await {
            Ok(_) => {}
            Err(e) if is_not_found(&e) => return Err(ScheduleError::NoAdminClusterPair.into()),
            Err(e) => return Err(e.into()),
        }
    }
    let pairs: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &pair_resource);
    match pairs.get(&args.cluster_pair).await {
        Ok(pair) => Ok(has_storage_options(&pair.data)),
        Err(e) if is_not_found(&e) => Err(ScheduleError::NoClusterPairFound.into()),
        Err(e) => Err(e.into()),
    }
}

/// The schedule's Migration template: namespaces (with those selected by label) checked against the
/// admin namespace rule, the transformation checked, resource types resolved to kinds.
async fn template(
    client: &kube::Client,
    ns: &str,
    admin_ns: &str,
    args: &CreateMigrationScheduleArgs,
    include_volumes: bool,
) -> anyhow::Result<MigrationSpec> {
    let namespaces: Vec<String> = args.namespaces.iter().filter(|n| !n.is_empty()).cloned().collect();
    let namespace_selectors = cli::merged(&args.namespace_selectors);
    let selected = namespaces_selected(client, &namespace_selectors).await?;
    let migrated = merge_namespaces(&namespaces, selected);
    if migrated.is_empty() {
        return Err(ScheduleError::NoNamespaces.into());
    }
    check_namespaces(ns, admin_ns, &migrated)?;
    let transform_specs = if args.transform_spec.is_empty() {
        Vec::new()
    } else {
        check_transformation(client, &migrated, &args.transform_spec).await?;
        vec![args.transform_spec.clone()]
    };
    let exclude_resource_types = if args.exclude_resource_types.iter().all(String::is_empty) {
        Vec::new()
    } else {
        let served = discovery::preferred_resources(client).await?;
        discovery::resolve_kinds(&args.exclude_resource_types, &served)?
    };
    Ok(MigrationSpec {
        cluster_pair: args.cluster_pair.clone(),
        admin_cluster_pair: args.admin_cluster_pair.clone().unwrap_or_default(),
        namespaces,
        namespace_selectors,
        include_resources: Some(!args.exclude_resources),
        include_volumes: Some(include_volumes),
        start_applications: Some(args.start_applications),
        purge_deleted_resources: Some(args.purge_deleted_resources),
        skip_service_update: Some(args.skip_service_update),
        include_network_policy_with_cidr: Some(args.include_network_policy_with_cidr),
        selectors: cli::merged(&args.selectors),
        exclude_selectors: cli::merged(&args.exclude_selectors),
        pre_exec_rule: args.pre_exec_rule.clone(),
        post_exec_rule: args.post_exec_rule.clone(),
        include_optional_resource_types: if args.include_jobs { vec![JOB_KIND.to_string()] } else { Vec::new() },
        skip_deleted_namespaces: Some(!args.disable_skip_deleted_namespaces),
        transform_specs,
        ignore_owner_references_check: Some(args.ignore_owner_references_check),
        exclude_resource_types,
        ..Default::default()
    })
}

/// Writes the policy the plan needs; returns the name of a policy created for this schedule alone.
async fn write_policy<'a>(policies: &Api<SchedulePolicy>, plan: &'a PolicyPlan) -> anyhow::Result<Option<&'a str>> {
    match plan {
        PolicyPlan::Existing(_) => Ok(None),
        PolicyPlan::Interval { name, policy } => {
            let object = SchedulePolicy::new(name, SchedulePolicyFields { policy: policy.as_ref().clone() });
            policies
                .create(&PostParams::default(), &object)
                .await
                .map_err(|e| ScheduleError::IntervalPolicy(api_text(&e)))?;
            Ok(Some(name.as_str()))
        }
        PolicyPlan::Default => {
            ensure_default_policy(policies).await?;
            Ok(None)
        }
    }
}

/// Which policy a new schedule uses, from `-s` (given or not) and `-i` (given or not).
#[derive(Debug, PartialEq)]
pub enum PolicyPlan {
    /// `-s NAME`: must exist.
    Existing(String),
    /// `-i N`: a policy named like the schedule, to create.
    Interval { name: String, policy: Box<SchedulePolicyItem> },
    /// Neither: `default-migration-policy`, created when missing.
    Default,
}

impl PolicyPlan {
    fn policy_name(&self) -> &str {
        match self {
            Self::Existing(name) | Self::Interval { name, .. } => name,
            Self::Default => DEFAULT_POLICY,
        }
    }
}

/// Stork's four cases: both flags is an error, `-i` must make a valid interval policy.
pub fn policy_plan(
    schedule: &str,
    policy_name: Option<&str>,
    interval: Option<i64>,
) -> Result<PolicyPlan, ScheduleError> {
    match (policy_name, interval) {
        (Some(_), Some(_)) => Err(ScheduleError::PolicyAndInterval),
        (None, Some(minutes)) => {
            let item = SchedulePolicyItem {
                interval: Some(IntervalPolicy {
                    interval_minutes: minutes,
                    retain: Some(INTERVAL_POLICY_RETAIN),
                    ..Default::default()
                }),
                ..Default::default()
            };
            policy::validate(&item).map_err(ScheduleError::IntervalPolicy)?;
            Ok(PolicyPlan::Interval { name: schedule.to_string(), policy: Box::new(item) })
        }
        (Some(name), None) => Ok(PolicyPlan::Existing(name.to_string())),
        (None, None) => Ok(PolicyPlan::Default),
    }
}

/// Creates `default-migration-policy` (30 minutes) unless it exists. Read first, so that a user who may
/// read but not create cluster-scoped policies can still use the existing one.
async fn ensure_default_policy(policies: &Api<SchedulePolicy>) -> anyhow::Result<()> {
    if policies.get_opt(DEFAULT_POLICY).await?.is_some() {
        return Ok(());
    }
    let item = stork_migrate::schedule::policy::default_policy(DEFAULT_POLICY).unwrap_or_default();
    match policies
        .create(&PostParams::default(), &SchedulePolicy::new(DEFAULT_POLICY, SchedulePolicyFields { policy: item }))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Whether the pair carries storage options (`spec.options` not empty): without, there is no storage
/// driver to migrate volumes with.
fn has_storage_options(pair: &Value) -> bool {
    pair.pointer("/spec/options").and_then(Value::as_object).is_some_and(|o| !o.is_empty())
}

/// `includeVolumes`: the opposite of `--exclude-volumes`, forced false without storage options, where an
/// explicit `--exclude-volumes=false` is an error.
pub fn include_volumes(storage_options: bool, exclude_volumes: Option<bool>) -> Result<bool, ScheduleError> {
    if storage_options {
        return Ok(!exclude_volumes.unwrap_or(false));
    }
    if exclude_volumes == Some(false) {
        return Err(ScheduleError::ExcludeVolumes);
    }
    Ok(false)
}

/// The namespaces each `--namespace-selectors` label selects (each label separately, OR'ed).
async fn namespaces_selected(
    client: &kube::Client,
    selectors: &BTreeMap<String, String>,
) -> Result<Vec<String>, ScheduleError> {
    select_namespaces(client, selectors).await.map_err(ScheduleError::NamespaceSelectors)
}

/// The namespaces each label of `selectors` selects (each label separately, OR'ed), or the API's reason:
/// how Stork resolves a schedule's `namespaceSelectors`, here and for a failover.
pub(crate) async fn select_namespaces(
    client: &kube::Client,
    selectors: &BTreeMap<String, String>,
) -> Result<Vec<String>, String> {
    let api: Api<Namespace> = Api::all(client.clone());
    let mut out = Vec::new();
    for (key, value) in selectors {
        let params = ListParams::default().labels(&format!("{key}={value}"));
        let list = api.list_metadata(&params).await.map_err(|e| api_text(&e))?;
        out.extend(list.items.into_iter().filter_map(|n| n.metadata.name));
    }
    Ok(out)
}

/// The listed namespaces, then those selected by label, each once.
pub fn merge_namespaces(listed: &[String], selected: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for ns in listed.iter().cloned().chain(selected) {
        if !out.contains(&ns) {
            out.push(ns);
        }
    }
    out
}

/// Outside the admin namespace a schedule may only migrate its own namespace (Stork's message; the rule
/// is the one the controller applies).
pub fn check_namespaces(current: &str, admin: &str, migrated: &[String]) -> Result<(), ScheduleError> {
    if current != admin && migrated.iter().any(|ns| ns != current) {
        return Err(ScheduleError::OnlyCurrentNamespace);
    }
    Ok(())
}

/// How long a transformation not checked yet is waited for (Stork's controller waits as long).
const TRANSFORMATION_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The ResourceTransformation must exist in every migrated namespace (where the controller reads it, as
/// Stork does) and be Ready for its current spec. Rules that cannot be right are refused at once; one
/// the controller has not checked yet is waited for, up to a minute.
async fn check_transformation(client: &kube::Client, namespaces: &[String], name: &str) -> Result<(), ScheduleError> {
    for ns in namespaces {
        let api: Api<ResourceTransformation> = Api::namespaced(client.clone(), ns);
        let deadline = std::time::Instant::now() + TRANSFORMATION_WAIT;
        loop {
            let rt = api.get(name).await.map_err(|e| ScheduleError::NoTransformation {
                namespace: ns.clone(),
                name: name.to_string(),
                reason: api_text(&e),
            })?;
            if rt.is_ready() {
                break;
            }
            let status = rt.status.clone().unwrap_or_default();
            let current = status.observed_generation.is_none_or(|g| Some(g) == rt.metadata.generation);
            let not_ready = || ScheduleError::TransformationNotReady {
                namespace: ns.clone(),
                name: name.to_string(),
                state: status.status.as_str().to_string(),
            };
            if status.status == ResourceTransformationStatusType::Failed && current {
                return Err(not_ready());
            }
            stork_migrate::core::rules::validate(&rt.spec.specs.transform_specs).map_err(|reason| {
                ScheduleError::TransformationInvalid { namespace: ns.clone(), name: name.to_string(), reason }
            })?;
            if std::time::Instant::now() >= deadline {
                return Err(not_ready());
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
    Ok(())
}

/// `storkctl get migrationschedule(s)`.
pub async fn get(global: &GlobalArgs, args: &GetMigrationScheduleArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let format: OutputFormat = global.output.as_deref().unwrap_or_default().parse()?;
    objects::check_names(&args.names, args.all_namespaces)?;
    let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    let mut values = objects::fetch(client, &resource(), &global.namespace, &args.names, args.all_namespaces).await?;
    // As Stork: named objects must exist (NotFound otherwise) even when the pair filter then drops them.
    if let Some(pair) = args.cluster_pair.as_deref().filter(|p| !p.is_empty()) {
        values.retain(|s| cluster_pair_of(s) == Some(pair));
    }
    let tz = TimeZone::system();
    let now = Timestamp::now();
    let wide = format == OutputFormat::Wide;
    objects::print(out, format, values, args.names.len(), |values| {
        table_rows(values, args.all_namespaces, wide, &tz, now)
    })
}

fn cluster_pair_of(schedule: &Value) -> Option<&str> {
    schedule.pointer("/spec/template/spec/clusterPair").and_then(Value::as_str)
}

/// The names (sorted) of the schedules in `list` that migrate to `pair`.
pub fn names_of_pair(list: &[Value], pair: &str) -> Vec<String> {
    let mut names: Vec<String> =
        list.iter().filter(|s| cluster_pair_of(s) == Some(pair)).map(|s| cell(s, "/metadata/name")).collect();
    names.sort();
    names
}

/// The schedules `delete`, `suspend` and `resume` act on: the names given, or with `-c` every schedule
/// of that pair in the namespace (names are then ignored, as in Stork). `None` when neither is given.
async fn targets(api: &Api<DynamicObject>, args: &ScheduleTargetArgs) -> anyhow::Result<Vec<String>> {
    match args.cluster_pair.as_deref().filter(|p| !p.is_empty()) {
        None => Ok(args.names.clone()),
        Some(pair) => {
            let list = api.list(&ListParams::default()).await?;
            let values: Vec<Value> = list.items.iter().map(serde_json::to_value).collect::<Result<_, _>>()?;
            Ok(names_of_pair(&values, pair))
        }
    }
}

fn check_target_args(args: &ScheduleTargetArgs) -> Result<(), ScheduleError> {
    if args.cluster_pair.as_deref().is_none_or(str::is_empty) && args.names.is_empty() {
        return Err(ScheduleError::NoNames);
    }
    Ok(())
}

/// `storkctl delete migrationschedule(s)`. Stops at the first error, like Stork.
pub async fn delete(global: &GlobalArgs, args: &ScheduleTargetArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    check_target_args(args)?;
    let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    let api: Api<DynamicObject> = Api::namespaced_with(client, &global.namespace, &resource());
    let names = targets(&api, args).await?;
    if names.is_empty() {
        writeln!(out, "{}", printer::NO_RESOURCES)?;
    }
    for name in names {
        api.delete(&name, &DeleteParams::default()).await?;
        writeln!(out, "MigrationSchedule {name} deleted successfully")?;
    }
    Ok(())
}

/// `storkctl suspend|resume migrationschedule(s)`: sets `spec.suspend` with a merge patch, which leaves
/// every other field (and a controller's concurrent status write) alone. Unlike Stork, which acts on the
/// first name only, every name given is acted on; all of them are read first, so a missing one changes
/// nothing.
pub async fn set_suspended(
    global: &GlobalArgs,
    args: &ScheduleTargetArgs,
    out: &mut dyn Write,
    suspend: bool,
) -> anyhow::Result<()> {
    check_target_args(args)?;
    let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    let api: Api<DynamicObject> = Api::namespaced_with(client, &global.namespace, &resource());
    let names = targets(&api, args).await?;
    if args.cluster_pair.as_deref().is_none_or(str::is_empty) {
        for name in &names {
            api.get(name).await?;
        }
    }
    if names.is_empty() {
        writeln!(out, "{}", printer::NO_RESOURCES)?;
    }
    let action = if suspend { "suspended" } else { "resumed" };
    let patch = json!({"spec": {"suspend": suspend}});
    for name in names {
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await?;
        writeln!(out, "MigrationSchedule {name} {action} successfully")?;
    }
    Ok(())
}

/// Header and one row per schedule, as Stork's `migrationSchedulePrinter`; `wide` adds stork-rs's RPO
/// (time since `status.lastSuccessTimestamp`, in whole seconds), NEXT-TRIGGER and TIME-ZONE.
pub fn table_rows(
    schedules: &[Value],
    all_namespaces: bool,
    wide: bool,
    tz: &TimeZone,
    now: Timestamp,
) -> Vec<Vec<String>> {
    let mut header: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
    if wide {
        header.extend(WIDE_HEADER.iter().map(|h| h.to_string()));
    }
    if all_namespaces {
        header.insert(0, "NAMESPACE".to_string());
    }
    let mut rows = vec![header];
    for s in schedules {
        let (last_time, last_duration) = match last_success(s) {
            Some((finish, duration)) => (printer::format_rfc822(finish, tz), duration),
            None => (String::new(), String::new()),
        };
        let suspended = s.pointer("/spec/suspend").and_then(Value::as_bool).unwrap_or(false);
        let mut row = vec![
            cell(s, "/metadata/name"),
            cell(s, "/spec/schedulePolicyName"),
            cell(s, "/spec/template/spec/clusterPair"),
            suspended.to_string(),
            last_time,
            last_duration,
        ];
        if wide {
            row.push(rpo(s, now));
            row.push(printer::time_cell(s.pointer("/status/nextTriggerTimestamp"), tz));
            row.push(cell(s, "/status/timeZone"));
        }
        if all_namespaces {
            row.insert(0, cell(s, "/metadata/namespace"));
        }
        rows.push(row);
    }
    rows
}

/// The newest finish among items whose status is exactly Successful, over every policy type, and its
/// duration (finish − creation, Go's format). Ties keep the first seen, as Go's strict `After` does.
fn last_success(schedule: &Value) -> Option<(Timestamp, String)> {
    let mut best: Option<(Timestamp, String)> = None;
    for kind in POLICY_TYPES {
        let items = schedule.pointer(&format!("/status/items/{kind}")).and_then(Value::as_array);
        for item in items.map(Vec::as_slice).unwrap_or_default() {
            if item.get("status").and_then(Value::as_str) != Some("Successful") {
                continue;
            }
            // A missing finish is Go's zero time, never after anything.
            let Some(finish) = printer::timestamp(item, "/finishTimestamp") else { continue };
            if best.as_ref().is_some_and(|(newest, _)| finish <= *newest) {
                continue;
            }
            // Without a creation time Go subtracts its zero time and saturates (format_nanos clamps).
            let nanos = printer::timestamp(item, "/creationTimestamp")
                .map_or(i128::MAX, |created| finish.as_nanosecond() - created.as_nanosecond());
            best = Some((finish, stork_kube::duration::format_nanos(nanos)));
        }
    }
    best
}

/// Time since the last success, truncated to seconds; empty when there was none. A success stamped a
/// little in the future (clocks differ between this machine and the controller) reads as 0s.
fn rpo(schedule: &Value, now: Timestamp) -> String {
    let Some(last) = printer::timestamp(schedule, "/status/lastSuccessTimestamp") else {
        return String::new();
    };
    let nanos = (now.as_nanosecond() - last.as_nanosecond()).max(0);
    let seconds = nanos / 1_000_000_000;
    stork_kube::duration::format_nanos(seconds * 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::format_table;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use stork_api::{MigrationScheduleStatus, MigrationStatusType, SchedulePolicyType, ScheduledMigrationStatus};

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    /// A schedule as Stork's test builds it: policy `testpolicy`, pair `clusterpair1`, suspended.
    fn schedule(name: &str) -> MigrationSchedule {
        let mut s = MigrationSchedule::new(
            name,
            MigrationScheduleSpec {
                template: MigrationTemplateSpec {
                    spec: MigrationSpec { cluster_pair: "clusterpair1".into(), ..Default::default() },
                },
                schedule_policy_name: "testpolicy".into(),
                suspend: Some(true),
                auto_suspend: false,
            },
        );
        s.metadata.namespace = Some("test".into());
        s
    }

    fn item(
        name: &str,
        status: MigrationStatusType,
        created: &str,
        finished: Option<&str>,
    ) -> ScheduledMigrationStatus {
        ScheduledMigrationStatus {
            name: name.into(),
            creation_timestamp: Some(Time(ts(created))),
            finish_timestamp: finished.map(|f| Time(ts(f))),
            status,
            ..Default::default()
        }
    }

    fn render(schedules: &[MigrationSchedule], all_namespaces: bool, wide: bool, now: Timestamp) -> String {
        let values: Vec<Value> = schedules.iter().map(|s| serde_json::to_value(s).expect("json")).collect();
        format_table(&table_rows(&values, all_namespaces, wide, &TimeZone::UTC, now))
    }

    #[test]
    fn golden_g7_suspended_without_items() {
        let expected = "NAME                       POLICYNAME   CLUSTERPAIR    SUSPEND   LAST-SUCCESS-TIME   LAST-SUCCESS-DURATION\n\
                        getmigrationscheduletest   testpolicy   clusterpair1   true                          \n";
        assert_eq!(render(&[schedule("getmigrationscheduletest")], false, false, Timestamp::now()), expected);
    }

    #[test]
    fn golden_g8_newest_success_over_every_policy_type() {
        let mut s = schedule("getmigrationschedulestatustest");
        let mut status = MigrationScheduleStatus::default();
        status.items.insert(
            SchedulePolicyType::Interval,
            vec![
                item("i1", MigrationStatusType::Successful, "2024-10-24T15:00:00Z", Some("2024-10-24T15:01:00Z")),
                // Newer, but not exactly Successful.
                item("i2", MigrationStatusType::PartialSuccess, "2024-10-24T16:20:00Z", Some("2024-10-24T16:30:00Z")),
                item("i3", MigrationStatusType::Failed, "2024-10-24T16:40:00Z", Some("2024-10-24T16:41:00Z")),
                item("i4", MigrationStatusType::InProgress, "2024-10-24T16:50:00Z", None),
            ],
        );
        // The newest success is in another policy type; five minutes from creation to finish.
        status.items.insert(
            SchedulePolicyType::Daily,
            vec![item("d1", MigrationStatusType::Successful, "2024-10-24T16:01:37Z", Some("2024-10-24T16:06:37Z"))],
        );
        s.status = Some(status);
        let expected = "NAME                             POLICYNAME   CLUSTERPAIR    SUSPEND   LAST-SUCCESS-TIME     LAST-SUCCESS-DURATION\n\
                        getmigrationschedulestatustest   testpolicy   clusterpair1   true      24 Oct 24 16:06 UTC   5m0s\n";
        assert_eq!(render(&[s], false, false, Timestamp::now()), expected);
    }

    #[test]
    fn last_success_ties_and_odd_items() {
        let s = json!({"status": {"items": {
            "Monthly": [{"status": "Successful", "creationTimestamp": "2024-01-01T00:00:00Z", "finishTimestamp": "2024-01-01T01:00:00Z"}],
            "Interval": [
                {"status": "Successful", "creationTimestamp": "2024-01-01T00:59:00Z", "finishTimestamp": "2024-01-01T01:00:00Z"},
                {"status": "Successful", "creationTimestamp": "2024-01-01T02:00:00Z"},
                {"status": "successful", "creationTimestamp": "2024-01-01T02:00:00Z", "finishTimestamp": "2024-01-02T00:00:00Z"},
            ],
        }}});
        // Interval is evaluated first and the Monthly item is not strictly newer.
        let (finish, duration) = last_success(&s).expect("a success");
        assert_eq!((finish, duration.as_str()), (ts("2024-01-01T01:00:00Z"), "1m0s"));
        // No creation time: Go's saturated duration.
        let s = json!({"status": {"items": {"Weekly": [{"status": "Successful", "finishTimestamp": "2024-01-01T01:00:00Z"}]}}});
        assert_eq!(last_success(&s).map(|(_, d)| d), Some("2562047h47m16.854775807s".to_string()));
        assert_eq!(last_success(&json!({"status": {"items": "broken"}})), None);
        assert_eq!(last_success(&json!({})), None);
    }

    #[test]
    fn suspend_cell_and_all_namespaces() {
        let mut resumed = schedule("b");
        resumed.spec.suspend = None;
        resumed.metadata.namespace = Some("ns1".into());
        let odd = json!({"metadata": {"name": "odd", "namespace": "ns2"}, "spec": {"suspend": "yes", "template": 3}});
        let mut values = vec![serde_json::to_value(&resumed).expect("json")];
        values.push(odd);
        let rows = table_rows(&values, true, false, &TimeZone::UTC, Timestamp::now());
        assert_eq!(rows[0][0], "NAMESPACE");
        assert_eq!(rows[1], ["ns1", "b", "testpolicy", "clusterpair1", "false", "", ""]);
        assert_eq!(rows[2], ["ns2", "odd", "", "", "false", "", ""]);
    }

    #[test]
    fn wide_adds_rpo_next_trigger_and_time_zone() {
        let mut s = schedule("wide");
        s.status = Some(MigrationScheduleStatus {
            last_success_timestamp: Some(Time(ts("2024-10-24T16:06:37.9Z"))),
            next_trigger_timestamp: Some(Time(ts("2024-10-24T16:36:37Z"))),
            time_zone: "Europe/Paris".into(),
            ..Default::default()
        });
        let now = ts("2024-10-24T16:08:07.5Z");
        // Kubernetes times are whole seconds: 16:06:37 to 16:08:07.5 is 1m30.5s, truncated.
        let expected = "NAME   POLICYNAME   CLUSTERPAIR    SUSPEND   LAST-SUCCESS-TIME   LAST-SUCCESS-DURATION   RPO     NEXT-TRIGGER          TIME-ZONE\n\
                        wide   testpolicy   clusterpair1   true                                                  1m30s   24 Oct 24 16:36 UTC   Europe/Paris\n";
        assert_eq!(render(&[s.clone()], false, true, now), expected);
        // Never succeeded, nothing planned: empty cells (the last one unpadded).
        let fresh = schedule("fresh");
        let rows = table_rows(&[serde_json::to_value(&fresh).expect("json")], true, true, &TimeZone::UTC, now);
        assert_eq!(rows[0].len(), 10);
        assert_eq!(rows[1][7..], ["", "", ""]);
        // A success stamped after now (clock skew) is a zero RPO, not a negative one.
        let skewed = json!({"status": {"lastSuccessTimestamp": "2024-10-24T16:09:00Z"}});
        assert_eq!(rpo(&skewed, now), "0s");
        assert_eq!(rpo(&json!({"status": {"lastSuccessTimestamp": "2024-10-24T16:08:07.5Z"}}), now), "0s");
        assert_eq!(rpo(&json!({"status": {"lastSuccessTimestamp": "2024-10-24T15:08:07Z"}}), now), "1h0m0s");
        assert_eq!(rpo(&json!({"status": {"lastSuccessTimestamp": "2024-10-24T16:06:37.9Z"}}), now), "1m29s");
    }

    #[test]
    fn item_20_messages() {
        let cases: [(ScheduleError, &str); 8] = [
            (ScheduleError::NoClusterPair, "ClusterPair name needs to be provided for migration schedule"),
            (ScheduleError::NoClusterPairFound, "unable to find the cluster pair in the given namespace"),
            (ScheduleError::NoAdminClusterPair, "unable to find the admin cluster pair in the admin namespace"),
            (
                ScheduleError::NoNamespaces,
                "no valid namespace found based on the provided --namespaces and --namespace-selectors",
            ),
            (ScheduleError::OnlyCurrentNamespace, "migration namespaces should only contain the current namespace"),
            (ScheduleError::PolicyAndInterval, "must provide only one of schedule-policy-name or interval values"),
            (
                ScheduleError::NoPolicy {
                    name: "migrate-every-5m".into(),
                    reason: "schedulepolicies.stork.libopenstorage.org \"migrate-every-5m\" not found".into(),
                },
                "unable to get schedulepolicy migrate-every-5m: schedulepolicies.stork.libopenstorage.org \"migrate-every-5m\" not found",
            ),
            (
                ScheduleError::TransformationNotReady {
                    namespace: "default".into(),
                    name: "test-rt".into(),
                    state: "Failed".into(),
                },
                "transformation default/test-rt is not in ready state, state: Failed",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
        assert_eq!(
            include_volumes(false, Some(false)).unwrap_err().to_string(),
            "--exclude-volumes can only be set to true if it is a sync-dr use case or when storage options are not provided in the cluster pair"
        );
        assert_eq!(
            policy_plan("s", None, Some(-15)).unwrap_err().to_string(),
            "could not create a schedule policy with specified interval: Invalid intervalMinutes (-15) in Interval policy"
        );
    }

    #[test]
    fn volumes_follow_the_pairs_storage_options() {
        assert_eq!(include_volumes(false, None), Ok(false), "no storage options: volumes are never migrated");
        assert_eq!(include_volumes(false, Some(true)), Ok(false));
        assert_eq!(include_volumes(true, None), Ok(true));
        assert_eq!(include_volumes(true, Some(true)), Ok(false));
        assert_eq!(include_volumes(true, Some(false)), Ok(true));
        assert!(!has_storage_options(&json!({"spec": {"options": {}}})));
        assert!(!has_storage_options(&json!({"spec": {}})));
        assert!(has_storage_options(&json!({"spec": {"options": {"mode": "DisasterRecovery"}}})));
    }

    #[test]
    fn policy_cases_follow_stork() {
        assert_eq!(policy_plan("s", Some("p"), Some(5)), Err(ScheduleError::PolicyAndInterval));
        assert_eq!(policy_plan("s", Some("p"), None), Ok(PolicyPlan::Existing("p".into())));
        assert_eq!(policy_plan("s", None, None).map(|p| p.policy_name().to_string()), Ok(DEFAULT_POLICY.into()));
        // §8.2 item 21: interval 15, retain 10.
        let Ok(PolicyPlan::Interval { name, policy }) = policy_plan("s", None, Some(15)) else {
            panic!("interval plan")
        };
        assert_eq!(name, "s", "named like the schedule");
        let interval = policy.interval.expect("interval");
        assert_eq!((interval.interval_minutes, interval.retain), (15, Some(10)));
        assert_eq!(
            policy_plan("s", None, Some(0)).unwrap_err(),
            ScheduleError::IntervalPolicy("Invalid intervalMinutes (0) in Interval policy".into())
        );
    }

    #[test]
    fn namespace_rules() {
        let own = vec!["test".to_string()];
        let other = vec!["test".to_string(), "shop".to_string()];
        assert_eq!(check_namespaces("test", "kube-system", &own), Ok(()));
        assert_eq!(check_namespaces("test", "kube-system", &other), Err(ScheduleError::OnlyCurrentNamespace));
        assert_eq!(check_namespaces("kube-system", "kube-system", &other), Ok(()));
        assert_eq!(check_namespaces("admin", "admin", &other), Ok(()));
        assert_eq!(
            merge_namespaces(&other, vec!["shop".into(), "b".into(), "a".into()]),
            ["test", "shop", "b", "a"],
            "listed first, then selected, each once"
        );
    }

    #[test]
    fn pair_filter_sorts_names() {
        let list = [
            json!({"metadata": {"name": "b"}, "spec": {"template": {"spec": {"clusterPair": "cp"}}}}),
            json!({"metadata": {"name": "c"}, "spec": {"template": {"spec": {"clusterPair": "other"}}}}),
            json!({"metadata": {"name": "a"}, "spec": {"template": {"spec": {"clusterPair": "cp"}}}}),
        ];
        assert_eq!(names_of_pair(&list, "cp"), ["a", "b"]);
        assert!(names_of_pair(&list, "none").is_empty());
        assert_eq!(
            check_target_args(&ScheduleTargetArgs { names: vec![], cluster_pair: Some(String::new()) })
                .unwrap_err()
                .to_string(),
            "at least one argument needs to be provided for migration schedule name if cluster pair isn't provided"
        );
    }
}
