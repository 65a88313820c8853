//! Output: kubectl-style tables, Go `time.RFC822` cells, and `-o yaml|json`.

use std::str::FromStr;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Map, Value};
use thiserror::Error;

/// What Stork prints for an empty result (followed by a newline, on stdout).
pub const NO_RESOURCES: &str = "No resources found.";

#[derive(Debug, Error)]
pub enum PrinterError {
    #[error("unsupported output type {0}")]
    UnsupportedOutput(String),
    #[error("cannot render YAML: {0}")]
    Yaml(#[from] serde_saphyr::ser::Error),
    #[error("cannot render JSON: {0}")]
    Json(#[from] serde_json::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    /// The table plus more columns at the end (every `get`).
    Wide,
    Yaml,
    Json,
}

impl FromStr for OutputFormat {
    type Err = PrinterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" | "table" => Ok(Self::Table),
            "wide" => Ok(Self::Wide),
            "yaml" => Ok(Self::Yaml),
            "json" => Ok(Self::Json),
            other => Err(PrinterError::UnsupportedOutput(other.to_string())),
        }
    }
}

/// Lays out `rows` (the first one being the header) as Go's text/tabwriter does for kubectl (minwidth 6,
/// padding 3, pad ' ', no flags): a column is as wide as its widest cell plus 3, at least 6; the last
/// column is not padded, so an empty last cell leaves the padding of the cells before it as trailing
/// spaces. Go measures cells in runes, hence `chars().count()`.
///
/// Not the `tabwriter` crate: it pads to `max(minwidth, cell) + padding`, which makes narrow columns
/// (e.g. `DAILY` in Stork's schedule policy table) one space wider than Go's `max(minwidth, cell + padding)`.
pub fn format_table(rows: &[Vec<String>]) -> String {
    const MIN_WIDTH: usize = 6;
    const PADDING: usize = 3;
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns.saturating_sub(1))
        .map(|col| {
            let widest = rows.iter().filter_map(|r| r.get(col)).map(|c| c.chars().count()).max().unwrap_or(0);
            (widest + PADDING).max(MIN_WIDTH)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        for (col, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if let Some(&width) = widths.get(col).filter(|_| col + 1 < row.len()) {
                out.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

/// `-o wide`: the table `rows` (header first, then one row per value) with `header` appended to the
/// header and `cells(value)` to each value's row.
pub fn widen(
    mut rows: Vec<Vec<String>>,
    values: &[Value],
    header: &[&str],
    cells: impl Fn(&Value) -> Vec<String>,
) -> Vec<Vec<String>> {
    if let Some(first) = rows.first_mut() {
        first.extend(header.iter().map(|h| h.to_string()));
    }
    for (row, value) in rows.iter_mut().skip(1).zip(values) {
        row.extend(cells(value));
    }
    rows
}

/// Go's `t.Format(time.RFC822)` (`02 Jan 06 15:04 MST`) in `tz`, as Stork's `toTimeString` prints
/// timestamps (metav1 decodes them into the local zone).
pub fn format_rfc822(ts: Timestamp, tz: &TimeZone) -> String {
    ts.to_zoned(tz.clone()).strftime("%d %b %y %H:%M %Z").to_string()
}

/// A `metadata.creationTimestamp`-style cell: empty when absent or unparsable (Go's zero time prints as "").
pub fn time_cell(value: Option<&Value>, tz: &TimeZone) -> String {
    value
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<Timestamp>().ok())
        .map(|ts| format_rfc822(ts, tz))
        .unwrap_or_default()
}

/// A text cell read leniently from `value` at a JSON `pointer`: strings verbatim, numbers and booleans as
/// written, anything else (absent, null, objects) empty. An object whose status holds something
/// unexpected still gets a row instead of failing the whole listing.
pub fn cell(value: &Value, pointer: &str) -> String {
    match value.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
        _ => String::new(),
    }
}

/// A timestamp field (RFC 3339), `None` when absent or unparsable (Go's zero time).
pub fn timestamp(value: &Value, pointer: &str) -> Option<Timestamp> {
    value.pointer(pointer).and_then(Value::as_str).and_then(|s| s.parse::<Timestamp>().ok())
}

/// kubectl's wrapper for several objects.
pub fn list(items: Vec<Value>) -> Value {
    let mut map = Map::new();
    map.insert("apiVersion".into(), Value::from("v1"));
    map.insert("items".into(), Value::Array(items));
    map.insert("kind".into(), Value::from("List"));
    Value::Object(map)
}

/// JSON as kubectl prints it: keys sorted, four-space indent, final newline.
pub fn to_json(value: &Value) -> Result<String, PrinterError> {
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    serde::Serialize::serialize(&sorted(value), &mut ser)?;
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    text.push('\n');
    Ok(text)
}

/// YAML as kubectl prints it (keys sorted), without folding: certificate data and tokens are long
/// single-line strings that must stay plain for diffing and for tools that read the output line by line.
pub fn to_yaml(value: &Value) -> Result<String, PrinterError> {
    let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
    Ok(serde_saphyr::to_string_with_options(&sorted(value), options)?)
}

/// Go marshals maps with sorted keys; serde_json may keep insertion order (feature `preserve_order`,
/// enabled by anything in the dependency graph), so sort explicitly.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&map[k]))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    const HEADER: [&str; 4] = ["NAME", "STORAGE-STATUS", "SCHEDULER-STATUS", "CREATED"];

    #[test]
    fn golden_g1_single_pair_without_status_or_timestamp() {
        let table = format_table(&[row(&HEADER), row(&["getclusterpairtest", "", "", ""])]);
        let expected = "NAME                 STORAGE-STATUS   SCHEDULER-STATUS   CREATED\n\
                        getclusterpairtest                                       \n";
        assert_eq!(table, expected);
        assert_eq!(table.lines().nth(1).map(|l| l.len() - l.trim_end().len()), Some(39));
    }

    #[test]
    fn golden_g2_all_namespaces() {
        let mut rows = vec![row(&["NAMESPACE", "NAME", "STORAGE-STATUS", "SCHEDULER-STATUS", "CREATED"])];
        for (ns, name) in
            [("test", "getclusterpairtest"), ("test", "getclusterpairtest2"), ("test1", "getclusterpairtest")]
        {
            rows.push(row(&[ns, name, "", "", ""]));
        }
        let expected = "NAMESPACE   NAME                  STORAGE-STATUS   SCHEDULER-STATUS   CREATED\n\
                        test        getclusterpairtest                                        \n\
                        test        getclusterpairtest2                                       \n\
                        test1       getclusterpairtest                                        \n";
        assert_eq!(format_table(&rows), expected);
    }

    #[test]
    fn golden_g3_seed_pair_with_status_and_pdt_time() {
        let tz = TimeZone::get("America/Los_Angeles").expect("tzdb has America/Los_Angeles");
        // 2019-04-09 18:16 PDT (UTC-7).
        let created: Timestamp = "2019-04-10T01:16:37Z".parse().expect("timestamp");
        let cell = time_cell(Some(&Value::from(created.to_string())), &tz);
        assert_eq!(cell, "09 Apr 19 18:16 PDT");
        let table = format_table(&[row(&HEADER), row(&["remotecluster", "NotProvided", "Ready", &cell])]);
        let expected = "NAME            STORAGE-STATUS   SCHEDULER-STATUS   CREATED\n\
                        remotecluster   NotProvided      Ready              09 Apr 19 18:16 PDT\n";
        assert_eq!(table, expected);
    }

    #[test]
    fn narrow_columns_use_go_minimum_width() {
        // G9 of Stork's schedule policy table: "DAILY" is 5 wide, so its column is 8 (not 9).
        let rows = [
            row(&["NAME", "INTERVAL-MINUTES", "DAILY", "WEEKLY", "MONTHLY"]),
            row(&["testpolicy1", "N/A", "N/A", "N/A", "N/A"]),
        ];
        let expected = "NAME          INTERVAL-MINUTES   DAILY   WEEKLY   MONTHLY\n\
                        testpolicy1   N/A                N/A     N/A      N/A\n";
        assert_eq!(format_table(&rows), expected);
        // Minimum width 6 for a one-character column.
        assert_eq!(format_table(&[row(&["A", "B"]), row(&["x", "y"])]), "A     B\nx     y\n");
    }

    #[test]
    fn time_cells() {
        let utc = TimeZone::UTC;
        assert_eq!(time_cell(Some(&Value::from("2024-10-24T16:06:00Z")), &utc), "24 Oct 24 16:06 UTC");
        assert_eq!(time_cell(None, &utc), "");
        assert_eq!(time_cell(Some(&Value::Null), &utc), "");
        assert_eq!(time_cell(Some(&Value::from("yesterday")), &utc), "");
        // Winter in Los Angeles is PST.
        let la = TimeZone::get("America/Los_Angeles").expect("tz");
        assert_eq!(format_rfc822("2024-01-02T03:04:05Z".parse().expect("ts"), &la), "01 Jan 24 19:04 PST");
    }

    #[test]
    fn lenient_cells() {
        let v = serde_json::json!({"a": "x", "n": 7, "b": false, "o": {"k": 1}, "z": null});
        assert_eq!(cell(&v, "/a"), "x");
        assert_eq!(cell(&v, "/n"), "7");
        assert_eq!(cell(&v, "/b"), "false");
        assert_eq!(cell(&v, "/o"), "");
        assert_eq!(cell(&v, "/z"), "");
        assert_eq!(cell(&v, "/missing/deeper"), "");
    }

    #[test]
    fn output_formats() {
        assert_eq!("".parse::<OutputFormat>().ok(), Some(OutputFormat::Table));
        assert_eq!("yaml".parse::<OutputFormat>().ok(), Some(OutputFormat::Yaml));
        assert_eq!("json".parse::<OutputFormat>().ok(), Some(OutputFormat::Json));
        assert_eq!("wide".parse::<OutputFormat>().ok(), Some(OutputFormat::Wide));
        assert_eq!("name".parse::<OutputFormat>().unwrap_err().to_string(), "unsupported output type name");
    }

    #[test]
    fn yaml_keeps_long_strings_plain_and_sorts_keys() {
        let long = "QUJD".repeat(100);
        let value = serde_json::json!({"z": "", "a": {"data": long, "empty": {}, "nothing": null, "t": "true"}});
        let yaml = to_yaml(&value).expect("yaml");
        assert_eq!(yaml, format!("a:\n  data: {long}\n  empty: {{}}\n  nothing: null\n  t: \"true\"\nz: \"\"\n"));
        let back: Value = serde_saphyr::from_str(&yaml).expect("parse back");
        assert_eq!(back, value);
    }

    #[test]
    fn json_is_indented_by_four() {
        let text = to_json(&serde_json::json!({"b": 1, "a": [true]})).expect("json");
        assert_eq!(text, "{\n    \"a\": [\n        true\n    ],\n    \"b\": 1\n}\n");
    }
}
