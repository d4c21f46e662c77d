//! The server scaffolding over real HTTP on 127.0.0.1:0.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use commerce_kit_core::server;
use http::Method;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

async fn start(routes: Router, grace: Duration) -> Running {
    start_app(server::app(routes), grace).await
}

async fn start_app(app: impl server::HttpApp, grace: Duration) -> Running {
    let listener = server::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(server::serve(listener, app, shutdown, grace));
    Running {
        addr,
        stop: Some(stop),
        task,
    }
}

fn routes() -> Router {
    Router::new()
        .route("/echo", post(|body: String| async move { body }))
        .route(
            "/forever",
            get(|| async {
                std::future::pending::<()>().await;
                "never"
            }),
        )
        .route(
            "/panic",
            get(|| async {
                if true {
                    panic!("secret internal detail");
                }
                "unreachable"
            }),
        )
}

async fn json_of(resp: reqwest::Response) -> Value {
    resp.json().await.expect("json body")
}

#[tokio::test]
async fn health_answers_ok() {
    let s = start(routes(), Duration::from_secs(5)).await;
    let resp = reqwest::get(s.url("/health")).await.expect("request");
    assert_eq!(resp.status(), 200);
    assert_eq!(json_of(resp).await, json!({"status": "ok"}));
}

#[tokio::test]
async fn unknown_route_is_json_404_and_wrong_method_is_json_405() {
    let s = start(routes(), Duration::from_secs(5)).await;
    let client = reqwest::Client::new();

    let resp = client.get(s.url("/nope?x=1")).send().await.expect("request");
    assert_eq!(resp.status(), 404);
    assert_eq!(json_of(resp).await, json!({"error": "no route for GET /nope"}));

    let resp = client.get(s.url("/echo")).send().await.expect("request");
    assert_eq!(resp.status(), 405);
    assert_eq!(json_of(resp).await, json!({"error": "method GET not allowed on /echo"}));

    let resp = client.delete(s.url("/health")).send().await.expect("request");
    assert_eq!(resp.status(), 405);
    assert_eq!(
        json_of(resp).await,
        json!({"error": "method DELETE not allowed on /health"})
    );
}

#[tokio::test]
async fn request_id_is_echoed_generated_or_replaced() {
    let s = start(routes(), Duration::from_secs(5)).await;
    let client = reqwest::Client::new();

    let resp = client
        .post(s.url("/echo"))
        .header("x-request-id", "abc-123")
        .body("x")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.headers()["x-request-id"], "abc-123");

    let first = client.get(s.url("/health")).send().await.expect("request");
    let second = client.get(s.url("/health")).send().await.expect("request");
    let a = first.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    let b = second.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    assert!(!a.is_empty() && a != b, "generated ids differ: {a} {b}");

    // A 404 carries an id too, and an id with spaces (log injection) is replaced.
    let resp = client
        .get(s.url("/missing"))
        .header("x-request-id", "evil id\tinjected")
        .send()
        .await
        .expect("request");
    let id = resp.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    assert_ne!(id, "evil id\tinjected");
    assert!(id.bytes().all(|b| b.is_ascii_graphic()), "{id}");
}

