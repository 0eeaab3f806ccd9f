//! The load and fault test: drives the axum receiver (tower layer) and the actix-web
//! receiver, in this process on loopback, with mixed traffic over concurrent
//! keep-alive connections, first with the in-memory store, then with Redis (a private
//! `redis-server`, killed and restarted midway).
//!
//! Traffic mix: unique valid deliveries, duplicates of earlier ones (some sent right
//! after their original, to meet it in flight), tampered bodies, stale timestamps and
//! oversized bodies. The sender retries 503 and 409 with a small backoff (bounded).
//!
//! Checked at the end of each run: no 5xx but 503, and 503 only while Redis is away
//! (plus a grace period for reconnection); every unique delivery's handler succeeded
//! exactly once; duplicates end in 200; tampered and stale get 401, oversized 413;
//! the process's resident memory stays under its bound.

use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hookwarden_core::dedup::{DedupConfig, DedupStore, MemoryStore};
use hookwarden_core::receive::Guard;
use hookwarden_core::schemes::StandardWebhooks;
use hookwarden_core::{SignInput, Verifier, sign};
use hookwarden_redis::RedisStore;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use crate::SECRET;

type BoxError = Box<dyn Error + Send + Sync>;

/// The body limit of the receivers; oversized deliveries carry twice as much.
pub const BODY_LIMIT: usize = 64 * 1024;

/// How many times the sender retries a 503 or 409 before giving up.
pub const MAX_RETRIES: u32 = 60;

/// Which receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    /// axum with `hookwarden_tower::WebhookLayer`.
    Axum,
    /// actix-web with `hookwarden_actix::WebhookMiddleware`.
    Actix,
}

/// Which dedup store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// `MemoryStore`.
    Memory,
    /// `RedisStore` on a private `redis-server`, restarted midway.
    Redis,
}

/// What one run does.
#[derive(Debug, Clone)]
pub struct Config {
    /// Requests per run (first attempts; retries come on top).
    pub requests: usize,
    /// Concurrent keep-alive connections.
    pub connections: usize,
    /// How long Redis stays down.
    pub outage: Duration,
    /// The bound on the process's resident memory growth over a run, in bytes.
    pub rss_growth_limit: u64,
    /// The dedup lease. A Redis claim that timed out on our side may still be
    /// applied by Redis when it comes back; the key is then held until the lease
    /// ends, so the sender's retries (≈ 14 s) must outlast it.
    pub lease: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            requests: 20_000,
            connections: 64,
            outage: Duration::from_millis(1500),
            rss_growth_limit: 24 << 20,
            lease: Duration::from_secs(3),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Unique,
    Duplicate,
    Tampered,
    Stale,
    Oversized,
}

impl Kind {
    fn expected(self) -> u16 {
        match self {
            Self::Unique | Self::Duplicate => 200,
            Self::Tampered | Self::Stale => 401,
            Self::Oversized => 413,
        }
    }
}

#[derive(Debug, Clone)]
struct Job {
    kind: Kind,
    id: String,
    headers: Arc<Vec<(String, String)>>,
    body: Bytes,
}

/// Sign the traffic mix: 60 % unique, 15 % duplicates, 10 % tampered, 10 % stale,
/// 5 % oversized, in a fixed pseudo-random order.
fn prepare(requests: usize, run: &str) -> Result<Vec<Job>, BoxError> {
    let now = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())?;
    let scheme = StandardWebhooks::new();
    let secret = SECRET.into();
    let signed = |body: &[u8], id: &str, ts: i64| {
        sign(
            &scheme,
            &secret,
            &SignInput {
                body,
                timestamp: ts,
                id: Some(id),
                url: None,
            },
        )
        .map(Arc::new)
    };
    let big = Bytes::from(vec![b'x'; BODY_LIMIT * 2]);
    let big_headers = signed(&big, &format!("{run}-big"), now)?;
    let mut jobs: Vec<Job> = Vec::with_capacity(requests);
    let mut uniques: Vec<usize> = Vec::new();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for i in 0..requests {
        // xorshift: a fixed order, no dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let roll = state % 100;
        let id = format!("{run}-{i:06}");
        let body = format!(
            r#"{{"type":"invoice.paid","n":{i},"pad":"{}"}}"#,
            "p".repeat(900)
        );
        let job = match roll {
            60..75 if !uniques.is_empty() => {
                // Half right after a recent original (to meet it in flight), half any.
                let r = usize::try_from(state >> 32).unwrap_or(0);
                let pick = if roll.is_multiple_of(2) {
                    uniques[uniques.len() - 1 - r % uniques.len().min(4)]
                } else {
                    uniques[r % uniques.len()]
                };
                Job {
                    kind: Kind::Duplicate,
                    ..jobs[pick].clone()
                }
            }
            0..75 => {
                uniques.push(jobs.len());
                Job {
                    kind: Kind::Unique,
                    headers: signed(body.as_bytes(), &id, now)?,
                    body: Bytes::from(body),
                    id,
                }
            }
            75..85 => Job {
                kind: Kind::Tampered,
                headers: signed(body.as_bytes(), &id, now)?,
                body: Bytes::from(body.replace("invoice.paid", "invoice.PAID")),
                id,
            },
            85..95 => Job {
                kind: Kind::Stale,
                headers: signed(body.as_bytes(), &id, now - 3600)?,
                body: Bytes::from(body),
                id,
            },
            _ => Job {
                kind: Kind::Oversized,
                headers: big_headers.clone(),
                body: big.clone(),
                id,
            },
        };
        jobs.push(job);
    }
    Ok(jobs)
}

