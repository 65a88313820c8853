//! Command tree and flags. Names, short flags and defaults follow Stork's storkctl (cobra), so existing
//! scripts keep working; positional names are collected as lists and counted by the commands themselves,
//! because Stork reports a wrong count with its own `error:` message rather than a usage error.
//! Boolean flags behave like cobra's: given alone they mean true, a value must be attached with `=`
//! (`--includeVolumes=false`), and Go's `strconv.ParseBool` spellings are accepted.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "storkctl",
    version,
    about = "storkctl manages Stork resources (ClusterPairs, Migrations, MigrationSchedules, SchedulePolicies), \
             failovers and failbacks",
    max_term_width = 120
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts, before or after the subcommand (cobra's persistent flags).
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file to use (default: KUBECONFIG, then ~/.kube/config)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The name of the kubeconfig context to use
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// Namespace to use (Stork uses "default", not the context's namespace)
    #[arg(short = 'n', long, global = true, default_value = "default")]
    pub namespace: String,
    /// Output format: table (default), wide (the table with more columns), yaml or json
    #[arg(short = 'o', long, global = true)]
    pub output: Option<String>,
    /// Accepted for compatibility; the Rust client has no client-side rate limiter to tune
    #[arg(long, global = true, hide = true)]
    pub qps: Option<f32>,
    /// Accepted for compatibility; the Rust client has no client-side rate limiter to tune
    #[arg(long, global = true, hide = true)]
    pub burst: Option<i32>,
}

// Parsed once per process; boxing the large create flags would only complicate the clap derive.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create Stork resources
    #[command(subcommand)]
    Create(CreateResource),
    /// Get Stork resources
    #[command(subcommand)]
    Get(GetResource),
    /// Delete Stork resources
    #[command(subcommand)]
    Delete(DeleteResource),
    /// Generate Stork specs (deprecated: use command "create" instead)
    #[command(subcommand)]
    Generate(GenerateResource),
    /// Suspend schedules
    #[command(subcommand)]
    Suspend(SuspendResource),
    /// Resume schedules
    #[command(subcommand)]
    Resume(ResumeResource),
    /// Activate resources
    #[command(subcommand)]
    Activate(ActivateResource),
    /// Deactivate resources
    #[command(subcommand)]
    Deactivate(DeactivateResource),
    /// Perform actions
    #[command(subcommand)]
    Perform(PerformResource),
    /// Print a shell completion script: `source <(storkctl completion bash)`
    Completion(CompletionArgs),
    /// Print the version of storkctl and, when the cluster is reachable, of its stork-rs controller
    Version(VersionArgs),
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print the client's version only, without asking the cluster
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub client: bool,
}

// Parsed once per process, like `Command` above.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum CreateResource {
    /// Create a ClusterPair on the source cluster and, unless -u, the reverse one on the destination
    #[command(name = "clusterpair", visible_alias = "clusterpairs")]
    ClusterPair(CreateClusterPairArgs),
    /// Start a migration
    #[command(name = "migrations", visible_alias = "migration")]
    Migration(CreateMigrationArgs),
    /// Create a migration schedule
    #[command(name = "migrationschedules", visible_alias = "migrationschedule")]
    MigrationSchedule(CreateMigrationScheduleArgs),
    /// Create schedule policy
    #[command(name = "schedulepolicy", visible_alias = "sp", alias = "schedulepolicies")]
    SchedulePolicy(CreateSchedulePolicyArgs),
}

#[derive(Debug, Subcommand)]
pub enum GetResource {
    /// Get ClusterPairs
    #[command(name = "clusterpair", visible_aliases = ["clusterpairs", "cp"])]
    ClusterPair(GetClusterPairArgs),
    /// Get migration resources
    #[command(name = "migrations", visible_alias = "migration")]
    Migration(GetMigrationArgs),
    /// Get migration schedules
    #[command(name = "migrationschedules", visible_alias = "migrationschedule")]
    MigrationSchedule(GetMigrationScheduleArgs),
    /// Get schedule policies
    #[command(name = "schedulepolicy", visible_alias = "sp", alias = "schedulepolicies")]
    SchedulePolicy(GetSchedulePolicyArgs),
    /// Get the status of failover actions
    #[command(name = "failover")]
    Failover(GetActionArgs),
    /// Get the status of failback actions
    #[command(name = "failback")]
    Failback(GetActionArgs),
}

