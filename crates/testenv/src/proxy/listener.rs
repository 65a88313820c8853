//! A loopback listener served by one background task that owns all its connections.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// The accept task; dropping it aborts the task, whose [`JoinSet`] then aborts every connection, so a
/// dropped proxy leaves no socket open behind it.
pub(crate) struct Background(JoinHandle<()>);

impl Drop for Background {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Binds 127.0.0.1 on a free port and runs `serve` for each accepted connection.
pub(crate) fn spawn<F, Fut>(serve: F) -> anyhow::Result<(SocketAddr, Background)>
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Handle::try_current().context("a proxy needs a tokio runtime to run on")?;
    let _entered = runtime.enter();
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").context("bind 127.0.0.1")?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let listener = TcpListener::from_std(std_listener)?;
    let task = runtime.spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        connections.spawn(serve(stream));
                    }
                    // E.g. out of file descriptors: keep serving once some are closed rather than stop.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
                // Reaps finished connections so the set does not grow for the proxy's whole life.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    });
    Ok((addr, Background(task)))
}