/// Handler calls per delivery id.
type Counts = Arc<Mutex<HashMap<String, u32>>>;

fn count(counts: &Counts, id: Option<&[u8]>) {
    let id = String::from_utf8_lossy(id.unwrap_or(b"<none>")).into_owned();
    *counts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(id)
        .or_default() += 1;
}

fn guard<S: DedupStore>(store: S, lease: Duration) -> Result<Guard<S>, BoxError> {
    let verifier = Verifier::builder(StandardWebhooks::new())
        .secret(SECRET)
        .build()?;
    Ok(Guard::builder(verifier)
        .with_store(store)
        .with_dedup(DedupConfig::new().with_lease(lease))
        .with_body_limit(BODY_LIMIT)
        .with_retry_after(Duration::from_secs(1))
        .build()?)
}

/// A running receiver: its address and how to stop it.
struct Receiver {
    addr: SocketAddr,
    stop: Box<dyn FnOnce() + Send>,
}

async fn start_axum<S: DedupStore>(guard: Guard<S>, counts: Counts) -> Result<Receiver, BoxError> {
    use axum::routing::post;
    let handler = move |headers: axum::http::HeaderMap| {
        let counts = counts.clone();
        async move {
            count(
                &counts,
                headers
                    .get("webhook-id")
                    .map(axum::http::HeaderValue::as_bytes),
            );
            "ok"
        }
    };
    let app = axum::Router::new()
        .route("/hooks", post(handler))
        .layer(hookwarden_tower::WebhookLayer::new(guard));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    Ok(Receiver {
        addr,
        stop: Box::new(move || {
            let _ = tx.send(());
        }),
    })
}

fn start_actix<S: DedupStore>(guard: Guard<S>, counts: Counts) -> Result<Receiver, BoxError> {
    use actix_web::{App, HttpRequest, HttpServer, web};
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let result = actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                let counts = counts.clone();
                App::new().service(
                    web::resource("/hooks")
                        .wrap(hookwarden_actix::WebhookMiddleware::new(guard.clone()))
                        .route(web::post().to(move |req: HttpRequest| {
                            let counts = counts.clone();
                            async move {
                                count(
                                    &counts,
                                    req.headers().get("webhook-id").map(|v| v.as_bytes()),
                                );
                                "ok"
                            }
                        })),
                )
            })
            .workers(1)
            .disable_signals()
            .listen(listener)?
            .run();
            let _ = tx.send(server.handle());
            server.await
        });
        if let Err(e) = result {
            eprintln!("actix receiver failed: {e}");
        }
    });
    let handle = rx.recv_timeout(Duration::from_secs(10))?;
    Ok(Receiver {
        addr,
        stop: Box::new(move || {
            drop(handle.stop(false));
        }),
    })
}