#[derive(Debug, Subcommand)]
pub enum DeleteResource {
    /// Delete ClusterPairs
    #[command(name = "clusterpair", visible_aliases = ["clusterpairs", "cp"])]
    ClusterPair(DeleteClusterPairArgs),
    /// Delete migration resources
    #[command(name = "migrations", visible_alias = "migration")]
    Migration(DeleteMigrationArgs),
    /// Delete migration schedules
    #[command(name = "migrationschedules", visible_alias = "migrationschedule")]
    MigrationSchedule(ScheduleTargetArgs),
    /// Delete schedule policies (refused while a MigrationSchedule uses one)
    #[command(name = "schedulepolicy", visible_alias = "sp", alias = "schedulepolicies")]
    SchedulePolicy(DeleteSchedulePolicyArgs),
}

#[derive(Debug, Subcommand)]
pub enum SuspendResource {
    /// Suspend migration schedules
    #[command(name = "migrationschedules", visible_alias = "migrationschedule")]
    MigrationSchedule(ScheduleTargetArgs),
}

#[derive(Debug, Subcommand)]
pub enum ResumeResource {
    /// Resume migration schedules
    #[command(name = "migrationschedules", visible_alias = "migrationschedule")]
    MigrationSchedule(ScheduleTargetArgs),
}

#[derive(Debug, Subcommand)]
pub enum ActivateResource {
    /// Activate apps that were created from a migration (only the copies stork-rs migrated)
    #[command(name = "migrations", visible_alias = "migration")]
    Migration(ActivateMigrationArgs),
}

#[derive(Debug, Subcommand)]
pub enum DeactivateResource {
    /// Deactivate apps that were created from a migration (only the copies stork-rs migrated)
    #[command(name = "migrations", visible_alias = "migration")]
    Migration(ActivateMigrationArgs),
}

#[derive(Debug, Subcommand)]
pub enum PerformResource {
    /// Initiate failover of the given migration schedule
    #[command(name = "failover")]
    Failover(PerformFailoverArgs),
    /// Initiate failback of the given migration schedule
    #[command(name = "failback")]
    Failback(PerformFailbackArgs),
}

#[derive(Debug, Subcommand)]
pub enum GenerateResource {
    /// Print a ClusterPair spec for the current kubeconfig context, to apply on the source cluster
    #[command(name = "clusterpair", visible_alias = "clusterpairs")]
    ClusterPair(GenerateClusterPairArgs),
}

#[derive(Debug, Args)]
pub struct GetClusterPairArgs {
    /// Names of the ClusterPairs (all in the namespace when none)
    pub names: Vec<String>,
    /// List ClusterPairs of every namespace
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub all_namespaces: bool,
}

#[derive(Debug, Args)]
pub struct DeleteClusterPairArgs {
    /// Names of the ClusterPairs to delete
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CreateMigrationArgs {
    /// Name of the Migration
    pub names: Vec<String>,
    /// ClusterPair name for migration
    #[arg(short = 'c', long = "clusterPair", value_name = "NAME", default_value = "", hide_default_value = true)]
    pub cluster_pair: String,
    /// Comma separated list of namespaces to migrate
    #[arg(long, value_delimiter = ',', value_name = "NS,...")]
    pub namespaces: Vec<String>,
    /// Include resources in the migration
    #[arg(
        short = 'r',
        long = "includeResources",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "true",
        value_parser = go_bool
    )]
    pub include_resources: bool,
    /// Include volumes in the migration
    #[arg(
        long = "includeVolumes",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "true",
        value_parser = go_bool
    )]
    pub include_volumes: bool,
    /// Start applications on the destination cluster after migration (NB: the Migration's own default is false)
    #[arg(
        short = 'a',
        long = "startApplications",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "true",
        value_parser = go_bool
    )]
    pub start_applications: bool,
    /// Rule to run before executing migration
    #[arg(long = "preExecRule", value_name = "RULE", default_value = "", hide_default_value = true)]
    pub pre_exec_rule: String,
    /// Rule to run after executing migration
    #[arg(long = "postExecRule", value_name = "RULE", default_value = "", hide_default_value = true)]
    pub post_exec_rule: String,
    /// Wait for migration to complete
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub wait: bool,
    /// Validate migration params before starting migration (creates nothing)
    #[arg(
        long = "dry-run",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "false",
        value_parser = go_bool
    )]
    pub dry_run: bool,
    /// Validate the Migration spec in this YAML or JSON file (creates nothing; other flags are ignored)
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// --wait: time between two reads of the Migration (Stork: 30s)
    #[arg(long, hide = true, env = "STORKCTL_WAIT_POLL_INTERVAL", default_value = "30s", value_parser = stork_kube::duration::parse_flag)]
    pub wait_poll_interval: Duration,
    /// --wait: time before the first read, so the first line is rarely blank (Stork: 5s)
    #[arg(long, hide = true, env = "STORKCTL_WAIT_INITIAL_DELAY", default_value = "5s", value_parser = stork_kube::duration::parse_flag)]
    pub wait_initial_delay: Duration,
}

