//! Copying one direction of a proxied connection, obeying the proxy's mode between every read and
//! every write.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;

use super::mode::Mode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Client to upstream.
    Up,
    /// Upstream to client: the direction [`Mode::Trickle`] slows down.
    Down,
}

/// Copies `from` to `to` until end of stream, then half-closes `to` so the other side sees it too.
pub(crate) async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
    direction: Direction,
) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // While nothing may be forwarded the bytes stay unread in the kernel, so neither peer sees
        // progress, nor an end of stream.
        wait_until_forwarding(&mut mode).await?;
        let read = tokio::select! {
            read = from.read(&mut buf) => read?,
            // The mode changed while waiting for data: look at it again before reading.
            changed = mode.changed() => {
                changed.map_err(|_| gone())?;
                continue;
            }
        };
        if read == 0 {
            return to.shutdown().await;
        }
        write(&buf[..read], &mut to, &mut mode, direction).await?;
    }
}

async fn write(
    mut bytes: &[u8],
    to: &mut OwnedWriteHalf,
    mode: &mut watch::Receiver<Mode>,
    direction: Direction,
) -> io::Result<()> {
    while !bytes.is_empty() {
        match wait_until_forwarding(mode).await? {
            Mode::Trickle(interval) if direction == Direction::Down => {
                tokio::select! {
                    () = tokio::time::sleep(interval) => {
                        to.write_all(&bytes[..1]).await?;
                        bytes = &bytes[1..];
                    }
                    // A switch back to Pass must not wait out a long interval.
                    changed = mode.changed() => changed.map_err(|_| gone())?,
                }
            }
            _ => {
                to.write_all(bytes).await?;
                bytes = &[];
            }
        }
    }
    Ok(())
}

async fn wait_until_forwarding(mode: &mut watch::Receiver<Mode>) -> io::Result<Mode> {
    mode.wait_for(|m| m.forwards()).await.map(|m| *m).map_err(|_| gone())
}

/// The proxy was dropped.
fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "proxy stopped")
}
