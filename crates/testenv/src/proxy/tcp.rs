//! A TCP forwarder whose behaviour can be switched while connections are open, to play a peer that
//! goes away, hangs or crawls without touching the real server behind it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::TcpStream;
use tokio::sync::watch;

use super::listener::{self, Background};
use super::mode::Mode;
use super::pump::{Direction, pump};

/// A cloneable handle on a [`TcpProxy`]'s mode and counters, e.g. for a task that flips the mode while
/// the test waits on a request.
#[derive(Debug, Clone)]
pub struct TcpProxyControl {
    mode: Arc<watch::Sender<Mode>>,
    accepted: Arc<AtomicUsize>,
}

impl TcpProxyControl {
    /// Takes effect at once, on open connections too.
    pub fn set_mode(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    pub fn mode(&self) -> Mode {
        *self.mode.borrow()
    }

    /// Connections accepted so far, refused ones included (a client that reconnects shows here).
    pub fn connections_accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

/// A TCP forwarder on 127.0.0.1 in front of `upstream`. TLS passes through untouched, so a client
/// pointed at [`TcpProxy::url`] still verifies the upstream's certificate (testenv's are for
/// 127.0.0.1). Dropping it stops it and closes all its connections.
pub struct TcpProxy {
    addr: SocketAddr,
    control: TcpProxyControl,
    _task: Background,
}

impl TcpProxy {
    /// Starts in [`Mode::Pass`] on the current tokio runtime.
    pub fn start(upstream: SocketAddr) -> anyhow::Result<Self> {
        let control =
            TcpProxyControl { mode: Arc::new(watch::Sender::new(Mode::Pass)), accepted: Arc::new(AtomicUsize::new(0)) };
        let handle = control.clone();
        let (addr, task) = listener::spawn(move |client| {
            handle.accepted.fetch_add(1, Ordering::Relaxed);
            serve(client, upstream, handle.mode.subscribe())
        })?;
        Ok(Self { addr, control, _task: task })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `https://127.0.0.1:<port>`, to put in a kubeconfig (see `TestCluster::kubeconfig_via`).
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn control(&self) -> TcpProxyControl {
        self.control.clone()
    }

    pub fn set_mode(&self, mode: Mode) {
        self.control.set_mode(mode);
    }

    pub fn connections_accepted(&self) -> usize {
        self.control.connections_accepted()
    }
}

async fn serve(client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    if *mode.borrow_and_update() == Mode::Refuse {
        return;
    }
    let mut refused = mode.clone();
    let cut = refused.wait_for(|m| *m == Mode::Refuse);
    let forward = async {
        // Connect only once something may be forwarded: a blackholed connection must not reach the
        // upstream, which would time out the silent handshake and close it, ending the hang early.
        let mut ready = mode.clone();
        if ready.wait_for(|m| m.forwards()).await.is_err() {
            return;
        }
        let Ok(server) = TcpStream::connect(upstream).await else { return };
        // Small writes (a trickled byte, a TLS record) should leave at once.
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (client_read, client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        let _ = tokio::try_join!(
            pump(client_read, server_write, mode.clone(), Direction::Up),
            pump(server_read, client_write, mode.clone(), Direction::Down),
        );
    };
    // Returning drops both sockets, which is how a refused or finished connection is closed.
    tokio::select! {
        _ = cut => {}
        () = forward => {}
    }
}
