//! The alert rules pass `promtool check rules` and their unit tests (`promtool test rules`), every alert
//! has a test, the Helm chart carries the same rules, and the Grafana dashboard is well-formed JSON
//! whose queries parse. (That the metrics they use are exported is checked after a real run, in
//! helm_chart.rs.)

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::promql;

fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy").join(path)
}

fn promtool(args: &[&str]) -> String {
    let promtool = testenv::tools::locate("promtool").expect("promtool");
    let out = Command::new(&promtool).args(args).current_dir(deploy("prometheus")).output().expect("run promtool");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

fn yaml(path: &Path) -> serde_json::Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).expect("read")).expect("YAML")
}

#[test]
fn the_rules_pass_promtool_and_every_alert_has_a_unit_test() {
    let checked = promtool(&["check", "rules", "stork-rs-rules.yaml"]);
    assert!(checked.contains("SUCCESS: 8 rules found"), "{checked}");
    promtool(&["test", "rules", "stork-rs-rules.test.yaml"]);

    let rules = yaml(&deploy("prometheus/stork-rs-rules.yaml"));
    let alerts: BTreeSet<String> =
        promql::rules(&rules).iter().filter_map(|r| r["alert"].as_str().map(String::from)).collect();
    let tests = yaml(&deploy("prometheus/stork-rs-rules.test.yaml"));
    let tested: BTreeSet<String> = tests["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .flat_map(|t| t["alert_rule_test"].as_array().cloned().unwrap_or_default())
        .filter(|t| t["exp_alerts"].as_array().is_some_and(|a| !a.is_empty()))
        .filter_map(|t| t["alertname"].as_str().map(String::from))
        .collect();
    let untested: Vec<_> = alerts.difference(&tested).collect();
    assert!(untested.is_empty(), "alerts without a test that makes them fire: {untested:?}");
    assert_eq!(alerts.len(), 8);
}

#[test]
fn the_chart_carries_the_same_rules() {
    let shipped = std::fs::read_to_string(deploy("prometheus/stork-rs-rules.yaml")).expect("rules");
    let chart = std::fs::read_to_string(deploy("helm/stork-rs/files/stork-rs-rules.yaml")).expect("chart rules");
    assert!(
        shipped == chart,
        "deploy/helm/stork-rs/files/stork-rs-rules.yaml differs from deploy/prometheus/stork-rs-rules.yaml; copy it over"
    );
}

#[test]
fn the_dashboard_queries_stork_metrics() {
    let text = std::fs::read_to_string(deploy("grafana/stork-rs.json")).expect("dashboard");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("dashboard JSON");
    assert_eq!(dashboard["uid"], "stork-rs");
    let exprs = promql::dashboard_exprs(&dashboard);
    assert!(exprs.len() >= 15, "{exprs:?}");
    for expr in &exprs {
        let names = promql::metric_names(expr);
        assert!(!names.is_empty() && names.iter().all(|n| n.starts_with("stork_")), "{expr}: {names:?}");
    }
}

#[test]
fn promql_names_are_read_out_of_functions_aggregations_and_matchers() {
    let expr = r#"histogram_quantile(0.99, sum by (controller, le) (rate(stork_x_bucket{kind!="a b"}[5m]))) > 3 * stork_y or vector(0)"#;
    assert_eq!(promql::metric_names(expr).into_iter().collect::<Vec<_>>(), ["stork_x_bucket", "stork_y"]);
    let absent = promql::metric_names("absent(max(stork_leader) == 1)");
    assert_eq!(absent.into_iter().collect::<Vec<_>>(), ["stork_leader"]);
}
