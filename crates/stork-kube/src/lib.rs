//! Kubernetes helpers shared by the `stork` controller, the migration engine and `storkctl`: pair
//! kubeconfigs, untyped requests with deadlines, what a failed request means, Go's durations.

pub mod duration;
pub mod dynamic;
pub mod error;
pub mod pair_config;
pub mod pair_kubeconfig;
pub mod version;

pub use dynamic::{Cluster, ListOptions, ListPage, ServedType, resource_name, resource_url};
pub use error::{MAX_MESSAGE, RequestError, Retry, bounded};
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
