//! `generate|create|get|delete clusterpair`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use jiff::tz::TimeZone;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, PostParams};
use serde_json::{Value, json};
use stork_api::{
    ClusterPair, ClusterPairSpec, ClusterPairStatus, OPTION_MODE, OPTION_PLACEHOLDER, PairKubeconfig, PlatformOptions,
    RancherSecret,
};
use thiserror::Error;

use crate::cli::{
    CreateClusterPairArgs, DeleteClusterPairArgs, GenerateClusterPairArgs, GetClusterPairArgs, GlobalArgs,
};
use crate::client::{self, ClientError};
use crate::objects;
use crate::printer::{self, OutputFormat};
use crate::validation;

#[derive(Debug, Error)]
pub enum ClusterPairError {
    #[error("exactly one name needs to be provided for clusterpair name")]
    NameCount,
    #[error("at least one argument needs to be provided for clusterpair name")]
    NoNames,
    #[error("invalid mode {0}, mode value should either be async-dr, sync-dr or migration")]
    InvalidMode(String),
    #[error("missing parameter \"src-kube-file\" - Kubeconfig file missing for source cluster")]
    MissingSrcKubeFile,
    #[error("missing parameter \"dest-kube-file\" - Kubeconfig file missing for destination cluster")]
    MissingDestKubeFile,
    #[error("source kubeconfig file and destination kubeconfig file should be different")]
    SameKubeFile,
    #[error("source kubeconfig and destination kubeconfig file should be different")]
    SameKubeContent,
    #[error("unable to read {which} kubeconfig file {path}: {source}")]
    ReadKubeFile { which: &'static str, path: String, source: std::io::Error },
    #[error("cannot build the ClusterPair config from {path}: {source}")]
    Flatten { path: String, source: stork_kube::FlattenError },
    #[error("invalid --{flag} entry {entry:?}: expected key=value")]
    BadKeyValue { flag: &'static str, entry: String },
    #[error(
        "{} set up storage-driver (Portworx) pairing, which this storkctl does not have; \
         remove them to pair the clusters for Kubernetes resources (the mode is still recorded)",
        .0.join(", ")
    )]
    NeedsStorageDriver(Vec<&'static str>),
}

fn resource() -> ApiResource {
    ApiResource::erase::<ClusterPair>(&())
}

fn one_name(names: &[String]) -> Result<&str, ClusterPairError> {
    match names {
        [name] => Ok(name),
        _ => Err(ClusterPairError::NameCount),
    }
}

/// `storkctl generate clusterpair`: a ClusterPair spec for the current kubeconfig context, on stdout.
pub fn generate(global: &GlobalArgs, args: &GenerateClusterPairArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let name = one_name(&args.names)?;
    validation::check_name(name)?;
    validation::check_namespace(&global.namespace)?;
    let mut options = parse_pairs("storageoptions", args.storage_options.as_deref())?;
    if options.is_empty() {
        options.insert(OPTION_PLACEHOLDER.to_string(), String::new());
    }
    let mappings = parse_pairs("project-mappings", args.project_mappings.as_deref())?;
    let loaded = client::load(global.kubeconfig.as_deref(), global.context.as_deref())?.ok_or(ClientError::NoConfig)?;
    let origin = loaded.origin.as_deref();
    let config =
        stork_kube::flatten_for_pair(&loaded.kubeconfig, global.context.as_deref(), origin).map_err(|source| {
            ClusterPairError::Flatten { path: origin.map(|p| p.display().to_string()).unwrap_or_default(), source }
        })?;
    warn_if_unusable(&config);
    let mut pair = pair_object(name, &global.namespace, config, options, mappings);
    pair.status = Some(ClusterPairStatus::default());
    let mut value = to_value_with_options(&pair)?;
    // Stork prints the object as client-go serializes it, with an explicit null creationTimestamp.
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("creationTimestamp".into(), Value::Null);
    }
    out.write_all(printer::to_yaml(&value)?.as_bytes())?;
    Ok(())
}

