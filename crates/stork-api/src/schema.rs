//! Schema fragments that schemars cannot derive from a Rust type alone.

use schemars::{Schema, SchemaGenerator, json_schema};

/// An object whose content is kept as given (kubeconfig extensions, exec plugin config, ...).
pub fn preserve_unknown_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

/// A map of name to free-form object.
pub fn map_of_preserved_objects(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": true,
        },
    })
}

/// Base64 data, checked by the API server at admission (`format: byte`).
pub fn base64_bytes(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "format": "byte",
    })
}
