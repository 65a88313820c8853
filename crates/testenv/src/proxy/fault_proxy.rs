//! An HTTPS reverse proxy in front of a cluster's API server that answers chosen requests with errors,
//! to test how clients cope with 429s, 503s and the like from a real conversation.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::{Request, Response, Uri, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::fault::{Fault, Rules};
use super::listener::{self, Background};
use super::status::{self, ProxyBody};
use super::tls;
use crate::TestCluster;

/// What the fault proxy answers an injected fault with, so tests can tell it from the API server's.
const MESSAGE: &str = "injected by testenv";

/// An HTTPS proxy on 127.0.0.1 in front of a [`TestCluster`]'s API server. It presents a certificate
/// from the cluster's own serving CA (so the cluster's kubeconfigs trust it as they trust the cluster),
/// forwards each request as the cluster admin and streams bodies both ways (watches work), unless a
/// [`Fault`] matches: then it answers itself with a Kubernetes `Status`. Upgrades (exec, port-forward)
/// are not supported. Dropping it stops it and closes all its connections.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    kubeconfig: String,
    _task: Background,
}

/// State seen by every connection.
struct Shared {
    rules: Rules,
    injected: AtomicUsize,
    forwarded: AtomicUsize,
    upstream: String,
    client: Client<HttpsConnector<HttpConnector>, Incoming>,
}

impl FaultProxy {
    /// Starts on the current tokio runtime, forwarding everything until a fault is injected.
    pub fn start(cluster: &TestCluster) -> anyhow::Result<Self> {
        let pki = cluster.pki();
        let serving = pki.serving_cert("testenv-fault-proxy")?;
        let acceptor = TlsAcceptor::from(tls::server(&serving.cert_pem, &serving.key_pem)?);
        let upstream_tls = tls::client(&pki.serving_ca_pem, &pki.admin_cert_pem, &pki.admin_key_pem)?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(upstream_tls)
            .https_only()
            .enable_http1()
            .build();
        let shared = Arc::new(Shared {
            rules: Rules::default(),
            injected: AtomicUsize::new(0),
            forwarded: AtomicUsize::new(0),
            upstream: format!("https://{}", cluster.apiserver_addr()?),
            client: Client::builder(TokioExecutor::new()).build(connector),
        });
        let state = shared.clone();
        let (addr, task) = listener::spawn(move |stream| serve(stream, acceptor.clone(), state.clone()))?;
        let kubeconfig = cluster.kubeconfig_via(&format!("https://{addr}"));
        Ok(Self { addr, shared, kubeconfig, _task: task })
    }

    /// Adds a fault after those already injected (the first that matches a request is used).
    pub fn inject(&self, fault: Fault) {
        self.shared.rules.inject(fault);
    }

    /// Removes the faults not used up yet.
    pub fn clear(&self) {
        self.shared.rules.clear();
    }

    /// Requests answered with a fault so far.
    pub fn injected(&self) -> usize {
        self.shared.injected.load(Ordering::Relaxed)
    }

    /// Requests passed on to the API server so far.
    pub fn forwarded(&self) -> usize {
        self.shared.forwarded.load(Ordering::Relaxed)
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The cluster's admin kubeconfig pointing at the proxy.
    pub fn kubeconfig(&self) -> String {
        self.kubeconfig.clone()
    }
}

async fn serve(stream: TcpStream, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let Ok(tls) = acceptor.accept(stream).await else { return };
    let service = service_fn(move |request| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(shared.handle(request).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await;
}

impl Shared {
    async fn handle(&self, request: Request<Incoming>) -> Response<ProxyBody> {
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_string();
        if let Some(fault) = self.rules.take(request.method(), &path) {
            self.injected.fetch_add(1, Ordering::Relaxed);
            return status::failure(fault.status, MESSAGE, fault.retry_after_secs);
        }
        self.forwarded.fetch_add(1, Ordering::Relaxed);
        let (mut parts, body) = request.into_parts();
        parts.uri = match format!("{}{path}", self.upstream).parse::<Uri>() {
            Ok(uri) => uri,
            Err(e) => return status::failure(400, &format!("testenv fault proxy: bad request URI: {e}"), None),
        };
        // The client sets Host from the upstream URI; the proxy's own would name the wrong port.
        parts.headers.remove(header::HOST);
        match self.client.request(Request::from_parts(parts, body)).await {
            Ok(response) => response.map(BodyExt::boxed),
            Err(e) => status::failure(502, &format!("testenv fault proxy: API server unreachable: {e}"), None),
        }
    }
}