#[derive(Debug, Args)]
pub struct GetMigrationArgs {
    /// Names of the Migrations (all in the namespace when none)
    pub names: Vec<String>,
    /// Name of the cluster pair for which to list migrations
    #[arg(short = 'c', long = "clusterpair", alias = "clusterPair", value_name = "NAME")]
    pub cluster_pair: Option<String>,
    /// List Migrations of every namespace
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub all_namespaces: bool,
}

#[derive(Debug, Args)]
pub struct DeleteMigrationArgs {
    /// Names of the Migrations to delete
    pub names: Vec<String>,
    /// Name of the ClusterPair for which to delete ALL migrations (names are then ignored)
    #[arg(short = 'c', long = "clusterPair", alias = "clusterpair", value_name = "NAME")]
    pub cluster_pair: Option<String>,
}

#[derive(Debug, Args)]
pub struct CreateMigrationScheduleArgs {
    /// Name of the MigrationSchedule
    pub names: Vec<String>,
    /// Specify the name of the ClusterPair in the same namespace to be used for the migration
    #[arg(short = 'c', long = "cluster-pair", value_name = "NAME", default_value = "", hide_default_value = true)]
    pub cluster_pair: String,
    /// Specify the comma-separated list of namespaces to be included in the migration
    #[arg(long, value_delimiter = ',', value_name = "NS,...")]
    pub namespaces: Vec<String>,
    /// Resources in the namespaces with the specified namespace labels will be migrated (labels are OR'ed)
    #[arg(long, value_name = "KEY=VALUE,...", value_parser = key_values)]
    pub namespace_selectors: Vec<KeyValues>,
    /// Name of the admin ClusterPair used to migrate cluster-scoped resources, if the ClusterPair is present
    /// in a non-admin namespace
    #[arg(long, value_name = "NAME")]
    pub admin_cluster_pair: Option<String>,
    /// If present, Kubernetes resources will not be migrated
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub exclude_resources: bool,
    /// If present, volumes will not be migrated (the only behaviour, and the default, when the ClusterPair
    /// has no storage options)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub exclude_volumes: Option<bool>,
    /// If present, the applications will be scaled up on the target cluster after a successful migration
    #[arg(
        short = 'a',
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "false",
        value_parser = go_bool
    )]
    pub start_applications: bool,
    /// If set, resources with ownerReferences will also be migrated, even if their owners are migrated
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub ignore_owner_references_check: bool,
    /// Delete Kubernetes resources in the target cluster when they are removed from the source cluster
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub purge_deleted_resources: bool,
    /// If set, service objects will be skipped during migration
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub skip_service_update: bool,
    /// If set, network policies will be migrated even if a fixed CIDR is present on them
    #[arg(long = "include-network-policy-with-cidr", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub include_network_policy_with_cidr: bool,
    /// If present, a migration fails on a listed namespace that does not exist (by default it is skipped)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub disable_skip_deleted_namespaces: bool,
    /// Specify the name of the rule to be executed before every migration is triggered
    #[arg(long, value_name = "RULE", default_value = "", hide_default_value = true)]
    pub pre_exec_rule: String,
    /// Specify the name of the rule to be executed after every migration is triggered
    #[arg(long, value_name = "RULE", default_value = "", hide_default_value = true)]
    pub post_exec_rule: String,
    /// Name of the schedule policy to use [default: default-migration-policy]; for a new interval policy
    /// use --interval instead
    #[arg(short = 's', long, value_name = "NAME")]
    pub schedule_policy_name: Option<String>,
    /// Time interval, in minutes, at which to trigger migrations: creates a SchedulePolicy named like the
    /// schedule
    #[arg(short = 'i', long, value_name = "MINUTES", allow_negative_numbers = true)]
    pub interval: Option<i64>,
    /// Whether the schedule should be suspended on creation
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub suspend: bool,
    /// Prevent automatic suspension of the schedule on the source cluster when its applications are
    /// activated on the destination
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub disable_auto_suspend: bool,
    /// Annotations of the MigrationSchedule (copied to its Migrations), as comma-separated key=value pairs
    #[arg(long, value_name = "KEY=VALUE,...", value_parser = key_values)]
    pub annotations: Vec<KeyValues>,
    /// Name of the ResourceTransformation to apply during migration
    #[arg(long, value_name = "NAME", default_value = "", hide_default_value = true)]
    pub transform_spec: String,
    /// Migrate Kubernetes Jobs too (by default they are not migrated)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub include_jobs: bool,
    /// Only resources with the provided labels will be migrated (labels are OR'ed)
    #[arg(long, value_name = "KEY=VALUE,...", value_parser = key_values)]
    pub selectors: Vec<KeyValues>,
    /// Resources with the provided labels will be excluded from the migration (labels are OR'ed)
    #[arg(long, value_name = "KEY=VALUE,...", value_parser = key_values)]
    pub exclude_selectors: Vec<KeyValues>,
    /// Comma-separated resource types to exclude from migration, e.g. Deployment,PersistentVolumeClaim
    /// (kinds, plural names, singular names or short names)
    #[arg(long, value_delimiter = ',', value_name = "TYPE,...")]
    pub exclude_resource_types: Vec<String>,
}