/// A private `redis-server` with an append-only file fsynced on every write, so a
/// kill loses nothing it acknowledged: the restart tests outage, not data loss.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Start one on a free loopback port; `None` (with the reason) when
    /// `redis-server` is not installed.
    ///
    /// # Errors
    ///
    /// When it is installed but does not start.
    pub fn start() -> Result<Result<Self, String>, BoxError> {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            return Ok(Err("redis-server is not installed".into()));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir = std::env::temp_dir().join(format!(
            "hookwarden-load-fault-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir)?;
        let mut server = Self {
            child: None,
            port,
            dir,
        };
        server.spawn()?;
        Ok(Ok(server))
    }

    fn spawn(&mut self) -> Result<(), BoxError> {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("redis-server on port {} did not start", self.port).into())
    }

    /// Wait until it answers `PING` (10 s at most).
    fn wait_for_ping(&self) -> Result<(), BoxError> {
        use std::io::{Read as _, Write as _};
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0; 7];
                if s.write_all(b"PING\r\n").is_ok()
                    && s.read_exact(&mut buf).is_ok()
                    && &buf == b"+PONG\r\n"
                {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("redis-server on port {} did not answer PING", self.port).into())
    }

    /// Kill it (by its process id) and reap it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The URL to connect to.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One run's figures.
#[derive(Debug, Default, Clone)]
pub struct Row {
    /// `axum/memory`, `actix/redis`...
    pub name: String,
    /// First attempts.
    pub requests: usize,
    /// All attempts.
    pub attempts: u64,
    /// Final status counts per kind.
    pub finals: BTreeMap<String, BTreeMap<u16, usize>>,
    /// Every status seen, retries included.
    pub seen: BTreeMap<u16, u64>,
    /// 503s seen while Redis was away (until it answered again, plus a margin).
    pub in_outage_503: u64,
    /// Connections that broke mid-request (resent on a new connection).
    pub transport_errors: u64,
    /// Unique deliveries, and how many ran their handler exactly once.
    pub uniques: usize,
    /// Unique deliveries whose handler ran exactly once.
    pub exactly_once: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Resident memory before and at its peak, bytes.
    pub rss: (u64, u64),
    /// What went wrong.
    pub violations: Vec<String>,
}

/// The process's resident memory (`VmRSS`), bytes.
#[must_use]
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

struct Outage {
    /// From the kill until the store answers again (plus a margin): 503 is expected,
    /// and no new delivery starts (those in flight keep retrying), so that the
    /// traffic after the outage is checked strictly.
    active: AtomicBool,
    seen_503: AtomicU64,
}

/// Send `jobs` over `connections` connections to `addr`; returns per job its final
/// status, and every status seen.
async fn drive(
    addr: SocketAddr,
    jobs: Arc<Vec<Job>>,
    connections: usize,
    outage: Arc<Outage>,
    progress: Arc<AtomicUsize>,
    transport: Arc<AtomicU64>,
) -> Result<(Vec<u16>, BTreeMap<u16, u64>, u64, Vec<String>), BoxError> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (jobs, next, outage, progress) =
            (jobs.clone(), next.clone(), outage.clone(), progress.clone());
        let transport = transport.clone();
        tasks.push(tokio::spawn(async move {
            let mut finals = Vec::new();
            let mut seen: BTreeMap<u16, u64> = BTreeMap::new();
            let mut attempts = 0u64;
            let mut problems = Vec::new();
            let mut conn = None;
            loop {
                while outage.active.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let mut status = 0;
                for attempt in 0..=MAX_RETRIES {
                    attempts += 1;
                    match send(&mut conn, addr, job).await {
                        Ok(s) => status = s,
                        Err(_) => {
                            // The connection broke. A server answering 413 before
                            // reading a body closes it; for any other request it is a
                            // fault (a panic drops the connection). Reconnect, resend.
                            conn = None;
                            transport.fetch_add(1, Ordering::Relaxed);
                            status = 0;
                            if job.kind != Kind::Oversized {
                                problems.push(format!(
                                    "connection broken for {} ({:?})",
                                    job.id, job.kind
                                ));
                            }
                        }
                    }
                    *seen.entry(status).or_default() += 1;
                    if status == 503 && outage.active.load(Ordering::SeqCst) {
                        outage.seen_503.fetch_add(1, Ordering::Relaxed);
                    } else if status >= 500 {
                        problems.push(format!(
                            "{status} outside the outage for {} ({:?})",
                            job.id, job.kind
                        ));
                    }
                    if !matches!(status, 503 | 409 | 0) {
                        break;
                    }
                    let backoff = Duration::from_millis(20 * u64::from(attempt + 1))
                        .min(Duration::from_millis(250));
                    tokio::time::sleep(backoff).await;
                }
                if job.kind == Kind::Oversized {
                    // The server closes the connection after refusing a body it did not
                    // read; the next request must not be sent on it.
                    conn = None;
                }
                finals.push((i, status));
                progress.fetch_add(1, Ordering::Relaxed);
            }
            (finals, seen, attempts, problems)
        }));
    }
    let mut finals = vec![0u16; jobs.len()];
    let mut seen: BTreeMap<u16, u64> = BTreeMap::new();
    let mut attempts = 0;
    let mut problems = Vec::new();
    for t in tasks {
        let (f, s, a, p) = t.await?;
        for (i, status) in f {
            if let Some(slot) = finals.get_mut(i) {
                *slot = status;
            }
        }
        for (k, v) in s {
            *seen.entry(k).or_default() += v;
        }
        attempts += a;
        problems.extend(p);
    }
    Ok((finals, seen, attempts, problems))
}