/// `storkctl create clusterpair`: the pair on the source pointing at the destination and, unless
/// `-u`, the reverse pair on the destination.
pub async fn create(global: &GlobalArgs, args: &CreateClusterPairArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let name = one_name(&args.names)?;
    validation::check_name(name)?;
    validation::check_namespace(&global.namespace)?;
    let options = mode_options(&args.mode)?;
    let src = args.src_kube_file.as_deref().filter(|p| !p.is_empty()).ok_or(ClusterPairError::MissingSrcKubeFile)?;
    let dest = args.dest_kube_file.as_deref().filter(|p| !p.is_empty()).ok_or(ClusterPairError::MissingDestKubeFile)?;
    if src == dest {
        return Err(ClusterPairError::SameKubeFile.into());
    }
    if read_kube_file("source", src)? == read_kube_file("destination", dest)? {
        return Err(ClusterPairError::SameKubeContent.into());
    }
    let refused = args.storage.given();
    if !refused.is_empty() {
        return Err(ClusterPairError::NeedsStorageDriver(refused).into());
    }
    let mappings = parse_pairs("project-mappings", args.project_mappings.as_deref())?;
    let ns = global.namespace.as_str();

    let src_kubeconfig = client::read_file(Path::new(src))?;
    let dest_kubeconfig = client::read_file(Path::new(dest))?;
    let to_dest = flatten(&dest_kubeconfig, dest)?;
    warn_if_unusable(&to_dest);
    let forward = pair_object(name, ns, to_dest, options.clone(), mappings.clone());
    let reverse = if args.unidirectional {
        None
    } else {
        let to_src = flatten(&src_kubeconfig, src)?;
        warn_if_unusable(&to_src);
        let swapped = mappings.iter().map(|(s, d)| (d.clone(), s.clone())).collect();
        Some(pair_object(name, ns, to_src, options, swapped))
    };

    let src_client =
        client::from_kubeconfig(src_kubeconfig).await.with_context(|| format!("source kubeconfig {src}"))?;
    let src_api = pair_api(src_client, ns).await.map_err(on_source)?;
    let dest_api = match &reverse {
        Some(_) => {
            let dest_client = client::from_kubeconfig(dest_kubeconfig)
                .await
                .with_context(|| format!("destination kubeconfig {dest}"))?;
            Some(pair_api(dest_client, ns).await.context("on the destination cluster")?)
        }
        None => None,
    };
    let forward = dynamic(&forward)?;
    let reverse = reverse.as_ref().map(dynamic).transpose()?;

    // Server-side dry runs on both clusters first, so that a pair already present on the destination
    // (or refused by its schema) is reported before anything is written on the source.
    let dry_run = PostParams { dry_run: true, ..Default::default() };
    src_api.create(&dry_run, &forward).await.map_err(on_source)?;
    if let (Some(api), Some(pair)) = (&dest_api, &reverse) {
        api.create(&dry_run, pair).await.context("on the destination cluster")?;
    }

    src_api.create(&PostParams::default(), &forward).await.map_err(on_source)?;
    writeln!(out, "ClusterPair {name} created successfully. Direction Source -> Destination\n")?;
    if let (Some(api), Some(pair)) = (&dest_api, &reverse) {
        api.create(&PostParams::default(), pair).await.with_context(|| {
            format!("ClusterPair {name} was created on the source, but not on the destination cluster")
        })?;
        writeln!(out, "Cluster pair {name} created successfully. Direction: Destination -> Source")?;
    }
    Ok(())
}

/// `storkctl get clusterpair`.
pub async fn get(global: &GlobalArgs, args: &GetClusterPairArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let format: OutputFormat = global.output.as_deref().unwrap_or_default().parse()?;
    objects::check_names(&args.names, args.all_namespaces)?;
    let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    let values = objects::fetch(client, &resource(), &global.namespace, &args.names, args.all_namespaces).await?;
    let tz = TimeZone::system();
    objects::print(out, format, values, args.names.len(), |values| {
        let rows = table_rows(values, args.all_namespaces, &tz);
        if format == OutputFormat::Wide { printer::widen(rows, values, &WIDE_HEADER, wide_cells) } else { rows }
    })
}

/// What `-o wide` adds: the pair's mode and what its last check of the destination said.
const WIDE_HEADER: [&str; 2] = ["MODE", "MESSAGE"];

fn wide_cells(pair: &Value) -> Vec<String> {
    // In `storkctl create clusterpair --mode` terms.
    let mode = match pair.pointer("/spec/options").and_then(|o| o.get(OPTION_MODE)).and_then(Value::as_str) {
        None | Some("") => "sync-dr".to_string(),
        Some("DisasterRecovery") => "async-dr".to_string(),
        Some("OneTimeMigration") => "migration".to_string(),
        Some(other) => other.to_string(),
    };
    let message = pair
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|conditions| {
            conditions
                .iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some(stork_api::CONDITION_SCHEDULER_READY))
        })
        .map(|c| printer::cell(c, "/message"))
        .unwrap_or_default();
    vec![mode, message]
}

