//! The stork-rs migration engine, one library for every workflow: a Migration, a schedule's run, a
//! failover's last mile, `storkctl --dry-run`, a benchmark.
//!
//! - [`core`] decides, without IO: [`core::select`] what is copied, [`core::prepare`] how a source
//!   object becomes its standby copy (and [`core::activate`] back), [`core::rules`] the
//!   ResourceTransformations, [`core::hash`] and [`core::drift`] whether a copy is current,
//!   [`core::plan`] what to write and in which order, [`core::report`] how results are reported.
//! - [`io`] reads both clusters page by page and carries the decisions out; [`io::run`] is one run.
//! - [`cache`] is what runs remember of each other (hashes and digests, bounded).
//! - [`schedule`] decides when a MigrationSchedule runs and how its Migrations form a series.

pub mod cache;
pub mod core;
pub mod error;
pub mod io;
pub mod job;
pub mod schedule;

pub use core::model::{Entry, EntryResult, ObjectId, Outcome, Progress, TypeKey};
pub use error::EngineError;
pub use io::run;
pub use job::{Clusters, Fence, Job, Memory, Mode};
