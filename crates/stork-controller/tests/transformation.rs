//! ResourceTransformations checked before they are trusted, on real clusters: well-formed rules whose
//! objects the destination admits turn Ready; each kind of malformed rule turns Failed (or is refused at
//! admission) naming the rule or object; a migration using a Failed one fails with Stork's message; the
//! DR recipes of the README land transformed and leave everything else as on the source.

mod common;

use std::time::{Duration, Instant};

use common::*;
use kube::api::Api;
use serde_json::Value;
use stork_api::{MigrationStatusType as M, ResourceTransformation, ResourceTransformationStatusType as RT};
use testenv::TestCluster;

const APP: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: registry.a.example/shop/web:1.4, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: shop}
spec: {accessModes: [ReadWriteOnce], storageClassName: fast-a, resources: {requests: {storage: 1Gi}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - host: shop.a.example
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {color: blue}
"#;

/// The README's recipes in one transformation, plus a rule that matches nothing in the ConfigMap.
const RECIPES: &str = r#"
apiVersion: stork.libopenstorage.org/v1alpha1
kind: ResourceTransformation
metadata: {name: to-dr, namespace: shop}
specs:
  transformSpecs:
  - resource: apps/v1/Deployment
    paths:
    - {path: "spec.template.spec.containers[0].image", value: registry.b.example/shop/web:1.4, type: string, operation: modify}
    - {path: metadata.annotations, value: "stork.libopenstorage.org/migrationReplicas:1", type: keypair, operation: modify}
  - resource: /v1/PersistentVolumeClaim
    paths:
    - {path: spec.storageClassName, value: fast-b, type: string, operation: modify}
  - resource: networking.k8s.io/v1/Ingress
    paths:
    - path: ""
      operation: jsonpatch
      value: '[{"op": "replace", "path": "/spec/rules/0/host", "value": "shop.b.example"}]'
  - resource: /v1/ConfigMap
    paths:
    - {path: data.missing.key, value: x, type: string, operation: modify}
"#;

fn transformation(name: &str, rules: &str) -> String {
    format!(
        "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: ResourceTransformation\nmetadata: {{name: {name}, namespace: shop}}\nspecs:\n  transformSpecs:\n{rules}"
    )
}

/// Waits until the transformation's status is Ready or Failed for its current spec.
async fn checked(source: &TestCluster, name: &str, stork: &Stork) -> ResourceTransformation {
    let api: Api<ResourceTransformation> = Api::namespaced(source.client(), "shop");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(rt) = api.get(name).await
            && let Some(status) = &rt.status
            && matches!(status.status, RT::Ready | RT::Failed)
            && status.observed_generation == rt.metadata.generation
        {
            return rt;
        }
        assert!(Instant::now() < deadline, "{name} not checked in 60 s\n{}", stork.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn status_of(rt: &ResourceTransformation) -> (RT, String) {
    let status = rt.status.clone().unwrap_or_default();
    (status.status, status.reason)
}

/// The object with the fields a migration sets or transforms taken out, to compare the rest.
fn untouched(mut object: Value) -> Value {
    for meta in ["uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "annotations"] {
        object["metadata"].as_object_mut().map(|m| m.remove(meta));
    }
    object.as_object_mut().map(|o| o.remove("status"));
    object
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transformation_is_checked_before_a_migration_trusts_it() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let stork = Stork::start(&source, &[]);
    ready_pair(&source, &destination, "shop", &stork).await;
    let (ok, out) = kubectl_create(&source, APP);
    assert!(ok, "{out}");
    // The destination's own admission: no image from the registry the source runs from.
    let policy = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-registry-a}
spec:
  failurePolicy: Fail
  matchConstraints: {resourceRules: [{apiGroups: [apps], apiVersions: ["*"], operations: [CREATE, UPDATE], resources: [deployments]}]}
  validations:
  - expression: "object.spec.template.spec.containers.all(c, !c.image.startsWith('registry.a.example/'))"
    message: images must come from the DR registry
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-registry-a}
spec: {policyName: no-registry-a, validationActions: [Deny]}
"#;
    let (ok, out) = kubectl_create(&destination, policy);
    assert!(ok, "{out}");
    let probe = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"probe","namespace":"default"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"registry.a.example/x"}]}}}}"#;
    let deadline = Instant::now() + Duration::from_secs(20);
    while kubectl_stdin(&destination, &["create", "--dry-run=server", "-f", "-"], probe).0 {
        assert!(Instant::now() < deadline, "policy not in force");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Valid rules whose objects the destination admits: Ready, each object listed; the path that found
    // nothing in the ConfigMap is reported there without failing the transformation.
    let (ok, out) = kubectl_create(&source, RECIPES);
    assert!(ok, "{out}");
    let rt = checked(&source, "to-dr", &stork).await;
    let (state, reason) = status_of(&rt);
    assert_eq!(state, RT::Ready, "{reason}\n{}", stork.log());
    assert!(reason.contains("4 object(s) checked by a dry run on ClusterPair remotecluster"), "{reason}");
    assert!(reason.contains("namespace shop is not on ClusterPair remotecluster yet"), "{reason}");
    let resources = rt.status.clone().unwrap_or_default().resources;
    let settings = resources.iter().find(|r| r.kind == "ConfigMap" && r.name == "settings").expect("settings listed");
    assert_eq!(settings.status, RT::Ready);
    assert!(settings.reason.contains("path \"data.missing.key\" (modify) matched nothing"), "{}", settings.reason);
    assert!(resources.iter().all(|r| r.kind == "ConfigMap" || r.reason.is_empty()), "{resources:#?}");

    // Malformed rules: each Failed, naming the rule or the object and why.
    let cases = [
        (
            "bad-path",
            "  - resource: /v1/ConfigMap\n    paths: [{path: \"data[[[\", value: x, type: string, operation: modify}]\n",
            "transformSpecs[0].paths[0]: path \"data[[[\"",
        ),
        (
            "bad-value",
            "  - resource: /v1/ConfigMap\n    paths: [{path: immutable, value: maybe, type: bool, operation: add}]\n",
            "value \"maybe\" is not a bool",
        ),
        (
            "bad-kind",
            "  - resource: apps/v1/Deploymnt\n    paths: [{path: spec.replicas, value: \"1\", type: int, operation: modify}]\n",
            "apps/v1/Deploymnt: the source cluster does not serve it",
        ),
        (
            "bad-patch",
            "  - resource: /v1/ConfigMap\n    paths: [{path: \"\", value: \"{not a patch\", operation: jsonpatch}]\n",
            "must be an RFC 6902 patch",
        ),
        (
            "refused",
            "  - resource: apps/v1/Deployment\n    paths: [{path: metadata.labels, value: \"site:dr\", type: keypair, operation: modify}]\n",
            "Deployment shop/web: the dry run on ClusterPair remotecluster refused it",
        ),
    ];
    for (name, rules, _) in cases {
        let (ok, out) = kubectl_create(&source, &transformation(name, rules));
        assert!(ok, "{name}: {out}");
    }
    for (name, _, expected) in cases {
        let (state, reason) = status_of(&checked(&source, name, &stork).await);
        assert_eq!(state, RT::Failed, "{name}: {reason}");
        assert!(reason.contains(expected), "{name}: {reason}");
    }
    let (_, reason) = status_of(&checked(&source, "refused", &stork).await);
    assert!(reason.contains("images must come from the DR registry"), "{reason}");
    // An operation or type Stork does not know is refused at admission, naming the field.
    let (ok, out) = kubectl_create(
        &source,
        &transformation(
            "bad-op",
            "  - resource: /v1/ConfigMap\n    paths: [{path: data.color, value: red, operation: replace}]\n",
        ),
    );
    assert!(!ok && out.contains("operation") && out.contains("\"modify\""), "{out}");

    // A migration naming a Failed transformation fails with Stork's message; nothing was copied.
    let status = migrate(
        &source,
        "shop",
        "with-bad",
        "  clusterPair: remotecluster\n  namespaces: [shop]\n  transformSpecs: [bad-value]",
        &stork,
    )
    .await;
    assert_eq!(status.status, M::Failed, "{status:#?}");
    assert!(
        status.reason.contains("transformation shop/bad-value is not in ready state, state: Failed"),
        "{}",
        status.reason
    );
    assert!(kget(&destination, None, "namespace", "shop").is_none(), "nothing copied");

    // Fixed, it is checked again and turns Ready.
    let (ok, out) = kubectl(
        &source,
        &[
            "patch",
            "resourcetransformation",
            "bad-value",
            "-n",
            "shop",
            "--type=json",
            "-p",
            r#"[{"op": "replace", "path": "/specs/transformSpecs/0/paths/0/value", "value": "false"}]"#,
        ],
    );
    assert!(ok, "{out}");
    let rt = checked(&source, "bad-value", &stork).await;
    assert_eq!(status_of(&rt).0, RT::Ready, "{:?}", status_of(&rt));
    assert_eq!(rt.status.as_ref().and_then(|s| s.observed_generation), Some(2));

    // The recipes land transformed; everything else is as on the source.
    let status = migrate(
        &source,
        "shop",
        "with-recipes",
        "  clusterPair: remotecluster\n  namespaces: [shop]\n  transformSpecs: [to-dr]",
        &stork,
    )
    .await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    let counts = status.resource_counts.clone().expect("counts");
    assert_eq!(counts.transform_unmatched, 1, "{counts:?}");
    let entry = status.resources.iter().find(|r| r.kind == "ConfigMap" && r.name == "settings").expect("entry");
    assert!(entry.reason.contains("transformation to-dr: 1 path(s) matched nothing"), "{}", entry.reason);

    let web = kget(&destination, Some("shop"), "deployment", "web").expect("web");
    assert_eq!(web["spec"]["template"]["spec"]["containers"][0]["image"], "registry.b.example/shop/web:1.4");
    assert_eq!(web["spec"]["replicas"], 0, "idle until activated");
    assert_eq!(web["metadata"]["annotations"]["stork.libopenstorage.org/migrationReplicas"], "1", "activates at 1");
    let claim = kget(&destination, Some("shop"), "pvc", "data").expect("pvc");
    assert_eq!(claim["spec"]["storageClassName"], "fast-b");
    let ingress = kget(&destination, Some("shop"), "ingress", "web").expect("ingress");
    assert_eq!(ingress["spec"]["rules"][0]["host"], "shop.b.example");
    assert_eq!(
        ingress["spec"]["rules"][0]["http"],
        kget(&source, Some("shop"), "ingress", "web").expect("ingress")["spec"]["rules"][0]["http"]
    );

    let mut expected = untouched(kget(&source, Some("shop"), "deployment", "web").expect("web"));
    expected["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.b.example/shop/web:1.4".into();
    expected["spec"]["replicas"] = 0.into();
    expected["metadata"]["labels"]["stork.libopenstorage.org/migrated"] = "true".into();
    assert_eq!(untouched(web), expected, "only the transformed fields and the standby's replicas differ");
    let settings = kget(&destination, Some("shop"), "configmap", "settings").expect("settings");
    assert_eq!(settings["data"], serde_json::json!({"color": "blue"}));

    // Activation brings the override up: 1 replica, not the source's 3.
    let cluster = stork_kube::Cluster::new(destination.client(), "destination", Duration::from_secs(30));
    let namespaces = ["shop".to_string()].into_iter().collect();
    let changes = stork_migrate::io::activate::survey(
        &cluster,
        &namespaces,
        stork_migrate::core::activate::Direction::Activate,
        stork_migrate::core::activate::Whose::Copies,
        None,
    )
    .await
    .expect("survey");
    let done = stork_migrate::io::activate::carry_out(&cluster, changes, stork_migrate::Mode::Apply).await;
    assert!(done.iter().all(|c| c.result.is_ok()), "{done:?}");
    assert_eq!(kget(&destination, Some("shop"), "deployment", "web").expect("web")["spec"]["replicas"], 1);
}
