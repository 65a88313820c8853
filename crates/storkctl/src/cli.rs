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
    about = "storkctl manages Stork resources (ClusterPairs, Migrations)",
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
    /// Output format: table (default), yaml or json
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
}

#[derive(Debug, Subcommand)]
pub enum GetResource {
    /// Get ClusterPairs
    #[command(name = "clusterpair", visible_aliases = ["clusterpairs", "cp"])]
    ClusterPair(GetClusterPairArgs),
    /// Get migration resources
    #[command(name = "migrations", visible_alias = "migration")]
    Migration(GetMigrationArgs),
}

#[derive(Debug, Subcommand)]
pub enum DeleteResource {
    /// Delete ClusterPairs
    #[command(name = "clusterpair", visible_aliases = ["clusterpairs", "cp"])]
    ClusterPair(DeleteClusterPairArgs),
    /// Delete migration resources
    #[command(name = "migrations", visible_alias = "migration")]
    Migration(DeleteMigrationArgs),
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