#[derive(Debug, Args)]
pub struct GetMigrationScheduleArgs {
    /// Names of the MigrationSchedules (all in the namespace when none)
    pub names: Vec<String>,
    /// Name of the cluster pair for which to list migration schedules
    #[arg(short = 'c', long = "clusterpair", alias = "clusterPair", value_name = "NAME")]
    pub cluster_pair: Option<String>,
    /// List MigrationSchedules of every namespace
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub all_namespaces: bool,
}

/// `delete`, `suspend` and `resume migrationschedules`: names, or every schedule of one pair.
#[derive(Debug, Args)]
pub struct ScheduleTargetArgs {
    /// Names of the MigrationSchedules
    pub names: Vec<String>,
    /// Name of the ClusterPair whose migration schedules (ALL of them in the namespace) to act on; names
    /// are then ignored
    #[arg(short = 'c', long = "clusterPair", alias = "clusterpair", value_name = "NAME")]
    pub cluster_pair: Option<String>,
}

#[derive(Debug, Args)]
pub struct CreateSchedulePolicyArgs {
    /// Name of the SchedulePolicy
    pub names: Vec<String>,
    /// Type of schedule policy: Interval, Daily, Weekly or Monthly (case-insensitive)
    #[arg(short = 't', long, value_name = "TYPE", default_value = "Interval")]
    pub policy_type: String,
    /// Interval, in minutes, after which to trigger the operation (Interval) [default: 30]
    #[arg(short = 'i', long, value_name = "MINUTES", allow_negative_numbers = true)]
    pub interval_minutes: Option<i64>,
    /// How many objects triggered by this schedule to retain (default per type: 10, 30, 7, 12)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub retain: Option<i64>,
    /// Time of the day in the 12 hour AM/PM format (Daily, Weekly, Monthly) [default: 12:00AM]
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,
    /// Day of a full backup (Daily) [default: Monday]
    #[arg(long, value_name = "DAY")]
    pub force_full_snapshot_day: Option<String>,
    /// Day of the week, abbreviated or in full (Weekly) [default: Sunday]
    #[arg(long, value_name = "DAY")]
    pub day_of_week: Option<String>,
    /// Date of the month (Monthly) [default: 1]
    #[arg(long, value_name = "DATE", allow_negative_numbers = true)]
    pub date_of_month: Option<i64>,
}

#[derive(Debug, Args)]
pub struct GetSchedulePolicyArgs {
    /// Names of the SchedulePolicies (all when none)
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DeleteSchedulePolicyArgs {
    /// Names of the SchedulePolicies to delete
    pub names: Vec<String>,
}

/// `activate|deactivate migrations`.
#[derive(Debug, Args)]
pub struct ActivateMigrationArgs {
    /// Act on applications in all namespaces
    #[arg(
        short = 'a',
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "false",
        value_parser = go_bool
    )]
    pub all_namespaces: bool,
    /// Print what would change (each change checked by the API server) and change nothing
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct PerformFailoverArgs {
    /// Specify the MigrationSchedule to failover. Also specify the namespace of this MigrationSchedule using
    /// the -n flag
    #[arg(short = 'm', long, value_name = "NAME", default_value = "", hide_default_value = true)]
    pub migration_reference: String,
    /// Specify the comma-separated list of subset namespaces to be failed over. By default, all namespaces
    /// part of the MigrationSchedule are failed over
    #[arg(long, value_delimiter = ',', value_name = "NS,...")]
    pub include_namespaces: Vec<String>,
    /// Specify the comma-separated list of subset namespaces to be skipped during the failover. By default,
    /// all namespaces part of the MigrationSchedule are failed over
    #[arg(long, value_delimiter = ',', value_name = "NS,...")]
    pub exclude_namespaces: Vec<String>,
    /// If present, operations performed on the source cluster will be skipped, and applications on the
    /// current cluster will be scaled up
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub skip_source_operations: bool,
    /// Start even when the preflight finds blockers (stork-rs)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub force: bool,
    /// Print what the failover would do (the preflight) and change nothing (stork-rs)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct PerformFailbackArgs {
    /// Specify the MigrationSchedule to failback. Also specify the namespace of this MigrationSchedule using
    /// the -n flag
    #[arg(short = 'm', long, value_name = "NAME", default_value = "", hide_default_value = true)]
    pub migration_reference: String,
    /// Specify the comma-separated list of subset namespaces to be failed back. By default, all namespaces
    /// part of the MigrationSchedule are failed back
    #[arg(long, value_delimiter = ',', value_name = "NS,...")]
    pub include_namespaces: Vec<String>,
    /// Specify the comma-separated list of subset namespaces to be skipped during the failback. By default,
    /// all namespaces part of the MigrationSchedule are failed back
    #[arg(long, value_delimiter = ',', value_name = "NS,...")]
    pub exclude_namespaces: Vec<String>,
    /// Start even when the preflight finds blockers (stork-rs)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub force: bool,
    /// Print what the failback would do (the preflight) and change nothing (stork-rs)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub dry_run: bool,
}

