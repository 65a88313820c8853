//! What every `get` command shares: fetching objects of one kind the way Stork's storkctl walks
//! namespaces, and printing them as a table or as `-o yaml|json`.

use std::io::Write;

use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::core::TypeMeta;
use serde_json::Value;
use thiserror::Error;

use crate::printer::{self, OutputFormat};

#[derive(Debug, Error)]
pub enum GetError {
    #[error("a resource cannot be retrieved by name across all namespaces")]
    NamesAcrossNamespaces,
}

/// Refused before any client is built, so the message does not depend on having a cluster. Stork
/// would look the name up in every namespace and fail with NotFound unless it exists in all of them.
pub fn check_names(names: &[String], all_namespaces: bool) -> Result<(), GetError> {
    if all_namespaces && !names.is_empty() { Err(GetError::NamesAcrossNamespaces) } else { Ok(()) }
}

/// The named objects in `namespace`, in the order given (the first missing one is the API's NotFound),
/// or, without names, every object of the namespace (or of all namespaces) sorted by namespace, then
/// name. Each is returned as `-o yaml|json` shows it.
pub async fn fetch(
    client: kube::Client,
    ar: &ApiResource,
    namespace: &str,
    names: &[String],
    all_namespaces: bool,
) -> anyhow::Result<Vec<Value>> {
    let mut objects = Vec::new();
    if names.is_empty() {
        let api: Api<DynamicObject> =
            if all_namespaces { Api::all_with(client, ar) } else { Api::namespaced_with(client, namespace, ar) };
        objects = api.list(&ListParams::default()).await?.items;
        // Stork walks namespaces in name order; etcd's key order differs when one namespace name is a
        // prefix of another followed by a character below '/' (e.g. "test-x" before "test").
        objects.sort_by(|a, b| {
            (a.metadata.namespace.as_deref(), a.metadata.name.as_deref())
                .cmp(&(b.metadata.namespace.as_deref(), b.metadata.name.as_deref()))
        });
    } else {
        let api: Api<DynamicObject> = Api::namespaced_with(client, namespace, ar);
        for name in names {
            objects.push(api.get(name).await?);
        }
    }
    Ok(objects.into_iter().map(|o| printable(o, ar)).collect::<Result<_, _>>()?)
}

/// [`fetch`] for a cluster-scoped kind (SchedulePolicy): the named objects in the order given, or all
/// of them sorted by name.
pub async fn fetch_cluster_scoped(
    client: kube::Client,
    ar: &ApiResource,
    names: &[String],
) -> anyhow::Result<Vec<Value>> {
    let api: Api<DynamicObject> = Api::all_with(client, ar);
    let mut objects = Vec::new();
    if names.is_empty() {
        objects = api.list(&ListParams::default()).await?.items;
        objects.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    } else {
        for name in names {
            objects.push(api.get(name).await?);
        }
    }
    Ok(objects.into_iter().map(|o| printable(o, ar)).collect::<Result<_, _>>()?)
}

/// Prints `values` in `format`: `No resources found.` for an empty table, the rows built by `rows`
/// otherwise; for yaml/json the object itself when exactly one name was asked for, else a List.
pub fn print(
    out: &mut dyn Write,
    format: OutputFormat,
    values: Vec<Value>,
    names_asked: usize,
    rows: impl FnOnce(&[Value]) -> Vec<Vec<String>>,
) -> anyhow::Result<()> {
    match format {
        // `rows` decides what wide adds; commands without a wide form print their table.
        OutputFormat::Table | OutputFormat::Wide if values.is_empty() => writeln!(out, "{}", printer::NO_RESOURCES)?,
        OutputFormat::Table | OutputFormat::Wide => out.write_all(printer::format_table(&rows(&values)).as_bytes())?,
        OutputFormat::Yaml | OutputFormat::Json => {
            // One name asked for prints the object itself; anything else is a List, as with kubectl.
            let value = match (names_asked, values.as_slice()) {
                (1, [single]) => single.clone(),
                _ => printer::list(values),
            };
            let text = if format == OutputFormat::Json { printer::to_json(&value)? } else { printer::to_yaml(&value)? };
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

/// The object as `-o yaml|json` shows it: with apiVersion/kind, without managedFields (as kubectl).
fn printable(mut obj: DynamicObject, ar: &ApiResource) -> Result<Value, serde_json::Error> {
    obj.types = Some(TypeMeta { api_version: ar.api_version.clone(), kind: ar.kind.clone() });
    obj.metadata.managed_fields = None;
    serde_json::to_value(obj)
}
