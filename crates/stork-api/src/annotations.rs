//! Annotation and label names Stork puts on migrated objects; kept identical so Stork-aware tooling
//! (and `storkctl activate`) keeps working on objects migrated by stork-rs.

/// Annotation and label `"true"` on every migrated object (label only on workloads, as Stork).
pub const MIGRATED: &str = "stork.libopenstorage.org/migrated";
pub const MIGRATION_NAME: &str = "stork.libopenstorage.org/migrationName";
pub const MIGRATION_NAMESPACE: &str = "stork.libopenstorage.org/migrationNamespace";
pub const MIGRATION_TIME: &str = "stork.libopenstorage.org/migrationTime";
/// Replicas a workload had on the source; it is applied with 0 replicas.
pub const MIGRATION_REPLICAS: &str = "stork.libopenstorage.org/migrationReplicas";
/// Hash of the prepared source object last written; equal hash and no drift means nothing to write.
pub const RESOURCE_HASH: &str = "stork.libopenstorage.org/resource-hash";
/// Original reclaim policy of a migrated PersistentVolume (applied as `Retain`).
pub const RECLAIM_POLICY: &str = "stork.libopenstorage.org/reclaimPolicy";
/// `"true"` on a source object: never migrate it.
pub const SKIP_RESOURCE: &str = "stork.libopenstorage.org/skip-resource";
pub const SKIP_RESOURCE_DEPRECATED: &str = "stork.libopenstorage.org/skipresource";
/// `"true"` on a source Service: keep its cluster IPs.
pub const SKIP_MODIFY_RESOURCE: &str = "stork.libopenstorage.org/skip-modify-resource";
/// Set by a MigrationSchedule on the Migrations it creates.
pub const MIGRATION_SCHEDULE_NAME: &str = "stork.libopenstorage.org/migration-schedule-name";
/// stork-rs extension: a CronJob's or Job's `spec.suspend` on the source, so activation restores it.
pub const MIGRATION_SUSPEND: &str = "stork.libopenstorage.org/migrationSuspend";
/// `"true"` on objects a ResourceTransformation changed (Stork's name; the value is literally "true").
pub const RESOURCE_TRANSFORMATION_NAME: &str = "stork.libopenstorage.org/resourcetransformation-name";
/// `full` on a Migration asks for every object to be rewritten instead of only what changed or drifted.
pub const MIGRATION_TYPE: &str = "stork.libopenstorage.org/migration-type";
/// Label `"true"` on a Migration's details ConfigMap (in the controller's namespace; annotations name the Migration).
pub const DETAILS_OF_MIGRATION: &str = "stork.libopenstorage.org/migration";

/// Field manager of everything stork-rs writes, on either cluster.
pub const FIELD_MANAGER: &str = "stork-rs";
/// On the copy of a MigrationSchedule kept on the destination (suspended), so failover can start there.
pub const STATIC_COPY: &str = "stork.libopenstorage.org/static-copy";
/// Set by a MigrationSchedule on the Migrations it creates: why it is full or incremental.
pub const MIGRATION_TYPE_REASON: &str = "stork.libopenstorage.org/migration-type-reason";
/// On a source MigrationSchedule suspended by a failover: the Action that did, so that its failback (or
/// rollback) resumes it.
pub const SUSPENDED_BY_FAILOVER: &str = "stork.libopenstorage.org/suspended-by-failover";
/// On a last-mile Migration: the schedule it finishes.
pub const LASTMILE_SCHEDULE_NAME: &str = "stork.libopenstorage.org/lastmile-migration-schedule-name";
/// stork-rs extension, on every object written on a destination: who wrote it, as
/// `<source cluster>/<Migration namespace>/<ClusterPair>` (the source cluster is the UID of its
/// `kube-system` namespace). Purge deletes only objects whose writer is the purging pair's.
pub const WRITER: &str = "stork-rs.io/writer";
/// stork-rs extension, `"true"` on an object that existed on the destination before stork-rs first
/// wrote it: never purged, since deleting it would delete something stork-rs did not create.
pub const ADOPTED: &str = "stork-rs.io/adopted";
/// stork-rs extension, `"true"` on a ClusterPair: its destination may be a plain `http://` server (the
/// pair's credentials then cross the network unencrypted). Refused without it.
pub const ALLOW_PLAIN_HTTP: &str = "stork-rs.io/allow-plain-http";
