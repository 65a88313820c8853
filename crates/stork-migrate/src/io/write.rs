//! Writes on the destination: one prepared copy at a time by server-side apply (which also creates
//! missing objects, so a copy is owned from its first write as every later apply needs), and deletes.

use kube::api::ApiResource;
use serde::Deserialize;
use serde_json::Value;
use stork_api::annotations::FIELD_MANAGER;
use stork_kube::{Cluster, RequestError};

use crate::core::model::ObjectId;
use crate::core::plan::{Baseline, CopyRecord};
use crate::core::prepare::without_node_ports;

/// A copy ready to be written.
#[derive(Debug)]
pub struct Ready {
    pub id: ObjectId,
    /// Missing on the destination when planned.
    pub create: bool,
    /// The JSON to apply.
    pub body: Vec<u8>,
    pub transformed: crate::core::plan::Transformed,
    pub why: Option<crate::core::model::UpdateReason>,
}

/// Applies `ready`; returns the copy's baseline as the server stored it (from the answer's metadata only:
/// the rest of the answer is skipped, not parsed).
/// With `dry_run`, the destination checks the write (admission included) and keeps nothing.
pub async fn apply(
    cluster: &Cluster,
    ar: &ApiResource,
    ready: &Ready,
    dry_run: bool,
) -> Result<Option<Baseline>, RequestError> {
    let id = &ready.id;
    let result = cluster.apply(ar, id.scope(), &id.name, &ready.body, FIELD_MANAGER, dry_run).await;
    let answer = match result {
        Err(e) if node_ports_taken(id, &e) => {
            // The destination has these node ports taken: let it choose others rather than fail.
            let body: Value = serde_json::from_slice(&ready.body).unwrap_or(Value::Null);
            let body = serde_json::to_vec(&without_node_ports(&body)).unwrap_or_default();
            cluster.apply(ar, id.scope(), &id.name, &body, FIELD_MANAGER, dry_run).await?
        }
        other => other?,
    };
    Ok(baseline_of(&answer))
}

fn node_ports_taken(id: &ObjectId, e: &RequestError) -> bool {
    id.key.is("", "Service") && e.message.contains("provided port is already allocated")
}

/// What the answer to a write says about the copy's field ownership.
pub fn baseline_of(answer: &str) -> Option<Baseline> {
    #[derive(Deserialize)]
    struct Answer {
        metadata: Value,
    }
    let answer: Answer = serde_json::from_str(answer).ok()?;
    CopyRecord::from_metadata(&answer.metadata, FIELD_MANAGER, false).baseline()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_to_a_write_is_the_copys_baseline() {
        let answer = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","uid":"u1","managedFields":[
            {"manager":"stork-rs","operation":"Apply","time":"2026-01-01T00:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:k":{}}}}]},
            "data":{"k":"v"}}"#;
        let baseline = baseline_of(answer).expect("ours");
        assert_eq!(baseline.uid, "u1");
        let listed = CopyRecord::from_metadata(
            &serde_json::json!({"uid": "u1", "managedFields": [{"manager": "stork-rs", "operation": "Apply",
                "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:k": {}}}}]}),
            FIELD_MANAGER,
            false,
        );
        assert_eq!(listed.baseline(), Some(baseline), "the same copy listed later matches");
        assert_eq!(baseline_of("{}"), None);
        assert_eq!(baseline_of(r#"{"metadata":{"uid":"u"}}"#), None, "not written by stork-rs");
    }
}
