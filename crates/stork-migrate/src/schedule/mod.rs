//! Schedules, as pure decisions shared by the controller and storkctl: policies as Stork reads them,
//! when a policy fires, and the Migrations of a schedule as a series.

pub mod policy;
pub mod series;
pub mod trigger;
