//! Reports that scale: counts always, a bounded per-resource list for status (failures first), and the
//! complete list compressed for a ConfigMap beside it when the bounded one is cut.

use std::io::Write as _;

use stork_api::{MigrationResourceInfo, MigrationStatusType};

use super::model::{Entry, EntryResult};

/// At most this many entries in `status.resources` (about 200 bytes each): enough to read, cheap to write on
/// every migration; the complete list goes to the details ConfigMap.
pub const MAX_STATUS_RESOURCES: usize = 250;

/// Longest reason of one entry: a prefix saying what failed and the server's bounded message.
pub const MAX_REASON: usize = stork_kube::MAX_MESSAGE + 64;

pub fn resource_info(entry: &Entry) -> MigrationResourceInfo {
    let (status, reason) = match &entry.result {
        EntryResult::Created => {
            (MigrationStatusType::Successful, "Resource migrated successfully (created)".to_string())
        }
        EntryResult::Updated => {
            (MigrationStatusType::Successful, "Resource migrated successfully (updated)".to_string())
        }
        EntryResult::Unchanged => {
            (MigrationStatusType::Successful, "Resource unchanged on the destination".to_string())
        }
        EntryResult::Kept => (
            MigrationStatusType::Successful,
            "Resource left as it is: it exists on the destination and was not written by stork-rs (cluster-scoped \
             objects are only updated where a migration wrote them)"
                .to_string(),
        ),
        EntryResult::Failed(reason) => (MigrationStatusType::Failed, stork_kube::bounded(reason, MAX_REASON)),
        EntryResult::Purged => {
            (MigrationStatusType::Purged, "Resource deleted: it is no longer on the source".to_string())
        }
    };
    MigrationResourceInfo {
        name: entry.id.name.clone(),
        namespace: entry.id.namespace.clone(),
        group: entry.id.key.status_group().to_string(),
        version: entry.id.key.version.clone(),
        kind: entry.id.key.kind.clone(),
        status,
        reason: match entry.unmatched {
            0 => reason,
            n => format!(
                "{reason}; transformation {}: {n} path(s) matched nothing in it (its status names them)",
                entry.transformed_by
            ),
        },
        transformed_by: entry.transformed_by.clone(),
    }
}

/// The entries for `status.resources`, at most `MAX_STATUS_RESOURCES`: failures first, then what the
/// migration wrote. When not everything fits, unchanged objects are left out altogether: they are in
/// the counts and in the details ConfigMap, and a list of what did happen reads better than an arbitrary
/// slice of what did not (a no-change run of thousands of objects then writes a small status). The
/// flag says whether any entry was left out.
pub fn bounded(entries: &[Entry]) -> (Vec<MigrationResourceInfo>, bool) {
    let rank = |entry: &Entry| match entry.result {
        EntryResult::Failed(_) => 0,
        EntryResult::Created | EntryResult::Updated | EntryResult::Purged | EntryResult::Kept => 1,
        EntryResult::Unchanged => 2,
    };
    let mut ranked: Vec<&Entry> = entries.iter().collect();
    ranked.sort_by_key(|e| rank(e));
    let truncated = entries.len() > MAX_STATUS_RESOURCES;
    let infos = ranked
        .into_iter()
        .filter(|e| !truncated || e.result != EntryResult::Unchanged)
        .take(MAX_STATUS_RESOURCES)
        .map(resource_info)
        .collect();
    (infos, truncated)
}

/// Every entry as gzip-compressed JSON lines. The lines are built first and compressed in one pass at
/// the fast level: thousands of small writes into the encoder cost ten times more, and lines this
/// repetitive compress about as well either way.
pub fn compressed_details(entries: &[Entry]) -> std::io::Result<Vec<u8>> {
    let mut lines = Vec::with_capacity(entries.len() * 200);
    for entry in entries {
        serde_json::to_writer(&mut lines, &resource_info(entry))?;
        lines.push(b'\n');
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&lines)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{ObjectId, TypeKey};
    use std::sync::Arc;

    fn entry(i: usize, result: EntryResult) -> Entry {
        let key = Arc::new(TypeKey::builtin("", "v1", "ConfigMap", "configmaps", true));
        Entry::new(ObjectId::new(&key, "ns", &format!("cm-{i}")), result)
    }

    #[test]
    fn status_list_is_bounded_with_failures_first() {
        let mut entries: Vec<Entry> = (0..20_000).map(|i| entry(i, EntryResult::Created)).collect();
        entries.push(entry(99_999, EntryResult::Failed("denied".into())));
        let (infos, truncated) = bounded(&entries);
        assert!(truncated);
        assert_eq!(infos.len(), MAX_STATUS_RESOURCES);
        assert_eq!(infos[0].status, MigrationStatusType::Failed);
        assert_eq!(infos[0].group, "core");
        let size = serde_json::to_vec(&infos).map(|v| v.len()).unwrap_or(usize::MAX);
        assert!(size < 300_000, "status list is {size} bytes");
        let details = compressed_details(&entries).expect("gzip");
        let mut quiet: Vec<Entry> = (0..2_000).map(|i| entry(i, EntryResult::Unchanged)).collect();
        quiet.push(entry(5_000, EntryResult::Updated));
        let (infos, truncated) = bounded(&quiet);
        assert!(truncated);
        assert_eq!(infos.len(), 1, "unchanged objects are left out when the list is cut");
        let (infos, truncated) = bounded(&quiet[..10]);
        assert!(!truncated);
        assert_eq!(infos.len(), 10, "a list that fits keeps every entry");
        assert!(details.len() < 900_000, "20,000 entries compress to {} bytes, must fit a ConfigMap", details.len());

        // However long the servers' messages, the status stays far below etcd's 1.5 MiB.
        let page = format!("<html><body>{}</body></html>", "proxy error ".repeat(10_000));
        let failures: Vec<Entry> = (0..5_000).map(|i| entry(i, EntryResult::Failed(page.clone()))).collect();
        let (infos, _) = bounded(&failures);
        assert!(infos.iter().all(|i| i.reason.len() <= MAX_REASON));
        let size = serde_json::to_vec(&infos).map(|v| v.len()).unwrap_or(usize::MAX);
        assert!(size < 400_000, "status list of failures is {size} bytes");
    }
}
