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

/// A time of day in Go's Kitchen layout as Stork reads it (`3:04PM` or `3:04pm`; hours 0 to 12).
pub fn kitchen_time(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "pattern": "^(0?[0-9]|1[0-2]):[0-5][0-9]([AP]M|[ap]m)$",
    })
}

/// The day names Stork accepts.
const DAYS: &str = "Sunday|Sun|sunday|sun|Monday|Mon|monday|mon|Tuesday|Tue|tuesday|tue|Wednesday|Wed|wednesday|wed|\
Thursday|Thu|Thur|Thurs|thursday|thu|thur|thurs|Friday|Fri|friday|fri|Saturday|Sat|saturday|sat";

pub fn day_of_week(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "pattern": format!("^({DAYS})$"),
    })
}

/// A day name, or empty.
pub fn optional_day_of_week(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "pattern": format!("^({DAYS})?$"),
    })
}

pub fn interval_minutes(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "integer",
        "format": "int64",
        "minimum": 1,
    })
}

pub fn day_of_month(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "integer",
        "format": "int64",
        "minimum": 1,
        "maximum": 31,
    })
}

/// Leaves out the `default` schemars derives from `#[serde(default)]`: the API server refuses a CRD whose
/// default does not satisfy its own schema, and a policy time or interval must be given, not defaulted.
pub fn no_default(schema: &mut Schema) {
    schema.remove("default");
}
