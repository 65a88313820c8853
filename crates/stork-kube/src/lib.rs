//! Kubernetes helpers shared by the `stork` controller and `storkctl`.

pub mod pair_config;
pub mod pair_kubeconfig;

pub use pair_config::{PairConfigError, client_config_for_pair};
pub use pair_kubeconfig::{FlattenError, flatten_for_pair};

/// An error with its causes, each once: `a: b: c`.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
