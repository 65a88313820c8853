//! Migrations end to end on real clusters: a realistic application lands complete and idle on the
//! destination; unchanged re-migrations write nothing; changes and drift are written exactly; purge
//! deletes only what stork-rs created; an object the destination rejects fails alone.

mod common;

use std::time::{Duration, Instant};

use common::*;
use stork_api::MigrationStatusType as M;
use testenv::TestCluster;

const SPEC: &str = "  clusterPair: remotecluster\n  namespaces: [shop, blog]\n  includeOptionalResourceTypes: [Job]";
const MIGRATED_KINDS: &str =
    "deploy,sts,svc,cm,secret,sa,role,rolebinding,pvc,cronjob,job,ingress,networkpolicy,hpa,pdb,widgets";
/// Kinds nobody on the destination writes after us (no status writers there): any resourceVersion
/// change is a write of ours.
const QUIET_KINDS: &str = "cm,secret,sa,role,rolebinding,networkpolicy,ingress,widgets";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_migrates_complete_idle_and_incrementally() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let stork = Stork::start(&source, &[]);
    ready_pair(&source, &destination, "kube-system", &stork).await;
    let (ok, out) = kubectl(&source, &["apply", "-f", &fixture("app.yaml").display().to_string()]);
    assert!(ok, "{out}");
    let (ok, out) = kubectl(&source, &["wait", "--for=condition=Established", "crd/widgets.example.com"]);
    assert!(ok, "{out}");
    let (ok, out) = kubectl(&source, &["apply", "-f", &fixture("widgets.yaml").display().to_string()]);
    assert!(ok, "{out}");
    bind_claim(&source, "shop", "data", "shared-data").await;

    let status = migrate(&source, "kube-system", "first", SPEC, &stork).await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    let counts = status.resource_counts.clone().expect("counts");
    assert_eq!(counts.failed, 0);
    assert_eq!(counts.created, counts.total, "{counts:?}");
    assert_eq!(status.migration_type, "Incremental");
    let (_, metrics) = stork.get("/metrics").expect("metrics");
    assert!(
        metrics.contains(r#"stork_migration_status{name="first",namespace="kube-system",schedule=""} 5"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"stork_migration_stage{name="first",namespace="kube-system",schedule=""} 5"#),
        "{metrics}"
    );

    // Workloads are idle, with the source's replicas remembered in Stork's annotation.
    let web = kget(&destination, Some("shop"), "deployment", "web").expect("deployment web");
    assert_eq!(web["spec"]["replicas"], 0);
    assert_eq!(web["metadata"]["annotations"]["stork.libopenstorage.org/migrationReplicas"], "3");
    assert_eq!(web["metadata"]["labels"]["stork.libopenstorage.org/migrated"], "true");
    assert_eq!(web["metadata"]["annotations"]["stork.libopenstorage.org/migrationName"], "first");
    let src_web = kget(&source, Some("shop"), "deployment", "web").expect("source web");
    assert_eq!(web["spec"]["template"], src_web["spec"]["template"], "pod template copied as is");
    let api = kget(&destination, Some("blog"), "deployment", "api").expect("deployment api");
    assert_eq!(api["metadata"]["annotations"]["stork.libopenstorage.org/migrationReplicas"], "2");
    let db = kget(&destination, Some("shop"), "statefulset", "db").expect("statefulset");
    assert_eq!(db["spec"]["replicas"], 0);
    assert_eq!(db["spec"]["serviceName"], "db");

    // Services: the destination's own cluster IPs, node port kept, headless stays headless.
    let src_svc = kget(&source, Some("shop"), "service", "web").expect("svc");
    let svc = kget(&destination, Some("shop"), "service", "web").expect("svc");
    assert_ne!(svc["spec"]["clusterIP"], src_svc["spec"]["clusterIP"]);
    assert_eq!(
        kget(&destination, Some("shop"), "service", "web-nodeport").expect("np")["spec"]["ports"][0]["nodePort"],
        30080
    );
    assert_eq!(kget(&destination, Some("shop"), "service", "db").expect("headless")["spec"]["clusterIP"], "None");
    assert_eq!(kget(&destination, Some("shop"), "service", "web-lb").expect("lb")["spec"]["type"], "LoadBalancer");

    // Configuration and credentials equal; the token Secret is not copied.
    for (ns, kind, name, field) in [
        ("shop", "configmap", "web-config", "data"),
        ("blog", "configmap", "api-config", "data"),
        ("shop", "secret", "db-password", "data"),
    ] {
        let a = kget(&source, Some(ns), kind, name).expect("source");
        let b = kget(&destination, Some(ns), kind, name).unwrap_or_else(|| panic!("{kind} {ns}/{name} missing"));
        assert_eq!(a[field], b[field], "{kind} {ns}/{name}");
    }
    assert!(kget(&destination, Some("shop"), "secret", "app-sa-token").is_none(), "token Secrets are never copied");
    assert!(kget(&destination, Some("shop"), "serviceaccount", "app-sa").is_some());
    assert!(kget(&destination, Some("shop"), "role", "config-reader").is_some());
    assert!(kget(&destination, Some("shop"), "rolebinding", "config-reader").is_some());
    assert!(kget(&destination, None, "clusterrole", "shop-node-reader").is_some());
    let crb = kget(&destination, None, "clusterrolebinding", "shop-node-reader").expect("crb");
    assert_eq!(
        crb["subjects"].as_array().map(Vec::len),
        Some(1),
        "subjects outside the migrated namespaces are dropped: {crb}"
    );

    // Shared storage: the PV is retained (original policy remembered) and the claim binds to it on the
    // destination through its PV binder.
    let pv = kget(&destination, None, "pv", "shared-data").expect("pv");
    assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
    assert_eq!(pv["metadata"]["annotations"]["stork.libopenstorage.org/reclaimPolicy"], "Delete");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pvc = kget(&destination, Some("shop"), "pvc", "data").expect("pvc");
        if pvc["status"]["phase"] == "Bound" {
            break;
        }
        assert!(Instant::now() < deadline, "claim did not bind on the destination: {pvc}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Jobs and CronJobs suspended; the rest present.
    let cron = kget(&destination, Some("shop"), "cronjob", "nightly").expect("cronjob");
    assert_eq!(cron["spec"]["suspend"], true);
    let job = kget(&destination, Some("blog"), "job", "migrate-schema").expect("job");
    assert_eq!(job["spec"]["suspend"], true);
    assert!(job["metadata"]["labels"].get("controller-uid").is_none());
    for (ns, kind, name) in [
        ("shop", "ingress", "web"),
        ("shop", "networkpolicy", "db-from-web"),
        ("shop", "hpa", "web"),
        ("shop", "pdb", "db"),
    ] {
        assert!(kget(&destination, Some(ns), kind, name).is_some(), "{kind} {ns}/{name} missing");
    }
    assert!(kget(&destination, None, "crd", "widgets.example.com").is_some(), "the CRD is copied first");
    let widget = kget(&destination, Some("shop"), "widgets", "big").expect("custom resource");
    assert_eq!(widget["spec"], serde_json::json!({"size": 10, "color": "red"}));
    assert!(kget(&destination, Some("blog"), "widgets", "small").is_some());
    assert_eq!(kget(&destination, None, "namespace", "shop").expect("ns")["metadata"]["labels"]["team"], "shop");

    // Nothing runs on the destination, although its controllers are live.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for ns in ["shop", "blog"] {
        let (ok, out) = kubectl(&destination, &["get", "pods", "-n", ns, "-o", "name"]);
        assert!(ok && out.trim().is_empty(), "pods on the destination in {ns}: {out}");
    }

    // Nothing changed: a second migration writes nothing (no object gets a new writer, and objects nobody
    // else writes keep their resourceVersion).
    let snapshot = || {
        let mut all = written_by(&destination, "shop", MIGRATED_KINDS);
        all.extend(written_by(&destination, "blog", MIGRATED_KINDS).into_iter().map(|(k, v)| (format!("blog:{k}"), v)));
        let mut quiet = versions(&destination, "shop", QUIET_KINDS);
        quiet.extend(versions(&destination, "blog", QUIET_KINDS).into_iter().map(|(k, v)| (format!("blog:{k}"), v)));
        (all, quiet)
    };
    let before = snapshot();
    let status = migrate(&source, "kube-system", "second", SPEC, &stork).await;
    let counts = status.resource_counts.clone().expect("counts");
    assert_eq!((counts.created, counts.updated, counts.unchanged), (0, 0, counts.total), "{counts:?}");
    let after = snapshot();
    assert_eq!(before, after, "an unchanged re-migration must not write");

    // One object changed on the source: exactly one write.
    assert!(
        kubectl(
            &source,
            &["patch", "configmap", "web-config", "-n", "shop", "-p", r#"{"data":{"THREADS":"16","MODE":null}}"#]
        )
        .0
    );
    let status = migrate(&source, "kube-system", "third", SPEC, &stork).await;
    let counts = status.resource_counts.clone().expect("counts");
    assert_eq!((counts.created, counts.updated), (0, 1), "{counts:?}");
    let changed = snapshot();
    let rewritten: Vec<&String> =
        changed.0.iter().filter(|(k, v)| after.0.get(*k) != Some(*v)).map(|(k, _)| k).collect();
    assert_eq!(rewritten, vec!["ConfigMap/web-config"]);
    let moved: Vec<&String> = changed.1.iter().filter(|(k, v)| after.1.get(*k) != Some(*v)).map(|(k, _)| k).collect();
    assert_eq!(moved, vec!["ConfigMap/web-config"]);
    // The copy was made with a plain create; the update must still remove the key the source dropped.
    let web_config = kget(&destination, Some("shop"), "configmap", "web-config").expect("cm");
    assert_eq!(web_config["data"], serde_json::json!({"THREADS": "16"}), "MODE was removed on the source");

    // One object edited on the destination: corrected.
    assert!(
        kubectl(
            &destination,
            &["patch", "configmap", "api-config", "-n", "blog", "-p", r#"{"data":{"feature":"off"}}"#]
        )
        .0
    );
    assert!(kubectl(&destination, &["scale", "deployment", "web", "-n", "shop", "--replicas=4"]).0);
    // A removal leaves no foreign field owner behind, only a field missing from ours.
    let remove = r#"[{"op":"remove","path":"/data/THREADS"}]"#;
    assert!(kubectl(&destination, &["patch", "configmap", "web-config", "-n", "shop", "--type=json", "-p", remove]).0);
    let status = migrate(&source, "kube-system", "fourth", SPEC, &stork).await;
    let counts = status.resource_counts.clone().expect("counts");
    assert_eq!((counts.created, counts.updated), (0, 3), "{counts:?}");
    assert_eq!(kget(&destination, Some("blog"), "configmap", "api-config").expect("cm")["data"]["feature"], "on");
    assert_eq!(kget(&destination, Some("shop"), "configmap", "web-config").expect("cm")["data"]["THREADS"], "16");
    assert_eq!(kget(&destination, Some("shop"), "deployment", "web").expect("web")["spec"]["replicas"], 0);

    // A full migration rewrites every object; the next incremental one again finds nothing to write.
    let full = format!(
        "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: Migration\nmetadata:\n  name: forced\n  namespace: kube-system\n  annotations: {{stork.libopenstorage.org/migration-type: full}}\nspec:\n{SPEC}\n"
    );
    assert!(kubectl_create(&source, &full).0);
    let status = wait_migration(&source, "kube-system", "forced", Duration::from_secs(120), &stork).await;
    let counts = status.resource_counts.clone().expect("counts");
    assert_eq!(status.migration_type, "Full");
    assert_eq!((counts.updated, counts.unchanged, counts.failed), (counts.total, 0, 0), "{counts:?}");
    let status = migrate(&source, "kube-system", "after-full", SPEC, &stork).await;
    let counts = status.resource_counts.clone().expect("counts");
    assert_eq!((counts.created, counts.updated), (0, 0), "{counts:?}");

    // Deleted on the source + purge: deleted on the destination; an object created there by someone
    // else is left alone.
    assert!(kubectl(&source, &["delete", "configmap", "api-config", "-n", "blog"]).0);
    assert!(kubectl(&destination, &["create", "configmap", "local-only", "-n", "blog", "--from-literal=k=v"]).0);
    let spec = format!("{SPEC}\n  purgeDeletedResources: true");
    let status = migrate(&source, "kube-system", "fifth", &spec, &stork).await;
    let counts = status.resource_counts.clone().expect("counts");
    assert_eq!((counts.purged, counts.updated, counts.created), (1, 0, 0), "{counts:?}");
    assert!(kget(&destination, Some("blog"), "configmap", "api-config").is_none(), "purged");
    assert!(kget(&destination, Some("blog"), "configmap", "local-only").is_some(), "not ours: kept");
    assert!(status.resources.iter().any(|r| r.name == "api-config" && r.status == M::Purged));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_the_destination_rejects_fails_alone() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let stork = Stork::start(&source, &[]);
    ready_pair(&source, &destination, "shop", &stork).await;
    for name in ["a", "b", "forbidden-c", "d"] {
        assert!(kubectl(&source, &["create", "configmap", name, "-n", "shop", "--from-literal=k=v"]).0);
    }
    let policy = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-forbidden}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}]
  validations:
  - expression: "!object.metadata.name.startsWith('forbidden-')"
    message: "configmaps named forbidden-* are not allowed here"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-forbidden}
