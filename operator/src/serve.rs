//! The controller's small HTTP server: `/metrics` for Prometheus, `/healthz` and `/readyz` for the
//! kubelet's probes, stopped with the rest of the controller on shutdown.

use crate::metrics::Metrics;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// What `/metrics` answers with: the OpenMetrics text format Prometheus negotiates.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How long in-flight requests may run after shutdown before their connections are dropped: a
/// scrape takes milliseconds, and the pod's termination grace period is short.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a client may take to send its request headers, so a stalled peer cannot hold a
/// connection open.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections served at once; more are closed on accept. Probes and a scraper need a handful.
const MAX_CONNECTIONS: usize = 64;

/// How long to pause after an accept error that is not about one connection (out of file
/// descriptors, say), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listen address could not be bound (in use, not local, not permitted).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

/// Readiness shared between the controller, which knows when it can do its job, and `/readyz`.
/// Cheap to clone; every clone sees the same state.
#[derive(Debug, Clone)]
pub struct Health {
    /// `None` when ready, else why not.
    not_ready: Arc<RwLock<Option<String>>>,
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

impl Health {
    /// Starts not ready: a replica is ready only once the controller says so.
    pub fn new() -> Self {
        Self {
            not_ready: Arc::new(RwLock::new(Some("starting".to_owned()))),
        }
    }

    /// Flips readiness; not ready without a reason reads "not ready" on `/readyz`.
    pub fn set_ready(&self, ready: bool) {
        self.set(if ready {
            None
        } else {
            Some("not ready".to_owned())
        });
    }

    /// Marks the replica not ready with the reason `/readyz` shows, for whoever debugs a probe.
    pub fn set_not_ready(&self, reason: impl Into<String>) {
        self.set(Some(reason.into()));
    }

    /// Whether `/readyz` answers 200.
    pub fn is_ready(&self) -> bool {
        self.reason().is_none()
    }

    fn set(&self, state: Option<String>) {
        *self
            .not_ready
            .write()
            .unwrap_or_else(PoisonError::into_inner) = state;
    }

    fn reason(&self) -> Option<String> {
        self.not_ready
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Binds the listener before anything else starts, so a taken port fails startup with the
/// address in the message.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until `shutdown` is cancelled; then
/// stops accepting, lets in-flight requests finish for a few seconds and returns.
///
/// Accept errors are logged and retried rather than returned: a probe endpoint that gives up
/// would get the pod restarted for a passing fault.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    health: Health,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let addr = listener.local_addr().ok();
    tracing::info!(?addr, "serving /metrics, /healthz and /readyz");
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if connections.len() >= MAX_CONNECTIONS {
                        tracing::warn!(%peer, max = MAX_CONNECTIONS, "too many connections; closing");
                        drop(stream);
                        continue;
                    }
                    let (metrics, health) = (Arc::clone(&metrics), health.clone());
                    connections.spawn(connection(stream, metrics, health, shutdown.clone()));
                }
                Err(error) if is_connection_error(&error) => {
                    tracing::debug!(%error, "accept failed for one connection");
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                    }
                }
            },
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "connections still open after the drain timeout; closing them"
        );
        connections.shutdown().await;
    }
    tracing::info!(?addr, "HTTP server stopped");
    Ok(())
}

/// Errors that concern one connection only, after which accepting goes on at once.
fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    )
}

