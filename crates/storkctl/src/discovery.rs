//! Resource types named on the command line (`--exclude-resource-types deploy,Secret`) resolved the way
//! Stork's storkctl resolves them: against the server's preferred resources, core group first, each entry
//! matching a plural name, kind, singular name or short name case-insensitively, stored as the Kind (the
//! engine matches `excludeResourceTypes` against kinds).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResource;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum DiscoveryError {
    #[error("error getting k8s resource type for input resourcetype: {0}")]
    Unknown(String),
    #[error("error getting API resources: {0}")]
    List(String),
}

/// The preferred version's resources of every group, core first, in the server's group order
/// (client-go's `ServerPreferredResources`, subresources left out).
pub async fn preferred_resources(client: &kube::Client) -> Result<Vec<APIResource>, DiscoveryError> {
    let failed = |e: kube::Error| DiscoveryError::List(crate::client::api_text(&e));
    let mut out: Vec<APIResource> = client.list_core_api_resources("v1").await.map_err(failed)?.resources;
    for group in client.list_api_groups().await.map_err(failed)?.groups {
        let Some(version) = group.preferred_version.as_ref().or(group.versions.first()) else {
            continue;
        };
        // Unlike Stork, a group that does not answer (an aggregated API whose backend is down) is
        // skipped rather than failing the command: the type asked for is almost never in it, and an
        // entry that is would still be reported as unknown.
        if let Ok(list) = client.list_api_group_resources(&version.group_version).await {
            out.extend(list.resources);
        }
    }
    out.retain(|r| !r.name.contains('/'));
    Ok(out)
}

/// The Kind of each entry, in order; the first entry nothing matches is the error. Empty entries (a
/// trailing comma) name nothing and are dropped, as cobra drops them.
pub fn resolve_kinds(entries: &[String], resources: &[APIResource]) -> Result<Vec<String>, DiscoveryError> {
    entries
        .iter()
        .filter(|e| !e.is_empty())
        .map(|entry| {
            let wanted = entry.to_lowercase();
            resources
                .iter()
                .find(|r| {
                    wanted == r.name.to_lowercase()
                        || wanted == r.kind.to_lowercase()
                        || wanted == r.singular_name.to_lowercase()
                        || r.short_names.as_deref().unwrap_or_default().contains(&wanted)
                })
                .map(|r| r.kind.clone())
                .ok_or_else(|| DiscoveryError::Unknown(entry.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(name: &str, kind: &str, singular: &str, short: &[&str]) -> APIResource {
        APIResource {
            name: name.into(),
            kind: kind.into(),
            singular_name: singular.into(),
            short_names: (!short.is_empty()).then(|| short.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    fn served() -> Vec<APIResource> {
        vec![
            resource("persistentvolumeclaims", "PersistentVolumeClaim", "persistentvolumeclaim", &["pvc"]),
            resource("secrets", "Secret", "secret", &[]),
            resource("deployments", "Deployment", "deployment", &["deploy"]),
            resource("migrations", "Migration", "migration", &[]),
        ]
    }

    #[test]
    fn every_name_form_resolves_to_the_kind() {
        let entries: Vec<String> =
            ["Deployment", "pvc", "SECRETS", "deployment", "deploy", "Migration", ""].map(String::from).to_vec();
        assert_eq!(
            resolve_kinds(&entries, &served()),
            Ok(["Deployment", "PersistentVolumeClaim", "Secret", "Deployment", "Deployment", "Migration"]
                .map(String::from)
                .to_vec())
        );
    }

    #[test]
    fn an_unknown_type_is_storks_message() {
        let entries = vec!["Secret".to_string(), "Deployments2".to_string(), "nope".to_string()];
        let err = resolve_kinds(&entries, &served()).unwrap_err();
        assert_eq!(err.to_string(), "error getting k8s resource type for input resourcetype: Deployments2");
        // Short names are compared with the lower-cased entry, as Stork does.
        let upper = vec!["PVC".to_string()];
        assert_eq!(resolve_kinds(&upper, &served()), Ok(vec!["PersistentVolumeClaim".to_string()]));
    }
}