spec:
  policyName: no-forbidden
  validationActions: [Deny]
"#;
    let (ok, out) = kubectl_stdin(&destination, &["apply", "-f", "-"], policy);
    assert!(ok, "{out}");
    // The policy takes effect asynchronously; wait until it denies.
    let deadline = Instant::now() + Duration::from_secs(30);
    while kubectl(&destination, &["create", "configmap", "forbidden-probe", "-n", "default"]).0 {
        let _ = kubectl(&destination, &["delete", "configmap", "forbidden-probe", "-n", "default"]);
        assert!(Instant::now() < deadline, "policy never enforced");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let status =
        migrate(&source, "shop", "rejected", "  clusterPair: remotecluster\n  namespaces: [shop]", &stork).await;
    assert_eq!(status.status, M::PartialSuccess, "{status:#?}");
    let failed: Vec<_> = status.resources.iter().filter(|r| r.status == M::Failed).collect();
    assert_eq!(failed.len(), 1, "{:#?}", status.resources);
    assert_eq!(failed[0].name, "forbidden-c");
    assert!(failed[0].reason.contains("configmaps named forbidden-* are not allowed here"), "{}", failed[0].reason);
    assert!(status.reason.contains("1 of"), "{}", status.reason);
    for name in ["a", "b", "d"] {
        assert!(kget(&destination, Some("shop"), "configmap", name).is_some(), "{name} must land");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_migrations_fail_with_a_reason() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    // A pair that is not Ready may become so: such Migrations are retried, here only briefly.
    let stork = Stork::start(&source, &["--migration-retry-timeout=4s"]);
    ready_pair(&source, &destination, "shop", &stork).await;
    let _ = kubectl(&source, &["create", "namespace", "other"]);
    let cases = [
        ("no-pair", "  clusterPair: missing\n  namespaces: [shop]", "ClusterPair missing not found in namespace shop"),
        ("no-namespace", "  clusterPair: remotecluster\n  namespaces: [ghost]", "no valid namespace found"),
        (
            "strict-namespace",
            "  clusterPair: remotecluster\n  namespaces: [ghost]\n  skipDeletedNamespaces: false",
            "error getting namespace ghost",
        ),
        (
            "foreign-namespace",
            "  clusterPair: remotecluster\n  namespaces: [other]",
            "migration namespaces should only contain the current namespace",
        ),
        (
            "bad-selector",
            "  clusterPair: remotecluster\n  namespaces: [shop]\n  selectors: {\"bad key!\": x}",
            "spec.selectors has an invalid label",
        ),
        ("empty-pair", "  namespaces: [shop]", "spec.clusterPair is empty"),
        (
            "tenant-admin-pair",
            "  clusterPair: remotecluster\n  adminClusterPair: remotecluster\n  namespaces: [shop]",
            "spec.adminClusterPair (remotecluster) may only be used by a Migration in the admin namespace kube-system",
        ),
        (
            "tenant-system-namespace",
            "  clusterPair: remotecluster\n  namespaces: [kube-public]",
            "namespace kube-public is a system namespace",
        ),
        (
            "pre-rule",
            "  clusterPair: remotecluster\n  namespaces: [shop]\n  preExecRule: quiesce",
            "spec.preExecRule (quiesce) is not supported",
        ),
    ];
    for (name, spec, expected) in cases {
        let status = migrate(&source, "shop", name, spec, &stork).await;
        assert_eq!(status.status, M::Failed, "{name}: {status:#?}");
        assert!(status.reason.contains(expected), "{name}: reason {:?} must contain {expected:?}", status.reason);
    }
    // A pair that is not Ready: Failed, saying why the pair is not Ready.
    let broken = seed_with_admin(&destination)
        .replace("name: remotecluster", "name: broken")
        .replace("namespace: migrationnamespace", "namespace: shop")
        .replace(destination.server_url(), "https://127.0.0.1:1");
    assert!(kubectl_create(&source, &broken).0);
    let pairs: kube::Api<stork_api::ClusterPair> = kube::Api::namespaced(source.client(), "shop");
    wait_status(&pairs, "broken", Duration::from_secs(30), &stork, |s| {
        s.scheduler_status == stork_api::ClusterPairStatusType::Error
    })
    .await;
    let status = migrate(&source, "shop", "to-broken", "  clusterPair: broken\n  namespaces: [shop]", &stork).await;
    assert_eq!(status.status, M::Failed);
    assert!(status.reason.contains("is not Ready") && status.reason.contains("unreachable"), "{}", status.reason);
    assert!(status.attempts >= 2 && status.reason.starts_with("gave up after"), "retried first: {status:#?}");

    // A typo in resourceTypes names the served kinds closest to it instead of copying nothing.
    let status = migrate(
        &source,
        "shop",
        "typo-kind",
        "  clusterPair: remotecluster\n  namespaces: [shop]\n  resourceTypes: [ConfigMpa]",
        &stork,
    )
    .await;
    assert_eq!(status.status, M::Failed, "{status:#?}");
    assert!(
        status.reason.contains("\"ConfigMpa\", which the source cluster does not serve (did you mean ConfigMap?)"),
        "{}",
        status.reason
    );
    let status = migrate(
        &source,
        "shop",
        "no-such-kind",
        "  clusterPair: remotecluster\n  namespaces: [shop]\n  excludeResourceTypes: [NoSuchKind]",
        &stork,
    )
    .await;
    assert_eq!(status.status, M::Failed, "{status:#?}");
    assert!(status.reason.contains("spec.excludeResourceTypes names \"NoSuchKind\""), "{}", status.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_transformation_rewrites_matching_objects_of_any_kind() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let stork = Stork::start(&source, &[]);
    ready_pair(&source, &destination, "shop", &stork).await;
    assert!(kubectl(&source, &["create", "deployment", "web", "-n", "shop", "--image=nginx", "--replicas=2"]).0);
    assert!(kubectl(&source, &["create", "service", "clusterip", "web", "-n", "shop", "--tcp=80:80"]).0);
    assert!(kubectl(&source, &["create", "service", "clusterip", "other", "-n", "shop", "--tcp=81:81"]).0);
    let rt = r#"apiVersion: stork.libopenstorage.org/v1alpha1
kind: ResourceTransformation
metadata: {name: to-dr, namespace: shop}
specs:
  transformSpecs:
  - resource: /v1/Service
    selectors: {app: web}
    paths:
    - {path: spec.type, value: NodePort, type: string, operation: modify}
  - resource: apps/v1/Deployment
    paths:
    - {path: metadata.labels, value: "site:dr,tier:web", type: keypair, operation: modify}
"#;
    assert!(kubectl_create(&source, rt).0);
    let status = migrate(
        &source,
        "shop",
        "transformed",
        "  clusterPair: remotecluster\n  namespaces: [shop]\n  transformSpecs: [to-dr]",
        &stork,
    )
    .await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    let svc = kget(&destination, Some("shop"), "service", "web").expect("svc");
    assert_eq!(svc["spec"]["type"], "NodePort");
    assert_eq!(svc["metadata"]["annotations"]["stork.libopenstorage.org/resourcetransformation-name"], "true");
    assert_eq!(kget(&destination, Some("shop"), "service", "other").expect("svc")["spec"]["type"], "ClusterIP");
    let web = kget(&destination, Some("shop"), "deployment", "web").expect("deployment");
    assert_eq!(web["metadata"]["labels"]["site"], "dr");
    assert_eq!(web["spec"]["replicas"], 0, "still idle");
    assert!(status.resources.iter().any(|r| r.name == "web" && r.kind == "Service" && r.transformed_by == "to-dr"));

    let status = migrate(
        &source,
        "shop",
        "missing-rt",
        "  clusterPair: remotecluster\n  namespaces: [shop]\n  transformSpecs: [nope]",
        &stork,
    )
    .await;
    assert_eq!(status.status, M::Failed);
    assert!(status.reason.contains("ResourceTransformation nope not found in namespace shop"), "{}", status.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_fields_choose_and_shape_what_is_copied() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let stork = Stork::start(&source, &[]);
    ready_pair(&source, &destination, "kube-system", &stork).await;
    let setup = r#"
apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-b, labels: {team: b}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web, namespace: team-a, labels: {app: web}}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-cache, namespace: team-a, labels: {app: web, tier: cache}}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: db, namespace: team-a, labels: {app: db}}
data: {k: v}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: team-a, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: team-b}
data: {k: v}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: team-b-data}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: shared
  nfs: {server: nfs.example.com, path: /b}
  claimRef: {namespace: team-b, name: data}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: team-b}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: shared
  volumeName: team-b-data
  resources: {requests: {storage: 1Gi}}