async fn connection(
    stream: TcpStream,
    metrics: Arc<Metrics>,
    health: Health,
    shutdown: CancellationToken,
) {
    let service = service_fn(move |request: Request<Incoming>| {
        let response = respond(&request, &metrics, &health);
        async move { Ok::<_, Infallible>(response) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = shutdown.cancelled() => {
            // NB: finishes the request in flight, then closes; an idle keep-alive closes at once.
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, "HTTP connection ended with an error");
    }
}

fn respond<B>(request: &Request<B>, metrics: &Metrics, health: &Health) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    if !matches!(path, "/metrics" | "/healthz" | "/readyz") {
        return text(StatusCode::NOT_FOUND, "not found\n".to_owned());
    }
    if request.method() != Method::GET {
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed\n".to_owned(),
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return response;
    }
    match path {
        "/metrics" => {
            let mut response = Response::new(Full::new(Bytes::from(metrics.encode())));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static(OPENMETRICS_CONTENT_TYPE),
            );
            response
        }
        "/readyz" => match health.reason() {
            None => text(StatusCode::OK, "ok\n".to_owned()),
            Some(reason) => text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {reason}\n"),
            ),
        },
        _ => text(StatusCode::OK, "ok\n".to_owned()),
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::task::JoinHandle;

    struct Server {
        addr: SocketAddr,
        metrics: Arc<Metrics>,
        health: Health,
        shutdown: CancellationToken,
        task: JoinHandle<Result<(), ServeError>>,
    }

    async fn start() -> Server {
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let metrics = Arc::new(Metrics::new());
        let health = Health::new();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(serve(
            listener,
            Arc::clone(&metrics),
            health.clone(),
            shutdown.clone(),
        ));
        Server {
            addr,
            metrics,
            health,
            shutdown,
            task,
        }
    }

    struct Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Reply {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    /// One request on a fresh connection, read to the server's close.
    async fn request(addr: SocketAddr, method: &str, path: &str) -> Reply {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).await.unwrap();
        parse(&raw)
    }

    fn parse(raw: &str) -> Reply {
        let (head, body) = raw.split_once("\r\n\r\n").expect("a header block");
        let mut lines = head.lines();
        let status = lines.next().unwrap().split(' ').nth(1).unwrap();
        let headers = lines
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.trim().to_owned(), v.trim().to_owned())
            })
            .collect();
        Reply {
            status: status.parse().unwrap(),
            headers,
            body: body.to_owned(),
        }
    }

    #[tokio::test]
    async fn routes_answer_as_the_probes_and_prometheus_expect() {
        let server = start().await;
        server.metrics.reconciled("Skill", "ok");

        let metrics = request(server.addr, "GET", "/metrics").await;
        assert_eq!(metrics.status, 200);
        assert_eq!(
            metrics.header("content-type"),
            Some(OPENMETRICS_CONTENT_TYPE)
        );
        assert!(
            metrics
                .body
                .contains("skillbox_reconciles_total{kind=\"Skill\",outcome=\"ok\"} 1\n"),
            "{}",
            metrics.body
        );
        assert!(metrics.body.ends_with("# EOF\n"));

        let healthz = request(server.addr, "GET", "/healthz").await;
        assert_eq!((healthz.status, healthz.body.as_str()), (200, "ok\n"));

        let readyz = request(server.addr, "GET", "/readyz").await;
        assert_eq!(
            (readyz.status, readyz.body.as_str()),
            (503, "not ready: starting\n")
        );
        server.health.set_ready(true);
        assert!(server.health.is_ready());
        let readyz = request(server.addr, "GET", "/readyz?verbose").await;
        assert_eq!((readyz.status, readyz.body.as_str()), (200, "ok\n"));
        server.health.set_not_ready("caches not synced");
        let readyz = request(server.addr, "GET", "/readyz").await;
        assert_eq!(
            (readyz.status, readyz.body.as_str()),
            (503, "not ready: caches not synced\n")
        );
        server.health.set_ready(false);
        assert!(!server.health.is_ready());

        let missing = request(server.addr, "GET", "/nope").await;
        assert_eq!(missing.status, 404);
        let post = request(server.addr, "POST", "/metrics").await;
        assert_eq!(post.status, 405);
        assert_eq!(post.header("allow"), Some("GET"));

        server.shutdown.cancel();
        server.task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn shutdown_stops_accepting_and_closes_idle_connections() {
        let server = start().await;
        // A keep-alive connection that has been served once and now sits idle.
        let mut idle = TcpStream::connect(server.addr).await.unwrap();
        idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        let mut buf = vec![0u8; 1024];
        let n = idle.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));

        server.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(2), server.task)
            .await
            .expect("serve returns promptly")
            .unwrap()
            .unwrap();
        let n = tokio::time::timeout(Duration::from_secs(2), idle.read(&mut buf))
            .await
            .expect("the idle connection is closed")
            .unwrap_or(0);
        assert_eq!(n, 0, "no more bytes after shutdown");
        assert!(
            TcpStream::connect(server.addr).await.is_err(),
            "no longer accepting"
        );
    }

    #[tokio::test]
    async fn shutdown_lets_a_request_in_flight_finish() {
        let server = start().await;
        let mut slow = TcpStream::connect(server.addr).await.unwrap();
        // Half a request: the server is reading its headers when shutdown comes.
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        server.shutdown.cancel();
        tokio::time::sleep(Duration::from_millis(50)).await;
        slow.write_all(b"Connection: close\r\n\r\n").await.unwrap();
        let mut raw = String::new();
        slow.read_to_string(&mut raw).await.unwrap();
        let reply = parse(&raw);
        assert_eq!((reply.status, reply.body.as_str()), (200, "ok\n"));
        server.task.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn bind_names_the_address_it_could_not_take() {
        let taken = bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let addr = taken.local_addr().unwrap();
        let error = bind(addr).await.unwrap_err();
        assert!(error.to_string().contains(&addr.to_string()), "{error}");
    }
}