#[tokio::test]
async fn a_panicking_handler_answers_500_without_details_and_the_server_keeps_serving() {
    let s = start(routes(), Duration::from_secs(5)).await;
    let resp = reqwest::get(s.url("/panic")).await.expect("request");
    assert_eq!(resp.status(), 500);
    let body = resp.text().await.expect("body");
    assert_eq!(body, r#"{"error":"internal error"}"#);
    for _ in 0..3 {
        let resp = reqwest::get(s.url("/health")).await.expect("still serving");
        assert_eq!(resp.status(), 200);
    }
}

/// The direct handler of the `app_direct` tests: echoes the body, marked as
/// served directly; panics on a body of `panic now` (while called) or
/// `panic later` (while polled).
fn direct_echo(request: Request) -> impl Future<Output = Response> + Send {
    let panic_now = request.headers().get("x-panic").is_some_and(|v| v.as_bytes() == b"now");
    if panic_now {
        panic!("secret detail in call");
    }
    async move {
        let panic_later = request.headers().contains_key("x-panic");
        let body = axum::body::to_bytes(request.into_body(), 1024).await.expect("body");
        if panic_later {
            panic!("secret detail in poll");
        }
        ([("x-served", "direct")], body).into_response()
    }
}

#[tokio::test]
async fn app_direct_serves_its_route_directly_and_everything_else_as_app_does() {
    let app = server::app_direct(routes(), Method::POST, "/echo", direct_echo);
    let s = start_app(app, Duration::from_secs(5)).await;
    let client = reqwest::Client::new();

    let resp = client
        .post(s.url("/echo"))
        .header("x-request-id", "direct-1")
        .body("hello")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-served"], "direct");
    assert_eq!(resp.headers()["x-request-id"], "direct-1");
    assert_eq!(resp.text().await.expect("body"), "hello");

    // Another method on the direct route's path goes to the router: 405.
    let resp = client.get(s.url("/echo")).send().await.expect("request");
    assert_eq!(resp.status(), 405);
    assert_eq!(json_of(resp).await, json!({"error": "method GET not allowed on /echo"}));
    // A query string does not change the path.
    let resp = client.post(s.url("/echo?x=1")).body("q").send().await.expect("request");
    assert_eq!(resp.headers()["x-served"], "direct");

    let resp = client.get(s.url("/health")).send().await.expect("request");
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-request-id"));
    assert_eq!(json_of(resp).await, json!({"status": "ok"}));
    let resp = client.get(s.url("/nope")).send().await.expect("request");
    assert_eq!(resp.status(), 404);
    assert_eq!(json_of(resp).await, json!({"error": "no route for GET /nope"}));
    let resp = client.get(s.url("/panic")).send().await.expect("request");
    assert_eq!(resp.status(), 500);
}

#[tokio::test]
async fn a_panicking_direct_handler_answers_500_without_details_and_the_server_keeps_serving() {
    let app = server::app_direct(routes(), Method::POST, "/echo", direct_echo);
    let s = start_app(app, Duration::from_secs(5)).await;
    let client = reqwest::Client::new();
    for when in ["now", "later", "now"] {
        let resp = client
            .post(s.url("/echo"))
            .header("x-panic", when)
            .body("x")
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 500, "panic {when}");
        assert!(resp.headers().contains_key("x-request-id"));
        assert_eq!(resp.text().await.expect("body"), r#"{"error":"internal error"}"#);
        let resp = client
            .post(s.url("/echo"))
            .body("still")
            .send()
            .await
            .expect("still serving");
        assert_eq!(resp.text().await.expect("body"), "still");
    }
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let entered = std::sync::Arc::new(tokio::sync::Notify::new());
    let signal = entered.clone();
    let slow = Router::new().route(
        "/slow",
        get(move || {
            let signal = signal.clone();
            async move {
                signal.notify_one();
                tokio::time::sleep(Duration::from_millis(400)).await;
                "slow done"
            }
        }),
    );
    let mut s = start(slow, Duration::from_secs(5)).await;
    let url = s.url("/slow");
    let client = reqwest::Client::new();
    let in_flight = tokio::spawn(async move { client.get(url).send().await });
    // Shut down only once the handler is running.
    entered.notified().await;
    s.stop.take().expect("stop").send(()).expect("server alive");

    let resp = in_flight.await.expect("join").expect("in-flight request completes");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.expect("body"), "slow done");
    let result = tokio::time::timeout(Duration::from_secs(5), s.task)
        .await
        .expect("server stops");
    result.expect("join").expect("clean stop");

    // New connections are refused once stopped.
    assert!(reqwest::get(format!("http://{}/health", s.addr)).await.is_err());
}

