//! Proxies in front of a cluster's API server, for testing clients against peers that misbehave in
//! ways a real API server cannot be made to: [`TcpProxy`] at the connection level (refuse, hang,
//! trickle), [`FaultProxy`] at the HTTP level (chosen error responses). Both run as background tasks
//! on the tokio runtime they are started on, listen on 127.0.0.1 and stop when dropped.

mod fault;
mod fault_proxy;
mod listener;
mod mode;
mod pump;
mod status;
mod tcp;
mod tls;

pub use fault::Fault;
pub use fault_proxy::FaultProxy;
pub use mode::Mode;
pub use tcp::{TcpProxy, TcpProxyControl};
