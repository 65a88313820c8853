//! Kubernetes helpers shared by the `stork` controller and `storkctl`.

pub mod pair_config;
pub mod pair_kubeconfig;

pub use pair_config::{PairConfigError, client_config_for_pair};
pub use pair_kubeconfig::{FlattenError, flatten_for_pair};