/// `storkctl delete clusterpair`.
pub async fn delete(global: &GlobalArgs, args: &DeleteClusterPairArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.names.is_empty() {
        return Err(ClusterPairError::NoNames.into());
    }
    let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    let api: Api<DynamicObject> = Api::namespaced_with(client, &global.namespace, &resource());
    for name in &args.names {
        api.delete(name, &DeleteParams::default()).await?;
        writeln!(out, "ClusterPair {name} deleted successfully")?;
    }
    Ok(())
}

/// Header and one row per pair. Fields are read leniently: a pair whose status holds something other
/// than Stork's strings still gets a row instead of failing the whole listing.
pub fn table_rows(pairs: &[Value], all_namespaces: bool, tz: &TimeZone) -> Vec<Vec<String>> {
    let text = printer::cell;
    let mut header = vec!["NAME", "STORAGE-STATUS", "SCHEDULER-STATUS", "CREATED"];
    if all_namespaces {
        header.insert(0, "NAMESPACE");
    }
    let mut rows = vec![header.into_iter().map(String::from).collect::<Vec<_>>()];
    for pair in pairs {
        let mut row = vec![
            text(pair, "/metadata/name"),
            text(pair, "/status/storageStatus"),
            text(pair, "/status/schedulerStatus"),
            printer::time_cell(pair.pointer("/metadata/creationTimestamp"), tz),
        ];
        if all_namespaces {
            row.insert(0, text(pair, "/metadata/namespace"));
        }
        rows.push(row);
    }
    rows
}

fn mode_options(mode: &str) -> Result<BTreeMap<String, String>, ClusterPairError> {
    let value = match mode {
        "sync-dr" => return Ok(BTreeMap::new()),
        "async-dr" => "DisasterRecovery",
        "migration" => "OneTimeMigration",
        other => return Err(ClusterPairError::InvalidMode(other.to_string())),
    };
    Ok(BTreeMap::from([(OPTION_MODE.to_string(), value.to_string())]))
}

fn read_kube_file(which: &'static str, path: &str) -> Result<Vec<u8>, ClusterPairError> {
    std::fs::read(path).map_err(|source| ClusterPairError::ReadKubeFile { which, path: path.to_string(), source })
}

fn flatten(kubeconfig: &kube::config::Kubeconfig, path: &str) -> Result<PairKubeconfig, ClusterPairError> {
    stork_kube::flatten_for_pair(kubeconfig, None, Some(Path::new(path)))
        .map_err(|source| ClusterPairError::Flatten { path: path.to_string(), source })
}

/// `k=v,k=v` (absent or empty ⇒ empty map). Values may contain '=' (base64 tokens end in it).
fn parse_pairs(flag: &'static str, text: Option<&str>) -> Result<BTreeMap<String, String>, ClusterPairError> {
    let mut map = BTreeMap::new();
    for entry in text.unwrap_or_default().split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (key, value) = entry
            .split_once('=')
            .filter(|(key, _)| !key.trim().is_empty())
            .ok_or_else(|| ClusterPairError::BadKeyValue { flag, entry: entry.to_string() })?;
        map.insert(key.trim().to_string(), value.trim().to_string());
    }
    Ok(map)
}

fn pair_object(
    name: &str,
    namespace: &str,
    config: PairKubeconfig,
    options: BTreeMap<String, String>,
    mappings: BTreeMap<String, String>,
) -> ClusterPair {
    let platform_options = (!mappings.is_empty())
        .then_some(PlatformOptions { rancher: Some(RancherSecret { project_mappings: mappings }) });
    let mut pair = ClusterPair::new(name, ClusterPairSpec { config, options, platform_options });
    pair.metadata.namespace = Some(namespace.to_string());
    pair
}

/// Stork's `spec.options` has no omitempty: a sync-dr pair carries `options: {}`, kept here for parity.
fn to_value_with_options(pair: &ClusterPair) -> Result<Value, serde_json::Error> {
    let mut value = serde_json::to_value(pair)?;
    if let Some(spec) = value.get_mut("spec").and_then(Value::as_object_mut) {
        spec.entry("options").or_insert_with(|| json!({}));
    }
    Ok(value)
}

