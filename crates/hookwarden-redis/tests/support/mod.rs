//! A real `redis-server` for the tests: started on a free loopback port, stopped by
//! its process id. Without `redis-server` the tests are skipped with a printed reason,
//! unless `HOOKWARDEN_REQUIRE_REDIS=1` (CI), which makes that a failure.
//! `REDIS_URL` points the tests at an existing server instead (tests that stop the
//! server, or count its commands, still need their own).

#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A test's Redis: its own server, or the one `REDIS_URL` names.
pub struct Redis {
    server: Option<Server>,
    url: String,
}

struct Server {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    /// Whether the server runs in cluster mode.
    cluster: bool,
}

fn required() -> bool {
    std::env::var("HOOKWARDEN_REQUIRE_REDIS").is_ok_and(|v| v == "1")
}

fn skip(reason: &str) -> Option<Redis> {
    assert!(
        !required(),
        "HOOKWARDEN_REQUIRE_REDIS=1 but {reason} (install Debian's redis-server)"
    );
    eprintln!("skipped: {reason}; install redis-server or set REDIS_URL to run this test");
    None
}

fn redis_server_available() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `REDIS_URL` if set, else a server of our own.
pub fn redis() -> Option<Redis> {
    if let Ok(url) = std::env::var("REDIS_URL") {
        return Some(Redis { server: None, url });
    }
    own_redis()
}

/// A server of our own (tests that stop it or count its commands).
pub fn own_redis() -> Option<Redis> {
    if !redis_server_available() {
        return skip("redis-server is not installed");
    }
    let server = Server::launch(false);
    Some(Redis {
        url: format!("redis://127.0.0.1:{}/", server.port),
        server: Some(server),
    })
}

/// A Redis Cluster of our own: `nodes` primaries on loopback ports, the slots split
/// between them (`redis-cli --cluster create`), ready when every node says
/// `cluster_state:ok`. Skipped like [`own_redis`] without `redis-server`/`redis-cli`.
pub struct Cluster {
    servers: Vec<Server>,
}

pub fn own_cluster(nodes: usize) -> Option<Cluster> {
    let cli_available = Command::new("redis-cli")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !redis_server_available() || !cli_available {
        skip("redis-server or redis-cli is not installed")?;
    }
    let servers: Vec<Server> = (0..nodes).map(|_| Server::launch(true)).collect();
    let status = Command::new("redis-cli")
        .arg("--cluster")
        .arg("create")
        .args(servers.iter().map(|s| format!("127.0.0.1:{}", s.port)))
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run redis-cli --cluster create");
    assert!(status.success(), "redis-cli --cluster create failed");
    let deadline = Instant::now() + Duration::from_secs(20);
    for s in &servers {
        loop {
            let info = Command::new("redis-cli")
                .args(["-p", &s.port.to_string(), "cluster", "info"])
                .output()
                .expect("run redis-cli cluster info");
            if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster did not become ready within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Some(Cluster { servers })
}

impl Cluster {
    /// Every node's URL.
    pub fn urls(&self) -> Vec<String> {
        self.servers
            .iter()
            .map(|s| format!("redis://127.0.0.1:{}/", s.port))
            .collect()
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

impl Server {
    /// A server on a free port, in its own temporary directory, started.
    fn launch(cluster: bool) -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "hookwarden-redis-test-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut server = Self {
            child: None,
            port,
            dir,
            cluster,
        };
        server.start();
        server
    }

    fn start(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(if self.cluster {
                &["--cluster-enabled", "yes"][..]
            } else {
                &[]
            })
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if ping(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "redis-server on port {} did not answer PING within 10 s",
            self.port
        );
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // By its process id (`Child::kill` signals that pid), then reap it.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0; 7];
    s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

impl Redis {
    /// The URL to connect to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether this is our own server (it can be stopped and counted).
    pub fn is_own(&self) -> bool {
        self.server.is_some()
    }

    /// Stop the server (kill it by pid). Panics for a `REDIS_URL` server.
    pub fn stop(&mut self) {
        self.server.as_mut().expect("own server").stop();
    }

    /// Freeze (`SIGSTOP`) or thaw (`SIGCONT`) the server: it stays up but does not
    /// answer while frozen. Panics for a `REDIS_URL` server.
    pub fn freeze(&self, frozen: bool) {
        let child = self
            .server
            .as_ref()
            .and_then(|s| s.child.as_ref())
            .expect("own server");
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Start it again on the same port.
    pub fn restart(&mut self) {
        self.server.as_mut().expect("own server").start();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A unique key prefix per test, so tests sharing a `REDIS_URL` server never meet.
pub fn unique_prefix(test: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("hwtest:{test}:{}:{nanos}:{n}:", std::process::id())
}