/// `get failover|failback`: Stork reads them in `-n` only.
#[derive(Debug, Args)]
pub struct GetActionArgs {
    /// Names of the Actions (all of this type in the namespace when none)
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct GenerateClusterPairArgs {
    /// Name of the ClusterPair
    pub names: Vec<String>,
    /// Storage options as comma-separated key=value pairs
    #[arg(short = 's', long = "storageoptions", value_name = "KEY=VALUE,...")]
    pub storage_options: Option<String>,
    /// Rancher project mappings as comma-separated source=destination pairs
    #[arg(long, value_name = "SRC=DEST,...")]
    pub project_mappings: Option<String>,
}

#[derive(Debug, Args)]
pub struct CreateClusterPairArgs {
    /// Name of the ClusterPair
    pub names: Vec<String>,
    /// Kubeconfig file of the source cluster
    #[arg(long, value_name = "PATH")]
    pub src_kube_file: Option<String>,
    /// Kubeconfig file of the destination cluster
    #[arg(long, value_name = "PATH")]
    pub dest_kube_file: Option<String>,
    /// async-dr, sync-dr or migration
    #[arg(long, default_value = "sync-dr")]
    pub mode: String,
    /// Create the pair on the source only
    #[arg(
        short = 'u',
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "false",
        value_parser = go_bool
    )]
    pub unidirectional: bool,
    /// Rancher project mappings as comma-separated source=destination pairs (reversed for the reverse pair)
    #[arg(long, value_name = "SRC=DEST,...")]
    pub project_mappings: Option<String>,
    #[command(flatten)]
    pub storage: StorageDriverArgs,
}

/// Flags of Stork's create clusterpair that drive the Portworx storage driver (endpoints, pairing tokens,
/// object store for cloud migration). They are parsed so scripts get a clear error instead of "unknown
/// flag", and refused because this build has no storage driver.
#[derive(Debug, Args)]
pub struct StorageDriverArgs {
    /// Portworx API endpoint of the source (storage driver only)
    #[arg(long)]
    pub src_ep: Option<String>,
    /// Portworx API endpoint of the destination (storage driver only)
    #[arg(long)]
    pub dest_ep: Option<String>,
    /// Portworx auth token of the source (storage driver only)
    #[arg(long)]
    pub src_token: Option<String>,
    /// Portworx auth token of the destination (storage driver only)
    #[arg(long)]
    pub dest_token: Option<String>,
    /// Object store provider: s3, azure or google (storage driver only)
    #[arg(short = 'p', long)]
    pub provider: Option<String>,
    /// Object store bucket (storage driver only)
    #[arg(long)]
    pub bucket: Option<String>,
    /// Object store encryption key (storage driver only)
    #[arg(long)]
    pub encryption_key: Option<String>,
    /// S3 access key (storage driver only)
    #[arg(long)]
    pub s3_access_key: Option<String>,
    /// S3 secret key (storage driver only)
    #[arg(long)]
    pub s3_secret_key: Option<String>,
    /// S3 region (storage driver only)
    #[arg(long)]
    pub s3_region: Option<String>,
    /// S3 endpoint (storage driver only)
    #[arg(long)]
    pub s3_endpoint: Option<String>,
    /// S3 storage class (storage driver only)
    #[arg(long)]
    pub s3_storage_class: Option<String>,
    /// Disable SSL for the object store (storage driver only)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub disable_ssl: Option<bool>,
    /// Azure account name (storage driver only)
    #[arg(long)]
    pub azure_account_name: Option<String>,
    /// Azure account key (storage driver only)
    #[arg(long)]
    pub azure_account_key: Option<String>,
    /// Google project id (storage driver only)
    #[arg(long)]
    pub google_project_id: Option<String>,
    /// Google key file path (storage driver only)
    #[arg(long)]
    pub google_key_file_path: Option<String>,
    /// Use an existing BackupLocation instead of creating one (storage driver only)
    #[arg(long)]
    pub use_existing_objectstorelocation: Option<String>,
    /// Deprecated: use --src-ep
    #[arg(long, hide = true)]
    pub src_ip: Option<String>,
    /// Deprecated: use --src-ep
    #[arg(long, hide = true)]
    pub src_port: Option<String>,
    /// Deprecated: use --dest-ep
    #[arg(long, hide = true)]
    pub dest_ip: Option<String>,
    /// Deprecated: use --dest-ep
    #[arg(long, hide = true)]
    pub dest_port: Option<String>,
}

