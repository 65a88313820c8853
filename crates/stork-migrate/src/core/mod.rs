//! The pure core of the engine: decisions on discovery data and object JSON, no IO. Each module is one
//! step of a migration, in the order a migration takes them.

pub mod activate;
pub mod continuous;
pub mod drift;
pub mod hash;
pub mod model;
pub mod plan;
pub mod prepare;
pub mod report;
pub mod rules;
pub mod select;
pub mod validate;