"#;
    let (ok, out) = kubectl_stdin(&source, &["apply", "-f", "-"], setup);
    assert!(ok, "{out}");
    bind_claim(&source, "team-b", "data", "team-b-data").await;

    // Namespaces by label, objects by selectors, and the application started on the destination.
    let spec = "  clusterPair: remotecluster\n  namespaceSelectors: {team: a}\n  selectors: {app: web}\n  excludeSelectors: {tier: cache}\n  startApplications: true";
    let status = migrate(&source, "kube-system", "selected", spec, &stork).await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    assert!(kget(&destination, Some("team-a"), "configmap", "web").is_some());
    assert!(kget(&destination, Some("team-a"), "configmap", "web-cache").is_none(), "excludeSelectors");
    assert!(kget(&destination, Some("team-a"), "configmap", "db").is_none(), "selectors");
    let web = kget(&destination, Some("team-a"), "deployment", "web").expect("deployment");
    assert_eq!(web["spec"]["replicas"], 2, "startApplications keeps the replicas");
    assert!(kget(&destination, None, "namespace", "team-b").is_none(), "team-b is not selected");

    // The same objects without startApplications: nothing changed on the source, but the options did,
    // so what the controller prepared and remembered for them must not be reused.
    let idle = "  clusterPair: remotecluster\n  namespaceSelectors: {team: a}\n  selectors: {app: web}\n  excludeSelectors: {tier: cache}";
    let status = migrate(&source, "kube-system", "selected-idle", idle, &stork).await;
    let counts = status.resource_counts.clone().expect("counts");
    assert_eq!((counts.created, counts.failed), (0, 0), "{counts:?}");
    assert!(counts.updated >= 1, "the Deployment is rewritten idle: {counts:?}");
    let web = kget(&destination, Some("team-a"), "deployment", "web").expect("deployment");
    assert_eq!(web["spec"]["replicas"], 0, "without startApplications the copy is idle");

    // A claim in team-a that asks for team-b's volume by name stays Pending on the source: migrating
    // team-a copies the claim but never the volume, so no claim on the destination can reach B's data.
    let steal = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: steal, namespace: team-a}\nspec: {accessModes: [ReadWriteOnce], storageClassName: shared, volumeName: team-b-data, resources: {requests: {storage: 1Gi}}}\n";
    let (ok, out) = kubectl_create(&source, steal);
    assert!(ok, "{out}");
    let spec = "  clusterPair: remotecluster\n  adminClusterPair: remotecluster\n  namespaces: [team-a]";
    let status = migrate(&source, "kube-system", "steal", spec, &stork).await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    assert!(kget(&destination, Some("team-a"), "pvc", "steal").is_some());
    assert!(kget(&destination, None, "pv", "team-b-data").is_none(), "another tenant's volume was copied");

    // includeResources: false copies only claims and their volumes; cluster-scoped objects go through
    // the admin pair.
    let spec = "  clusterPair: remotecluster\n  adminClusterPair: remotecluster\n  namespaces: [team-b]\n  includeResources: false";
    let status = migrate(&source, "kube-system", "volumes-only", spec, &stork).await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    assert!(kget(&destination, Some("team-b"), "pvc", "data").is_some());
    let volume = kget(&destination, None, "pv", "team-b-data").expect("team-b's volume, bound to its claim");
    assert_eq!(volume["spec"]["claimRef"]["namespace"], "team-b", "pre-bound: {volume}");
    assert_eq!(volume["spec"]["claimRef"]["name"], "data", "pre-bound: {volume}");
    assert!(kget(&destination, Some("team-b"), "configmap", "settings").is_none(), "includeResources: false");

    // excludeResourceTypes by kind name, case-insensitively.
    let spec = "  clusterPair: remotecluster\n  namespaces: [team-b]\n  excludeResourceTypes: [persistentvolumeclaim]";
    let status = migrate(&source, "kube-system", "no-claims", spec, &stork).await;
    let kinds: Vec<&str> = status.resources.iter().map(|r| r.kind.as_str()).collect();
    assert!(kinds.contains(&"ConfigMap") && !kinds.contains(&"PersistentVolumeClaim"), "{kinds:?}");

    let spec = "  clusterPair: remotecluster\n  adminClusterPair: nope\n  namespaces: [team-b]";
    let status = migrate(&source, "kube-system", "bad-admin-pair", spec, &stork).await;
    assert_eq!(status.status, M::Failed);
    assert!(status.reason.contains("ClusterPair nope not found in namespace kube-system"), "{}", status.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_complete_resource_list_never_replaces_someone_elses_configmap() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let stork = Stork::start(&source, &[]);
    ready_pair(&source, &destination, "bulk", &stork).await;
    create_configmaps(&source, "bulk", 300).await;
    // Details ConfigMaps live in the controller's namespace (kube-system for a controller run with a
    // kubeconfig); one there of the name big's would take belongs to someone else.
    let taken = ["create", "configmap", "bulk.big-resources", "-n", "kube-system", "--from-literal=mine=yes"];
    assert!(kubectl(&source, &taken).0);
    let spec = "  clusterPair: remotecluster\n  namespaces: [bulk]";

    let status = migrate(&source, "bulk", "big", spec, &stork).await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    assert!(status.resources_truncated, "more entries than status holds");
    assert_eq!(status.resource_details, "", "a ConfigMap that was not written is never named");
    let mine = kget(&source, Some("kube-system"), "configmap", "bulk.big-resources").expect("user's ConfigMap");
    assert_eq!(mine["data"], serde_json::json!({"mine": "yes"}), "left alone");

    let status = migrate(&source, "bulk", "big2", spec, &stork).await;
    assert_eq!(status.resource_details, "kube-system/bulk.big2-resources");
    let details = kget(&source, Some("kube-system"), "configmap", "bulk.big2-resources").expect("details");
    let migration = kget(&source, Some("bulk"), "migration", "big2").expect("migration");
    assert_eq!(details["metadata"]["annotations"]["stork-rs.io/migration-uid"], migration["metadata"]["uid"]);
    assert!(details["binaryData"]["resources.jsonl.gz"].is_string());
    assert!(kget(&source, Some("bulk"), "configmap", "big2-resources").is_none(), "nothing written beside it");

    // Deleted with its Migration; the ConfigMap that is not a Migration's stays.
    for name in ["big2", "big"] {
        assert!(kubectl(&source, &["delete", "migration", name, "-n", "bulk", "--wait=true", "--timeout=30s"]).0);
    }
    assert!(kget(&source, Some("kube-system"), "configmap", "bulk.big2-resources").is_none(), "deleted with big2");
    assert!(kget(&source, Some("kube-system"), "configmap", "bulk.big-resources").is_some(), "someone else's stays");
}
