//! What a [`super::TcpProxy`] does with the bytes of its connections.

use std::time::Duration;

/// What the proxy does with connections, new and already open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward bytes both ways.
    Pass,
    /// Accept new connections and close them at once; cut the open ones (a peer that went away).
    Refuse,
    /// Keep connections open but forward nothing either way (a peer that accepts and never answers).
    Blackhole,
    /// Forward client→upstream as usual and upstream→client one byte per interval (a peer that
    /// trickles bytes forever, defeating timeouts that only watch for silence).
    Trickle(Duration),
}

impl Mode {
    /// Whether bytes move at all in this mode.
    pub(crate) fn forwards(self) -> bool {
        matches!(self, Self::Pass | Self::Trickle(_))
    }
}