#[tokio::test]
async fn shutdown_grace_bounds_a_hanging_request() {
    let mut s = start(routes(), Duration::from_millis(200)).await;
    let url = s.url("/forever");
    let client = reqwest::Client::new();
    // Make sure the connection is up before the hanging request is sent.
    assert_eq!(
        client.get(s.url("/health")).send().await.expect("warm up").status(),
        200
    );
    let _hanging = tokio::spawn(async move { client.get(url).send().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    s.stop.take().expect("stop").send(()).expect("server alive");
    let result = tokio::time::timeout(Duration::from_secs(5), s.task)
        .await
        .expect("stops after the grace period");
    result.expect("join").expect("clean stop");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(200), "waited the grace period: {took:?}");
}

/// Size of the `/big` answer: far more than the kernel buffers of a loopback
/// connection whose client does not read.
const BIG: usize = 32 << 20;

/// A server with a 1 s read timeout; `/read` reads its body with `read_limited`;
/// `/big` answers [`BIG`] bytes.
async fn start_with_read_timeout() -> Running {
    let routes = routes().route("/big", get(|| async { vec![b'x'; BIG] })).route(
        "/read",
        post(|request: Request| async move {
            match commerce_kit_core::body::read_limited(request.into_body(), 1024).await {
                Ok(bytes) => format!("read {} bytes", bytes.len()).into_response(),
                Err(err) => commerce_kit_core::http::error_response(err.status(), err.to_string()),
            }
        }),
    );
    let listener = server::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let options = server::ServeOptions {
        grace: Duration::from_secs(1),
        read_timeout: Duration::from_secs(1),
    };
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(server::serve_with(listener, server::app(routes), shutdown, options));
    Running {
        addr,
        stop: Some(stop),
        task,
    }
}

/// Writes `sent`, then reads until the server closes the connection or 5 s
/// pass; returns what was read and how long it took.
async fn send_and_read(addr: SocketAddr, sent: &[u8]) -> (String, Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(sent).await.expect("write");
    let started = std::time::Instant::now();
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the server still holds the connection after 5 s");
    (String::from_utf8_lossy(&got).into_owned(), started.elapsed())
}

/// The 1 s read timeout, not something sooner or much later, ended the exchange.
fn assert_cut_off_after_the_timeout(took: Duration) {
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off_and_others_are_served() {
    let s = start_with_read_timeout().await;
    let slow = tokio::spawn(send_and_read(s.addr, b"POST /read HTTP/1.1\r\nhost: x\r\ncontent-le"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let resp = reqwest::get(s.url("/health")).await.expect("served meanwhile");
    assert_eq!(resp.status(), 200);
    let (answer, took) = slow.await.expect("join");
    assert_eq!(answer, "", "closed without an answer");
    assert_cut_off_after_the_timeout(took);
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_read_timeout() {
    let s = start_with_read_timeout().await;
    let (answer, took) = send_and_read(s.addr, b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with(r#"{"status":"ok"}"#), "{answer}");
    assert_cut_off_after_the_timeout(took);
}

#[tokio::test]
async fn a_stalled_body_is_answered_408_and_a_complete_one_is_read() {
    let s = start_with_read_timeout().await;
    let (answer, took) = send_and_read(
        s.addr,
        b"POST /read HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\nconnection: close\r\n\r\n{\"a\":",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{answer}");
    assert!(
        answer.ends_with(r#"{"error":"request body not received within 1 s"}"#),
        "{answer}"
    );
    assert_cut_off_after_the_timeout(took);
    let resp = reqwest::Client::new()
        .post(s.url("/read"))
        .body("0123456789")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.expect("body"), "read 10 bytes");
}

/// Connects with a small receive buffer, sends `request`, and reads nothing.
async fn connect_and_stop_reading(addr: SocketAddr, request: &[u8]) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let mut tcp = socket.connect(addr).await.expect("connect");
    tcp.write_all(request).await.expect("write");
    tcp
}

/// Reads until the connection ends (closed or reset) or 10 s pass; returns the byte count.
async fn drain(tcp: &mut tokio::net::TcpStream) -> usize {
    use tokio::io::AsyncReadExt;
    let mut got = 0;
    let mut buf = vec![0u8; 1 << 16];
    let read_all = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
    };
    let ended = tokio::time::timeout(Duration::from_secs(10), read_all).await;
    assert!(ended.is_ok(), "the connection did not end within 10 s");
    got
}

#[tokio::test]
async fn a_client_that_stops_reading_a_large_answer_is_disconnected_after_the_timeout_and_others_are_served() {
    let s = start_with_read_timeout().await;
    let request = b"GET /big HTTP/1.1\r\nhost: x\r\n\r\n";
    let mut stalled = connect_and_stop_reading(s.addr, request).await;
    // while the answer is stuck, other clients are served
    tokio::time::sleep(Duration::from_millis(300)).await;
    let resp = reqwest::get(s.url("/health")).await.expect("served meanwhile");
    assert_eq!(resp.status(), 200);
    // past the 1 s timeout (with room for a loaded machine), the server has let go:
    // reading now ends early instead of receiving the whole answer
    tokio::time::sleep(Duration::from_millis(2700)).await;
    let got = drain(&mut stalled).await;
    assert!(got < BIG, "cut off: {got} of {BIG} bytes");

    // a client that pauses for less than the timeout, then reads, gets everything
    let mut paused = connect_and_stop_reading(s.addr, request).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = drain(&mut paused).await;
    assert!(got > BIG, "the whole answer and its headers: {got} bytes");
}