fn dynamic(pair: &ClusterPair) -> Result<DynamicObject, serde_json::Error> {
    serde_json::from_value(to_value_with_options(pair)?)
}

/// Creates the namespace if missing (AlreadyExists is fine) and returns the pair API in it.
async fn pair_api(client: kube::Client, namespace: &str) -> Result<Api<DynamicObject>, kube::Error> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: kube::core::ObjectMeta { name: Some(namespace.to_string()), ..Default::default() },
        ..Default::default()
    };
    match namespaces.create(&PostParams::default(), &ns).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.is_already_exists() => {}
        // A user allowed to create pairs but not namespaces can still proceed when the namespace exists.
        Err(kube::Error::Api(status)) if status.is_forbidden() => {
            if namespaces.get_opt(namespace).await.ok().flatten().is_none() {
                return Err(kube::Error::Api(status));
            }
        }
        Err(e) => return Err(e),
    }
    Ok(Api::namespaced_with(client, namespace, &resource()))
}

/// API errors on the source print exactly as Stork's (kubectl's) do; anything else, such as a refused
/// connection, says which of the two clusters it concerns.
fn on_source(err: kube::Error) -> anyhow::Error {
    match err {
        kube::Error::Api(_) => err.into(),
        other => anyhow::Error::new(other).context("on the source cluster"),
    }
}

/// The controller refuses some kubeconfigs (exec plugins, file paths, ...): say so now rather than
/// leave the user to find an Error status later. A warning only, as Stork itself does not check.
fn warn_if_unusable(config: &PairKubeconfig) {
    if let Err(e) = stork_kube::pair_config::validate(config, Default::default()) {
        eprintln!("warning: the stork controller will not be able to use this ClusterPair: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_map_to_stork_options() {
        assert_eq!(mode_options("sync-dr").expect("sync"), BTreeMap::new());
        assert_eq!(mode_options("async-dr").expect("async")["mode"], "DisasterRecovery");
        assert_eq!(mode_options("migration").expect("migration")["mode"], "OneTimeMigration");
        assert_eq!(
            mode_options("xyz").unwrap_err().to_string(),
            "invalid mode xyz, mode value should either be async-dr, sync-dr or migration"
        );
    }

    #[test]
    fn key_value_lists() {
        let parsed = parse_pairs("storageoptions", Some("token=abc==, ip=1.2.3.4,,port=9001")).expect("parse");
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed["token"], "abc==");
        assert_eq!(parsed["ip"], "1.2.3.4");
        assert!(parse_pairs("storageoptions", None).expect("none").is_empty());
        assert_eq!(
            parse_pairs("project-mappings", Some("a=b,c")).unwrap_err().to_string(),
            "invalid --project-mappings entry \"c\": expected key=value"
        );
        assert!(parse_pairs("project-mappings", Some("=b")).is_err());
    }

    #[test]
    fn rows_tolerate_malformed_pairs() {
        let pairs = [
            json!({"metadata": {"name": "ok", "namespace": "a", "creationTimestamp": "2024-10-24T16:06:00Z"},
                   "status": {"storageStatus": "NotProvided", "schedulerStatus": "Ready"}}),
            json!({"metadata": {"name": "odd", "namespace": "b"}, "status": {"storageStatus": 7, "schedulerStatus": {"x": 1}}}),
            json!({"metadata": {"name": "nostatus", "namespace": "c"}, "status": "broken"}),
        ];
        let rows = table_rows(&pairs, true, &TimeZone::UTC);
        assert_eq!(rows[1], ["a", "ok", "NotProvided", "Ready", "24 Oct 24 16:06 UTC"]);
        assert_eq!(rows[2], ["b", "odd", "7", "", ""]);
        assert_eq!(rows[3], ["c", "nostatus", "", "", ""]);
    }

    #[test]
    fn sync_pairs_keep_empty_options() {
        let pair = pair_object("p", "ns", PairKubeconfig::default(), BTreeMap::new(), BTreeMap::new());
        let value = to_value_with_options(&pair).expect("value");
        assert_eq!(value["spec"]["options"], json!({}));
        assert!(value["spec"].get("platformOptions").is_none());
        assert_eq!(value["metadata"]["namespace"], "ns");
        assert_eq!(value["kind"], "ClusterPair");
    }
}
