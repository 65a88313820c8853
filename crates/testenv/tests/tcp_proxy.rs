//! The TCP proxy in front of a real API server: TLS passes through, and each mode makes the peer behave
//! as promised (gone, silent, trickling), switchable at runtime, and a dropped proxy leaves nothing open.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use testenv::proxy::{Mode, TcpProxy};
use testenv::{ClusterOptions, TestCluster};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn client_for(yaml: &str) -> kube::Client {
    let kubeconfig = Kubeconfig::from_yaml(yaml).expect("parse kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.expect("config");
    kube::Client::try_from(config).expect("client")
}

/// A plain-HTTP request to the TLS port: Go's TLS server answers it with a short plain-text 400, which
/// makes the bytes coming back countable.
async fn plaintext_request(port: u16) -> TcpStream {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).await.expect("connect proxy");
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
    conn
}

/// Whatever arrives on `conn` within `window`.
async fn read_for(conn: &mut TcpStream, window: Duration) -> Vec<u8> {
    let mut received = Vec::new();
    let _ = tokio::time::timeout(window, async {
        let mut buf = [0u8; 512];
        while let Ok(n @ 1..) = conn.read(&mut buf).await {
            received.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    received
}

#[tokio::test]
async fn tcp_proxy_modes_switch_at_runtime() {
    let mut opts = ClusterOptions::new("proxied");
    opts.install_crds = false;
    let cluster = TestCluster::start_with(opts).await.expect("start cluster");
    let proxy = TcpProxy::start(cluster.apiserver_addr().expect("address")).expect("start proxy");
    let client = client_for(&cluster.kubeconfig_via(&proxy.url())).await;
    let namespaces: Api<Namespace> = Api::all(client);

    // Pass: TLS to the API server verifies through the proxy.
    let listed = namespaces.list(&ListParams::default()).await.expect("list through the proxy");
    assert!(listed.items.iter().any(|ns| ns.metadata.name.as_deref() == Some("default")));

    // Refuse: the pooled connection is cut and a new one is closed at once, so the request fails fast.
    proxy.set_mode(Mode::Refuse);
    let accepted = proxy.connections_accepted();
    let started = Instant::now();
    assert!(namespaces.list(&ListParams::default()).await.is_err(), "a refusing peer must fail the request");
    assert!(started.elapsed() < Duration::from_secs(5), "refused after {:?}", started.elapsed());
    assert!(proxy.connections_accepted() > accepted, "the client reconnected and was refused");

    // Blackhole: connected, but no answer ever comes.
    proxy.set_mode(Mode::Blackhole);
    let hung = tokio::time::timeout(Duration::from_secs(2), namespaces.list(&ListParams::default())).await;
    assert!(hung.is_err(), "a blackholed request must not complete: {hung:?}");

    // Pass again, from another handle: requests work again.
    proxy.control().set_mode(Mode::Pass);
    tokio::time::timeout(Duration::from_secs(10), namespaces.list(&ListParams::default()))
        .await
        .expect("list in time after Pass")
        .expect("list after Pass");

    // Trickle: the answer comes one byte per interval, and all at once when back to Pass.
    let mut whole = plaintext_request(proxy.port()).await;
    let expected = read_for(&mut whole, Duration::from_secs(2)).await;
    assert!(expected.starts_with(b"HTTP/1.0 400"), "{:?}", String::from_utf8_lossy(&expected));
    proxy.set_mode(Mode::Trickle(Duration::from_millis(100)));
    let mut slow = plaintext_request(proxy.port()).await;
    let trickled = read_for(&mut slow, Duration::from_secs(1)).await;
    assert!((3..=15).contains(&trickled.len()), "{} bytes in 1 s at 10 bytes/s", trickled.len());
    assert!(expected.starts_with(&trickled), "{:?}", String::from_utf8_lossy(&trickled));
    proxy.set_mode(Mode::Pass);
    let rest = read_for(&mut slow, Duration::from_secs(1)).await;
    assert_eq!([trickled, rest].concat(), expected);

    // Dropped: the port is closed and so are open connections.
    proxy.set_mode(Mode::Blackhole);
    let mut open = plaintext_request(proxy.port()).await;
    let port = proxy.port();
    drop(proxy);
    let closed = tokio::time::timeout(Duration::from_secs(2), open.read(&mut [0u8; 16])).await;
    assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "an open connection must be closed: {closed:?}");
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err(), "the proxy's port must be closed");
}