impl StorageDriverArgs {
    /// The storage-driver flags that were given, as `--flag` names, in declaration order.
    pub fn given(&self) -> Vec<&'static str> {
        let strings = [
            ("--src-ep", &self.src_ep),
            ("--dest-ep", &self.dest_ep),
            ("--src-token", &self.src_token),
            ("--dest-token", &self.dest_token),
            ("--provider", &self.provider),
            ("--bucket", &self.bucket),
            ("--encryption-key", &self.encryption_key),
            ("--s3-access-key", &self.s3_access_key),
            ("--s3-secret-key", &self.s3_secret_key),
            ("--s3-region", &self.s3_region),
            ("--s3-endpoint", &self.s3_endpoint),
            ("--s3-storage-class", &self.s3_storage_class),
            ("--azure-account-name", &self.azure_account_name),
            ("--azure-account-key", &self.azure_account_key),
            ("--google-project-id", &self.google_project_id),
            ("--google-key-file-path", &self.google_key_file_path),
            ("--use-existing-objectstorelocation", &self.use_existing_objectstorelocation),
            ("--src-ip", &self.src_ip),
            ("--src-port", &self.src_port),
            ("--dest-ip", &self.dest_ip),
            ("--dest-port", &self.dest_port),
        ];
        let mut given: Vec<&'static str> =
            strings.into_iter().filter(|(_, value)| value.is_some()).map(|(flag, _)| flag).collect();
        if self.disable_ssl.is_some() {
            given.push("--disable-ssl");
        }
        given
    }
}

/// The pairs of one `--flag k=v,...` occurrence; repeated occurrences are merged by the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValues(pub Vec<(String, String)>);

/// pflag's `StringToString`: a value with one `=` is a single pair (its value may contain commas);
/// with several, comma-separated pairs; an entry without `=` is refused with pflag's message.
pub fn key_values(text: &str) -> Result<KeyValues, String> {
    let entries: Vec<&str> = match text.matches('=').count() {
        0 => return Err(format!("{text} must be formatted as key=value")),
        1 => vec![text.trim_matches('"')],
        _ => text.split(',').map(|e| e.trim_matches('"')).collect(),
    };
    entries
        .into_iter()
        .map(|entry| match entry.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => Err(format!("{entry} must be formatted as key=value")),
        })
        .collect::<Result<_, _>>()
        .map(KeyValues)
}

/// Occurrences of a `StringToString` flag as one map; a later key wins, as in pflag.
pub fn merged(occurrences: &[KeyValues]) -> std::collections::BTreeMap<String, String> {
    occurrences.iter().flat_map(|kv| kv.0.iter().cloned()).collect()
}