type Conn = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn send(conn: &mut Option<Conn>, addr: SocketAddr, job: &Job) -> Result<u16, BoxError> {
    if conn.as_ref().is_none_or(|c| c.is_closed()) {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (send, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        *conn = Some(send);
    }
    let Some(c) = conn.as_mut() else {
        return Err("no connection".into());
    };
    let mut req = hyper::Request::post("/hooks").header("host", addr.to_string());
    for (k, v) in job.headers.iter() {
        req = req.header(k, v);
    }
    c.ready().await?;
    let res = c
        .send_request(req.body(Full::new(job.body.clone()))?)
        .await?;
    let status = res.status().as_u16();
    res.into_body().collect().await?;
    Ok(status)
}

/// Run one framework with one store. For Redis, `redis` is the server to kill and
/// restart midway.
///
/// # Errors
///
/// Setup failures (binding, signing, Redis not reachable at the start).
pub fn run_one(
    rt: &tokio::runtime::Runtime,
    framework: Framework,
    store: Store,
    redis: Option<&mut RedisServer>,
    config: &Config,
) -> Result<Row, BoxError> {
    let name = format!(
        "{}/{}",
        match framework {
            Framework::Axum => "axum",
            Framework::Actix => "actix",
        },
        match store {
            Store::Memory => "memory",
            Store::Redis => "redis",
        }
    );
    let run = format!(
        "{}-{}",
        name.replace('/', "-"),
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis()
    );
    let jobs = Arc::new(prepare(config.requests, &run)?);
    let counts: Counts = Arc::default();
    let rss_before = rss_bytes();
    let receiver = match (store, framework) {
        (Store::Memory, Framework::Axum) => rt.block_on(start_axum(
            guard(MemoryStore::new(), config.lease)?,
            counts.clone(),
        ))?,
        (Store::Memory, Framework::Actix) => {
            start_actix(guard(MemoryStore::new(), config.lease)?, counts.clone())?
        }
        (Store::Redis, _) => {
            let url = redis.as_ref().map(|r| r.url()).ok_or("no redis server")?;
            let redis_store = rt.block_on(async {
                RedisStore::builder(&url)?
                    .with_prefix(format!("{run}:"))
                    .with_timeout(Duration::from_millis(500))
                    .with_connect_timeout(Duration::from_millis(500))
                    .connect()
                    .await
                    .map_err(BoxError::from)
            })?;
            match framework {
                Framework::Axum => rt.block_on(start_axum(
                    guard(redis_store, config.lease)?,
                    counts.clone(),
                ))?,
                Framework::Actix => start_actix(guard(redis_store, config.lease)?, counts.clone())?,
            }
        }
    };
    let outage = Arc::new(Outage {
        active: AtomicBool::new(false),
        seen_503: AtomicU64::new(0),
    });
    let progress = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicU64::new(rss_before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_bytes(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let start = Instant::now();
    let transport = Arc::new(AtomicU64::new(0));
    let driver = rt.spawn(drive(
        receiver.addr,
        jobs.clone(),
        config.connections,
        outage.clone(),
        progress.clone(),
        transport.clone(),
    ));
    let mut fault_log = Vec::new();
    let mut outage_marks = None;
    if let Some(server) = redis.filter(|_| store == Store::Redis) {
        // Midway: kill redis-server, keep it down for the outage, start it again.
        while progress.load(Ordering::Relaxed) < config.requests / 2 && !driver.is_finished() {
            std::thread::sleep(Duration::from_millis(5));
        }
        outage.active.store(true, Ordering::SeqCst);
        server.kill();
        fault_log.push(format!(
            "redis killed after {} deliveries",
            progress.load(Ordering::Relaxed)
        ));
        let at_kill = progress.load(Ordering::Relaxed);
        std::thread::sleep(config.outage);
        server.spawn()?;
        fault_log.push(format!("redis restarted after {:?}", config.outage));
        // Until Redis answers, then a margin for the store to reconnect (backoff up to
        // 1 s) and the in-flight retries to settle.
        server.wait_for_ping()?;
        std::thread::sleep(Duration::from_millis(1500));
        let at_end = progress.load(Ordering::Relaxed);
        outage.active.store(false, Ordering::SeqCst);
        fault_log.push(format!(
            "outage window closed after {at_end} deliveries; the rest checked strictly"
        ));
        outage_marks = Some((at_kill, at_end));
    }
    let (finals, seen, attempts, problems) = rt.block_on(driver)??;
    let elapsed = start.elapsed();
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    (receiver.stop)();

    let counts = counts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let mut row = Row {
        name,
        requests: config.requests,
        attempts,
        seen,
        in_outage_503: outage.seen_503.load(Ordering::Relaxed),
        transport_errors: transport.load(Ordering::Relaxed),
        elapsed,
        rss: (rss_before, peak.load(Ordering::Relaxed)),
        ..Row::default()
    };
    row.violations.extend(problems.into_iter().take(20));
    for (job, &status) in jobs.iter().zip(&finals) {
        *row.finals
            .entry(format!("{:?}", job.kind).to_lowercase())
            .or_default()
            .entry(status)
            .or_default() += 1;
        if status != job.kind.expected() {
            row.violations.push(format!(
                "{} ({:?}): final status {status}, expected {}",
                job.id,
                job.kind,
                job.kind.expected()
            ));
        }
        if job.kind == Kind::Unique {
            row.uniques += 1;
            match counts.get(&job.id).copied().unwrap_or(0) {
                1 => row.exactly_once += 1,
                n => row
                    .violations
                    .push(format!("{}: handler ran {n} times", job.id)),
            }
        }
    }
    let unique_ids: std::collections::HashSet<&str> = jobs
        .iter()
        .filter(|j| j.kind == Kind::Unique)
        .map(|j| j.id.as_str())
        .collect();
    for (id, n) in &counts {
        if !unique_ids.contains(id.as_str()) {
            row.violations.push(format!(
                "handler ran {n} times for {id}, which is not a valid delivery"
            ));
        }
    }
    if let Some((at_kill, at_end)) = outage_marks {
        // The outage must have met traffic, and traffic must have followed it.
        if row.in_outage_503 == 0 {
            row.violations
                .push("no 503 during the outage: it met no traffic".to_owned());
        }
        if at_kill >= config.requests || at_end >= config.requests {
            row.violations.push(format!(
                "no delivery after the outage (killed after {at_kill}, window closed after {at_end} of {})",
                config.requests
            ));
        }
    }
    if row.rss.1.saturating_sub(row.rss.0) > config.rss_growth_limit {
        row.violations.push(format!(
            "resident memory grew by {} MiB (limit {} MiB)",
            row.rss.1.saturating_sub(row.rss.0) >> 20,
            config.rss_growth_limit >> 20
        ));
    }
    for line in fault_log {
        eprintln!("{}: {line}", row.name);
    }
    Ok(row)
}

/// The summary table.
#[must_use]
pub fn summary(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| run | requests | attempts | unique: handler once | duplicate | tampered | stale | oversized | 503 (in outage) | other 5xx | reconnects | elapsed | req/s | RSS before → peak |"
    );
    let _ = writeln!(
        out,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for r in rows {
        let finals = |k: &str| {
            r.finals.get(k).map_or_else(String::new, |m| {
                m.iter()
                    .map(|(s, n)| format!("{n}×{s}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
        };
        let other_5xx: u64 = r
            .seen
            .iter()
            .filter(|(s, _)| **s >= 500 && **s != 503)
            .map(|(_, n)| n)
            .sum();
        #[allow(clippy::cast_precision_loss)]
        let rate = r.attempts as f64 / r.elapsed.as_secs_f64().max(1e-9);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {}/{} | {} | {} | {} | {} | {} ({}) | {} | {} | {:.1?} | {:.0} | {} → {} MiB |",
            r.name,
            r.requests,
            r.attempts,
            r.exactly_once,
            r.uniques,
            finals("duplicate"),
            finals("tampered"),
            finals("stale"),
            finals("oversized"),
            r.seen.get(&503).copied().unwrap_or(0),
            r.in_outage_503,
            other_5xx,
            r.transport_errors,
            r.elapsed,
            rate,
            r.rss.0 >> 20,
            r.rss.1 >> 20,
        );
    }
    out
}
