//! The engine's IO: thin layers that read what the core decides on and carry out what it decides.

pub mod activate;
pub mod destination;
pub mod preflight;
pub mod read;
pub mod source;
pub mod sync;
pub mod transformation;
pub mod watch;
pub mod write;

mod applier;
mod planner;
mod run;

pub use run::{RETAINED_BYTES, run};