/// Go's `strconv.ParseBool`, which cobra uses for boolean flags.
pub fn go_bool(text: &str) -> Result<bool, String> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        other => Err(format!("strconv.ParseBool: parsing {other:?}: invalid syntax")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_go_anywhere_and_bools_take_optional_values() {
        let cli =
            Cli::try_parse_from(["storkctl", "get", "cp", "a", "-n", "ns", "--all-namespaces=false", "-o", "json"])
                .expect("parse");
        assert_eq!(cli.global.namespace, "ns");
        assert_eq!(cli.global.output.as_deref(), Some("json"));
        let Command::Get(GetResource::ClusterPair(args)) = cli.command else { panic!("not get clusterpair") };
        assert_eq!(args.names, ["a"]);
        assert!(!args.all_namespaces);

        let cli = Cli::try_parse_from(["storkctl", "-n", "x", "create", "clusterpair", "p", "-u", "--disable-ssl"])
            .expect("parse");
        let Command::Create(CreateResource::ClusterPair(args)) = cli.command else { panic!("not create") };
        assert!(args.unidirectional);
        assert_eq!(args.mode, "sync-dr");
        assert_eq!(args.storage.given(), ["--disable-ssl"]);
        assert_eq!(cli.global.namespace, "x");
    }

    #[test]
    fn migration_flags_follow_stork() {
        let cli = Cli::try_parse_from(["storkctl", "create", "migration", "m", "-c", "cp", "--namespaces", "a,b"])
            .expect("parse");
        let Command::Create(CreateResource::Migration(args)) = cli.command else { panic!("not create migration") };
        assert_eq!(args.names, ["m"]);
        assert_eq!(args.cluster_pair, "cp");
        assert_eq!(args.namespaces, ["a", "b"]);
        assert!(args.include_resources && args.include_volumes && args.start_applications, "CLI defaults are true");
        assert!(!args.wait && !args.dry_run && args.file.is_none());
        assert_eq!(args.wait_poll_interval, Duration::from_secs(30));
        assert_eq!(args.wait_initial_delay, Duration::from_secs(5));

        let cli = Cli::try_parse_from([
            "storkctl",
            "create",
            "migrations",
            "m",
            "--clusterPair=cp",
            "--namespaces",
            "a",
            "--namespaces=b,c",
            "-r=false",
            "--includeVolumes=0",
            "-a=F",
            "--preExecRule",
            "pre",
            "--postExecRule=post",
            "--wait",
            "--wait-poll-interval=250ms",
            "--wait-initial-delay",
            "0",
        ])
        .expect("parse");
        let Command::Create(CreateResource::Migration(args)) = cli.command else { panic!("not create migration") };
        assert_eq!(args.namespaces, ["a", "b", "c"], "repeated --namespaces append, as cobra's StringSlice");
        assert!(!args.include_resources && !args.include_volumes && !args.start_applications);
        assert_eq!((args.pre_exec_rule.as_str(), args.post_exec_rule.as_str()), ("pre", "post"));
        assert!(args.wait);
        assert_eq!(args.wait_poll_interval, Duration::from_millis(250));
        assert_eq!(args.wait_initial_delay, Duration::ZERO);

        // A cobra bool never takes a separate value: "false" would be a second name.
        let cli =
            Cli::try_parse_from(["storkctl", "create", "migration", "m", "--includeVolumes", "false"]).expect("parse");
        let Command::Create(CreateResource::Migration(args)) = cli.command else { panic!("not create migration") };
        assert_eq!(args.names, ["m", "false"]);
        assert!(args.include_volumes);
        assert!(Cli::try_parse_from(["storkctl", "create", "migration", "m", "-r=maybe"]).is_err());

        let cli = Cli::try_parse_from(["storkctl", "get", "migration", "-c", "cp", "--all-namespaces"]).expect("parse");
        let Command::Get(GetResource::Migration(args)) = cli.command else { panic!("not get migration") };
        assert_eq!(args.cluster_pair.as_deref(), Some("cp"));
        assert!(args.all_namespaces);
        let cli = Cli::try_parse_from(["storkctl", "delete", "migrations", "-c", "cp"]).expect("parse");
        let Command::Delete(DeleteResource::Migration(args)) = cli.command else { panic!("not delete migration") };
        assert_eq!(args.cluster_pair.as_deref(), Some("cp"));
        assert!(args.names.is_empty());
    }

    #[test]
    fn schedule_flags_follow_stork() {
        let cli = Cli::try_parse_from([
            "storkctl",
            "create",
            "migrationschedule",
            "s",
            "-c",
            "cp",
            "--namespaces",
            "a,b",
            "-i",
            "-15",
            "--annotations",
            "k1=v1,k2=v2",
            "--annotations=k3=x,y",
            "--exclude-volumes=false",
            "--exclude-resource-types",
            "deploy,Secret",
            "-a",
        ])
        .expect("parse");
        let Command::Create(CreateResource::MigrationSchedule(args)) = cli.command else { panic!("not create ms") };
        assert_eq!(args.names, ["s"]);
        assert_eq!(args.interval, Some(-15), "negative values are values, as pflag reads them");
        assert_eq!(args.schedule_policy_name, None);
        assert_eq!(args.exclude_volumes, Some(false));
        assert!(args.start_applications && !args.suspend && !args.disable_auto_suspend && !args.exclude_resources);
        assert_eq!(args.exclude_resource_types, ["deploy", "Secret"]);
        let annotations = merged(&args.annotations);
        assert_eq!(annotations.len(), 3);
        assert_eq!(annotations["k3"], "x,y", "one '=' makes one pair whose value keeps its comma");
        assert_eq!(args.admin_cluster_pair, None);

        let cli =
            Cli::try_parse_from(["storkctl", "create", "sp", "p", "-t", "daily", "--time", "1:00PM"]).expect("sp");
        let Command::Create(CreateResource::SchedulePolicy(args)) = cli.command else { panic!("not create sp") };
        assert_eq!((args.policy_type.as_str(), args.time.as_deref()), ("daily", Some("1:00PM")));
        assert_eq!((args.interval_minutes, args.retain, args.date_of_month), (None, None, None));

        for verb in ["suspend", "resume", "delete"] {
            let cli = Cli::try_parse_from(["storkctl", verb, "migrationschedules", "a", "b", "-c", "cp"]).expect(verb);
            let args = match cli.command {
                Command::Suspend(SuspendResource::MigrationSchedule(a))
                | Command::Resume(ResumeResource::MigrationSchedule(a))
                | Command::Delete(DeleteResource::MigrationSchedule(a)) => a,
                other => panic!("{verb}: {other:?}"),
            };
            assert_eq!(args.names, ["a", "b"]);
            assert_eq!(args.cluster_pair.as_deref(), Some("cp"));
        }
        let cli = Cli::try_parse_from(["storkctl", "get", "migrationschedule", "--clusterpair=cp", "--all-namespaces"])
            .expect("get ms");
        let Command::Get(GetResource::MigrationSchedule(args)) = cli.command else { panic!("not get ms") };
        assert!(args.all_namespaces);
        assert_eq!(args.cluster_pair.as_deref(), Some("cp"));
    }

    #[test]
    fn failover_flags_follow_stork() {
        let cli = Cli::try_parse_from(["storkctl", "activate", "migrations", "-a", "--dry-run"]).expect("activate");
        let Command::Activate(ActivateResource::Migration(args)) = cli.command else { panic!("not activate") };
        assert!(args.all_namespaces && args.dry_run);
        let cli = Cli::try_parse_from(["storkctl", "deactivate", "migration", "-n", "shop"]).expect("deactivate");
        let Command::Deactivate(DeactivateResource::Migration(args)) = cli.command else { panic!("not deactivate") };
        assert!(!args.all_namespaces && !args.dry_run);
        assert_eq!(cli.global.namespace, "shop");

        let cli = Cli::try_parse_from([
            "storkctl",
            "perform",
            "failover",
            "-m",
            "ms",
            "--include-namespaces",
            "a,b",
            "--include-namespaces=c",
            "--skip-source-operations",
            "--force",
            "--dry-run=false",
        ])
        .expect("perform failover");
        let Command::Perform(PerformResource::Failover(args)) = cli.command else { panic!("not perform failover") };
        assert_eq!(args.migration_reference, "ms");
        assert_eq!(args.include_namespaces, ["a", "b", "c"]);
        assert!(args.exclude_namespaces.is_empty());
        assert!(args.skip_source_operations && args.force && !args.dry_run);
        let cli = Cli::try_parse_from([
            "storkctl",
            "perform",
            "failback",
            "--migration-reference=ms",
            "--exclude-namespaces",
            "x",
        ])
        .expect("perform failback");
        let Command::Perform(PerformResource::Failback(args)) = cli.command else { panic!("not perform failback") };
        assert_eq!(
            (args.migration_reference.as_str(), args.exclude_namespaces.as_slice()),
            ("ms", ["x".to_string()].as_slice())
        );
        assert!(!args.force && !args.dry_run);
        assert!(
            Cli::try_parse_from(["storkctl", "perform", "failback", "-m", "ms", "--skip-source-operations"]).is_err(),
            "a failback has no source to skip"
        );

        for kind in ["failover", "failback"] {
            let cli = Cli::try_parse_from(["storkctl", "get", kind, "a", "b", "-o", "wide"]).expect(kind);
            let (Command::Get(GetResource::Failover(args)) | Command::Get(GetResource::Failback(args))) = cli.command
            else {
                panic!("not get {kind}")
            };
            assert_eq!(args.names, ["a", "b"]);
        }
    }

    #[test]
    fn key_values_read_as_pflag_reads_them() {
        assert_eq!(key_values("a=b").expect("one"), KeyValues(vec![("a".into(), "b".into())]));
        assert_eq!(key_values("a=b,c").expect("one '=' is one pair").0, [("a".to_string(), "b,c".to_string())]);
        assert_eq!(key_values("a=b=c,d").unwrap_err(), "d must be formatted as key=value");
        assert_eq!(key_values("\"a=b,c\"").expect("quoted").0, [("a".to_string(), "b,c".to_string())]);
        assert_eq!(key_values("a=1,b=2").expect("two").0.len(), 2);
        assert_eq!(key_values("a").unwrap_err(), "a must be formatted as key=value");
        assert_eq!(key_values("a=1,b,c=3").unwrap_err(), "b must be formatted as key=value");
        let later_wins =
            merged(&[KeyValues(vec![("k".into(), "1".into())]), KeyValues(vec![("k".into(), "2".into())])]);
        assert_eq!(later_wins["k"], "2");
    }

    #[test]
    fn go_values() {
        for yes in ["1", "t", "T", "true", "TRUE", "True"] {
            assert_eq!(go_bool(yes), Ok(true));
        }
        for no in ["0", "f", "F", "false", "FALSE", "False"] {
            assert_eq!(go_bool(no), Ok(false));
        }
        assert!(go_bool("yes").is_err());
    }
}
