//! End-to-end tests of `hookwarden send`, `hookwarden listen`, `verify --explain` and
//! `--json`: the real binary, `send` against `listen` on loopback, and `--forward-to`
//! reaching a test app.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command as StdCommand, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assert_cmd::Command;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER: &str = "whsec_b2xkIHNlY3JldCBiZWluZyByb3RhdGVk";
const BODY: &str = r#"{"type":"invoice.paid","data":{"n":1}}"#;
const NOW: i64 = 1_700_000_000;
const BIN: &str = env!("CARGO_BIN_EXE_hookwarden");

/// What one run of the binary did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    fn has_line(&self, line: &str) -> bool {
        self.stdout.lines().any(|l| l == line)
    }

    fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
            .collect()
    }
}

fn run(args: &[&str], stdin: &[u8]) -> Run {
    let out = Command::new(BIN)
        .args(args)
        .write_stdin(stdin.to_vec())
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let r = Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    assert!(
        !r.stdout.contains('\u{1b}'),
        "colours off a terminal: {r:?}"
    );
    assert!(!r.stderr.contains("panicked"), "{r:?}");
    r
}

fn temp_file(contents: &[u8]) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "hookwarden-send-{}-{}.body",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::write(&path, contents).unwrap();
    path
}

/// A usage error: exit 2, exactly one line on stderr containing `needle`, no stdout.
fn assert_usage(r: &Run, needle: &str) {
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "{r:?}");
    assert!(r.stderr.starts_with("hookwarden: error: "), "{r:?}");
    assert!(r.stderr.contains(needle), "expected {needle:?}: {r:?}");
    assert!(!r.stderr.contains(SECRET), "{r:?}");
}

/// A running `hookwarden listen`, its stdout read line by line; killed on drop.
struct Listener {
    child: Child,
    lines: mpsc::Receiver<String>,
    url: String,
}

impl Listener {
    /// `listen --scheme standard --secret SECRET` on a free port, `extra` appended.
    fn start(extra: &[&str]) -> Self {
        let mut args = vec!["--scheme", "standard", "--secret", SECRET];
        args.extend_from_slice(extra);
        Self::spawn(&args).0
    }

    /// `listen --addr 127.0.0.1:0 args...`, and the line it printed first.
    fn spawn(args: &[&str]) -> (Self, String) {
        let mut child = StdCommand::new(BIN)
            .args(["listen", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut me = Self {
            child,
            lines: rx,
            url: String::new(),
        };
        let first = me.next_line();
        let url = if let Some(rest) = first.strip_prefix("listening on ") {
            rest.split(' ').next().unwrap().to_owned()
        } else {
            let v: serde_json::Value = serde_json::from_str(&first).unwrap();
            assert_eq!(v["event"], "listening", "{first}");
            v["url"].as_str().unwrap().to_owned()
        };
        assert!(url.starts_with("http://127.0.0.1:"), "{first}");
        me.url = format!("{url}/hooks");
        (me, first)
    }

    fn next_line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a line from the listener")
    }

    /// Every line printed up to and including the one for a marker delivery sent now:
    /// what the listener printed for everything sent before.
    fn lines_until_marker(&self, json: bool) -> Vec<String> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let id = format!("msg_marker_{}", N.fetch_add(1, Ordering::SeqCst));
        let r = send(&self.url, &["--id", &id], BODY.as_bytes());
        assert_eq!(r.code, 0, "{r:?}");
        let mut out = Vec::new();
        loop {
            let line = self.next_line();
            if line.contains(&id) {
                if json {
                    out.push(line);
                }
                return out;
            }
            out.push(line);
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `hookwarden send --scheme standard --secret SECRET --url URL extra... -` with
/// `body` on stdin.
fn send(url: &str, extra: &[&str], body: &[u8]) -> Run {
    let mut args = vec![
        "send", "--scheme", "standard", "--secret", SECRET, "--url", url,
    ];
    args.extend_from_slice(extra);
    args.push("-");
    run(&args, body)
}

fn count(lines: &[String], pred: impl Fn(&str) -> bool) -> usize {
    lines.iter().filter(|l| pred(l)).count()
}

#[test]
fn a_valid_delivery_is_answered_and_printed_once() {
    let l = Listener::start(&[]);
    let r = send(&l.url, &["--id", "msg_once"], BODY.as_bytes());
    assert_eq!(r.code, 0, "{r:?}");
    let lines = r.lines();
    assert_eq!(lines[0], "HTTP 200 OK", "{r:?}");
    assert!(
        lines.contains(&"content-type: text/plain; charset=utf-8"),
        "{r:?}"
    );
    assert!(lines.contains(&"ok"), "{r:?}");
    assert_eq!(
        *lines.last().unwrap(),
        "summary: 1 request, 200: 1",
        "{r:?}"
    );
    let printed = l.lines_until_marker(false);
    assert_eq!(
        printed,
        [format!(
            "verified: id msg_once, type invoice.paid, {} bytes, answered 200",
            BODY.len()
        )]
    );
}

#[test]
fn repeat_three_is_processed_once_and_answered_three_times() {
    let l = Listener::start(&[]);
    let r = send(
        &l.url,
        &["--id", "msg_rep", "--repeat", "3"],
        BODY.as_bytes(),
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.has_line("summary: 3 requests, 200: 3"), "{r:?}");
    // The first answer only is printed in full.
    assert_eq!(count_str(&r.stdout, "HTTP 200 OK"), 1, "{r:?}");
    let printed = l.lines_until_marker(false);
    assert_eq!(
        count(&printed, |l| l.starts_with("verified: id msg_rep,")),
        1,
        "{printed:?}"
    );
    assert_eq!(
        count(&printed, |l| l
            == "duplicate: id msg_rep, already processed, answered 200"),
        2,
        "{printed:?}"
    );
    assert_eq!(printed.len(), 3, "{printed:?}");
}

fn count_str(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn concurrent_repeats_run_the_delivery_once() {
    let l = Listener::start(&[]);
    let r = send(
        &l.url,
        &[
            "--id",
            "msg_conc",
            "--repeat",
            "20",
            "--concurrency",
            "8",
            "--json",
        ],
        BODY.as_bytes(),
    );
    let objects = r.json_lines();
    let responses: Vec<_> = objects
        .iter()
        .filter(|o| o["event"] == "response")
        .collect();
    assert_eq!(responses.len(), 20, "{r:?}");
    let mut requests: Vec<u64> = responses
        .iter()
        .map(|o| o["request"].as_u64().unwrap())
        .collect();
    requests.sort_unstable();
    assert_eq!(requests, (1..=20).collect::<Vec<_>>());
    for o in &responses {
        let s = o["status"].as_u64().unwrap();
        assert!(s == 200 || s == 409, "{o}");
    }
    let summary = objects.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["requests"], 20);
    assert_eq!(summary["failed"], 0);
    let total: u64 = summary["statuses"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, 20);
    // Exit 0 only when every answer was 2xx.
    let all_ok =
        summary["statuses"].as_object().unwrap().len() == 1 && summary["statuses"]["200"] == 20;
    assert_eq!(r.code, if all_ok { 0 } else { 1 }, "{r:?}");
    let printed = l.lines_until_marker(false);
    assert_eq!(
        count(&printed, |l| l.starts_with("verified: id msg_conc,")),
        1,
        "{printed:?}"
    );
}

#[test]
fn a_tampered_delivery_is_rejected_with_its_reason() {
    let l = Listener::start(&[]);
    let r = send(&l.url, &["--tamper"], BODY.as_bytes());
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.lines()[0], "HTTP 401 Unauthorized", "{r:?}");
    assert!(r.has_line("unauthorized"), "{r:?}");
    assert!(r.has_line("summary: 1 request, 401: 1"), "{r:?}");
    let printed = l.lines_until_marker(false);
    assert_eq!(
        printed,
        ["rejected: signature_mismatch: no signature matches any configured secret, answered 401"]
    );
}

#[test]
fn stale_and_future_timestamps_are_rejected() {
    let l = Listener::start(&[]);
    let stale = send(&l.url, &["--timestamp", "-900"], BODY.as_bytes());
    assert_eq!(stale.code, 1, "{stale:?}");
    let future = send(&l.url, &["--timestamp", "now+900"], BODY.as_bytes());
    assert_eq!(future.code, 1, "{future:?}");
    let absolute = send(&l.url, &["--timestamp", &NOW.to_string()], BODY.as_bytes());
    assert_eq!(absolute.code, 1, "{absolute:?}");
    let printed = l.lines_until_marker(false);
    assert_eq!(printed.len(), 3, "{printed:?}");
    assert!(
        printed[0].starts_with("rejected: timestamp_too_old: "),
        "{printed:?}"
    );
    assert!(
        printed[1].starts_with("rejected: timestamp_too_new: "),
        "{printed:?}"
    );
    assert!(
        printed[2].starts_with("rejected: timestamp_too_old: "),
        "{printed:?}"
    );
    assert!(printed.iter().all(|l| l.ends_with(", answered 401")));
    // Within the tolerance: accepted.
    let recent = send(&l.url, &["--timestamp", "now-60"], BODY.as_bytes());
    assert_eq!(recent.code, 0, "{recent:?}");
}

#[test]
fn extra_headers_are_sent_and_replace_signed_ones() {
    let l = Listener::start(&[]);
    // Replacing the signed id breaks the signature.
    let r = send(
        &l.url,
        &["--id", "msg_h", "-H", "webhook-id: msg_other"],
        BODY.as_bytes(),
    );
    assert_eq!(r.code, 1, "{r:?}");
    // Removing nothing, adding a header: accepted.
    let ok = send(&l.url, &["-H", "X-Extra: 1"], BODY.as_bytes());
    assert_eq!(ok.code, 0, "{ok:?}");
    let printed = l.lines_until_marker(false);
    assert_eq!(printed.len(), 2, "{printed:?}");
    assert!(
        printed[0].starts_with("rejected: signature_mismatch"),
        "{printed:?}"
    );
    assert!(printed[1].starts_with("verified: "), "{printed:?}");
}

#[test]
fn listen_json_prints_one_object_per_event() {
    let l = Listener::start(&["--json"]);
    assert!(send(&l.url, &["--id", "msg_j"], BODY.as_bytes()).code == 0);
    assert!(send(&l.url, &["--id", "msg_j"], BODY.as_bytes()).code == 0);
    assert!(send(&l.url, &["--tamper"], BODY.as_bytes()).code == 1);
    let printed = l.lines_until_marker(true);
    let v: Vec<serde_json::Value> = printed
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(v.len(), 4, "{printed:?}");
    assert_eq!(v[0]["event"], "verified");
    assert_eq!(v[0]["id"], "msg_j");
    assert_eq!(v[0]["type"], "invoice.paid");
    assert_eq!(v[0]["size"], BODY.len());
    assert_eq!(v[0]["secret_index"], 0);
    assert_eq!(v[0]["dedup_key"], "standard:msg_j");
    assert_eq!(v[0]["status"], 200);
    assert_eq!(v[1]["event"], "duplicate");
    assert_eq!(v[1]["id"], "msg_j");
    assert_eq!(v[1]["status"], 200);
    assert_eq!(v[2]["event"], "rejected");
    assert_eq!(v[2]["reason"], "signature_mismatch");
    assert_eq!(v[2]["status"], 401);
    assert_eq!(v[3]["event"], "verified");
}

/// What the test app received.
type Seen = Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;

/// An app on loopback that records each request and answers `status` with a body.
fn app(statuses: Vec<u16>) -> (SocketAddr, Seen) {
    let seen: Seen = Arc::default();
    let (tx, rx) = mpsc::channel();
    let seen2 = Arc::clone(&seen);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let statuses = Arc::new(Mutex::new(statuses));
            let router = axum::Router::new().route(
                "/app",
                axum::routing::post(
                    move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                        let (seen, statuses) = (Arc::clone(&seen2), Arc::clone(&statuses));
                        async move {
                            seen.lock().unwrap().push((headers, body.to_vec()));
                            let mut s = statuses.lock().unwrap();
                            let status = if s.is_empty() { 202 } else { s.remove(0) };
                            (
                                axum::http::StatusCode::from_u16(status).unwrap(),
                                [("x-app", "yes")],
                                format!("app answered {status}\n"),
                            )
                        }
                    },
                ),
            );
            axum::serve(listener, router).await.unwrap();
        });
    });
    (rx.recv().unwrap(), seen)
}

#[test]
fn forward_to_reaches_the_app_with_the_body_intact_and_relays_its_answer() {
    let (addr, seen) = app(vec![500]);
    let forward = format!("http://{addr}/app");
    let l = Listener::start(&["--forward-to", &forward]);
    // Not UTF-8 and not JSON: passed on byte for byte.
    let body: Vec<u8> = (0u8..=255).rev().collect();
    let file = temp_file(&body);
    let mut args = vec![
        "send",
        "--scheme",
        "standard",
        "--secret",
        SECRET,
        "--url",
        &l.url,
        "--id",
        "msg_fwd",
        "-H",
        "X-Extra: kept",
    ];
    args.push(file.to_str().unwrap());
    // The app fails first: relayed, and the claim is released...
    let first = run(&args, b"");
    assert_eq!(first.code, 1, "{first:?}");
    assert_eq!(
        first.lines()[0],
        "HTTP 500 Internal Server Error",
        "{first:?}"
    );
    assert!(first.has_line("app answered 500"), "{first:?}");
    // ...so the retry is forwarded again and succeeds.
    let retry = run(&args, b"");
    assert_eq!(retry.code, 0, "{retry:?}");
    assert_eq!(retry.lines()[0], "HTTP 202 Accepted", "{retry:?}");
    assert!(retry.has_line("x-app: yes"), "{retry:?}");
    assert!(retry.has_line("app answered 202"), "{retry:?}");
    // A third send is a duplicate: not forwarded.
    let dup = run(&args, b"");
    assert_eq!(dup.code, 0, "{dup:?}");
    assert!(dup.has_line("already processed"), "{dup:?}");

    let printed = l.lines_until_marker(false);
    let n = body.len();
    assert_eq!(
        printed,
        [
            format!("verified: id msg_fwd, {n} bytes, forwarded: 500"),
            format!("verified: id msg_fwd, {n} bytes, forwarded: 202"),
            "duplicate: id msg_fwd, already processed, answered 200".to_owned(),
        ]
    );
    let seen = seen.lock().unwrap();
    // Two deliveries plus the marker.
    assert_eq!(seen.len(), 3);
    for (headers, got) in &seen[..2] {
        assert_eq!(got, &body, "body changed on the way");
        assert_eq!(headers["webhook-id"], "msg_fwd");
        assert!(headers.contains_key("webhook-signature"));
        assert!(headers.contains_key("webhook-timestamp"));
        assert_eq!(headers["x-extra"], "kept");
        assert_eq!(headers["content-type"], "application/octet-stream");
    }
}

#[test]
fn an_unreachable_app_is_answered_502_and_the_retry_processed() {
    // A port with nothing behind it.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/app", free.local_addr().unwrap());
    drop(free);
    let l = Listener::start(&["--forward-to", &dead]);
    let r = send(&l.url, &["--id", "msg_dead"], BODY.as_bytes());
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.lines()[0], "HTTP 502 Bad Gateway", "{r:?}");
    let again = send(&l.url, &["--id", "msg_dead"], BODY.as_bytes());
    assert_eq!(again.lines()[0], "HTTP 502 Bad Gateway", "{again:?}");
    // The marker is forwarded too, and fails: read two lines instead.
    let a = l.next_line();
    let b = l.next_line();
    for line in [a, b] {
        assert!(
            line.starts_with("verified: id msg_dead, type invoice.paid, ")
                && line.contains(", forward failed: ")
                && line.ends_with(", answered 502"),
            "{line}"
        );
    }
}

#[test]
fn send_json_reports_each_answer_and_a_summary() {
    let l = Listener::start(&[]);
    let r = send(&l.url, &["--tamper", "--json"], BODY.as_bytes());
    assert_eq!(r.code, 1, "{r:?}");
    let v = r.json_lines();
    assert_eq!(v.len(), 2, "{r:?}");
    assert_eq!(v[0]["event"], "response");
    assert_eq!(v[0]["request"], 1);
    assert_eq!(v[0]["status"], 401);
    assert_eq!(v[0]["body"], "unauthorized\n");
    assert_eq!(v[0]["headers"]["content-type"], "text/plain; charset=utf-8");
    assert_eq!(v[1]["event"], "summary");
    assert_eq!(v[1]["requests"], 1);
    assert_eq!(v[1]["statuses"]["401"], 1);
    assert_eq!(v[1]["failed"], 0);
}

#[test]
fn send_usage_errors_exit_2_with_one_line() {
    let url = "http://127.0.0.1:9/hooks";
    let base = ["send", "--scheme", "standard", "--secret", SECRET];
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        run(&a, BODY.as_bytes())
    };
    assert_usage(
        &run(
            &[
                "send", "--scheme", "nope", "--secret", SECRET, "--url", url, "-",
            ],
            b"",
        ),
        "unknown scheme `nope`",
    );
    assert_usage(
        &with(&["--url", url, "-H", "no colon", "-"]),
        "malformed -H",
    );
    assert_usage(
        &with(&["--url", url, "/nonexistent/hookwarden/body"]),
        "cannot read body file /nonexistent/hookwarden/body",
    );
    assert_usage(&with(&["--url", "not a url", "-"]), "malformed --url");
    assert_usage(
        &with(&["--url", "https://127.0.0.1:9/", "-"]),
        "only http:// URLs are supported",
    );
    // A password in the URL is never shown: not when the URL is refused, not when
    // it cannot be reached (port 9, discard: nothing listens there).
    for (url, needle) in [
        (
            "https://user:TOPSECRET@127.0.0.1:9/",
            "https://user:***@127.0.0.1:9/",
        ),
        (
            "http://user:TOPSECRET@127.0.0.1:9/",
            "cannot reach http://user:***@127.0.0.1:9/",
        ),
        (
            "http://user:TOPSECRET@[::1/",
            "malformed --url (value not shown)",
        ),
    ] {
        let r = with(&["--url", url, "-"]);
        assert_usage(&r, needle);
        assert!(!r.stderr.contains("TOPSECRET"), "{r:?}");
    }
    assert_usage(
        &with(&["--url", url, "--timestamp", "yesterday", "-"]),
        "malformed --timestamp",
    );
    assert_usage(
        &with(&["--url", url, "--tamper", "/dev/null"]),
        "--tamper needs a non-empty body",
    );
    assert_usage(
        &run(
            &[
                "send",
                "--scheme",
                "standard",
                "--secret",
                "whsec_not*base64",
                "--url",
                url,
                "-",
            ],
            b"",
        ),
        "--secret (value not shown)",
    );
    // Nothing listens there: every request fails to connect.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/hooks", free.local_addr().unwrap());
    drop(free);
    let r = with(&["--url", &dead, "--repeat", "2", "-"]);
    assert_usage(&r, &format!("cannot reach {dead}"));
    assert!(r.stderr.contains("Connection refused"), "{r:?}");
    for bad in [
        "now--9223372036854775808",
        "now--5",
        "now-",
        "+-5",
        "99999999999999999999",
    ] {
        assert_usage(
            &with(&["--url", url, "--timestamp", bad, "-"]),
            "malformed --timestamp",
        );
    }
    // A malformed -H is not echoed: a header value may be a secret (GitLab's token).
    let r = with(&["--url", url, "-H", "X-Gitlab-Token glpat-s3cret", "-"]);
    assert_usage(&r, "malformed -H (number 1, value not shown)");
    assert!(!r.stderr.contains("glpat-s3cret"), "{r:?}");
    // A header value no HTTP request can carry: named, not sent, its value not shown.
    let r = with(&["--url", url, "-H", "X-Note: a\u{1}b", "-"]);
    assert_usage(
        &r,
        "header \"X-Note\" cannot be sent: invalid name or value",
    );
    assert!(!r.stderr.contains("a\u{1}b"), "{r:?}");
    // Clap's own errors: exit 2, one line in the same format.
    assert_usage(&with(&["--url", url, "--repeat", "0", "-"]), "--repeat");
    assert_usage(&with(&["--url", url, "--bogus", "-"]), "--bogus");
    // Missing arguments are named on the same line.
    assert_usage(&run(&["send", "--scheme", "standard"], b""), "--url <URL>");
}

#[test]
fn url_signing_schemes_sign_the_url_as_it_is_sent() {
    use hookwarden_core::{Verifier, schemes::Twilio};
    let (addr, seen) = app(vec![]);
    // Typed with a space; sent, and seen by the receiver, percent-encoded.
    let typed = format!("http://{addr}/app?note=a b");
    let r = run(
        &[
            "send", "--scheme", "twilio", "--secret", "tok", "--url", &typed, "-",
        ],
        b"Body=hi&From=%2B15551234567",
    );
    assert_eq!(r.code, 0, "{r:?}");
    let (headers, body) = seen.lock().unwrap().remove(0);
    // Posted as Twilio posts it: a receiver's form extractor takes it.
    assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    let received = format!("http://{addr}/app?note=a%20b");
    Verifier::builder(Twilio::new())
        .secret("tok")
        .build()
        .unwrap()
        .verify(&headers, &body, Some(&received))
        .expect("signed over the URL the receiver sees");
}

#[test]
fn listen_usage_errors_exit_2_with_one_line() {
    assert_usage(
        &run(&["listen", "--scheme", "nope", "--secret", SECRET], b""),
        "unknown scheme `nope`",
    );
    assert_usage(
        &run(&["listen", "--scheme", "standard"], b""),
        "at least one --secret is required",
    );
    assert_usage(
        &run(
            &[
                "listen",
                "--scheme",
                "standard",
                "--secret",
                SECRET,
                "--addr",
                "localhost:x",
            ],
            b"",
        ),
        "malformed --addr",
    );
    assert_usage(
        &run(
            &[
                "listen",
                "--scheme",
                "standard",
                "--secret",
                SECRET,
                "--forward-to",
                "ftp://x/",
            ],
            b"",
        ),
        "only http:// URLs are supported",
    );
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    assert_usage(
        &run(
            &[
                "listen", "--scheme", "standard", "--secret", SECRET, "--addr", &addr,
            ],
            b"",
        ),
        &format!("cannot listen on {addr}"),
    );
}

#[test]
fn listen_takes_a_wide_tolerance_and_names_the_flag_past_its_limit() {
    // Three days: the in-memory dedup must remember deliveries for six; `listen` has
    // no retention flag, so it must not refuse to start over the default 4 days.
    let l = Listener::start(&["--tolerance", "259200"]);
    let old = send(&l.url, &["--timestamp", "now-172800"], BODY.as_bytes());
    assert_eq!(old.code, 0, "{old:?}");
    // Twice the tolerance cannot be remembered (over 365 days): the flag is named.
    assert_usage(
        &run(
            &[
                "listen",
                "--scheme",
                "standard",
                "--secret",
                SECRET,
                "--tolerance",
                "4294967295",
            ],
            b"",
        ),
        "--tolerance 4294967295",
    );
}

/// `sign` headers for BODY at NOW with id msg_1, as `-H` arguments.
fn signed_args() -> Vec<String> {
    let r = run(
        &[
            "sign",
            "--scheme",
            "standard",
            "--secret",
            SECRET,
            "--timestamp",
            "1700000000",
            "--id",
            "msg_1",
        ],
        BODY.as_bytes(),
    );
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout
        .lines()
        .flat_map(|l| ["-H".to_owned(), l.to_owned()])
        .collect()
}

fn verify(extra: &[&str], headers: &[String], body: &str) -> Run {
    let mut args = vec![
        "verify", "--scheme", "standard", "--secret", SECRET, "--secret", OTHER,
    ];
    args.extend(headers.iter().map(String::as_str));
    args.extend_from_slice(extra);
    run(&args, body.as_bytes())
}

#[test]
fn explain_a_stale_delivery() {
    let headers = signed_args();
    let r = verify(&["--now", "1700000400", "--explain"], &headers, BODY);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        r.lines(),
        [
            "rejected: timestamp_too_old: timestamp is older than the tolerance (timestamp is -400s from now)",
            "status: 401",
            "headers found: webhook-id, webhook-timestamp, webhook-signature",
            "headers missing: none",
            "timestamp: 2023-11-14T22:13:20Z",
            "timestamp unix: 1700000000",
            "now unix: 1700000400",
            "skew: -400s (tolerance 300s past, 300s future: outside)",
            "signatures: 1 decoded (versions present: v1)",
            "secrets tried: 0 of 2",
            &format!("body: {} bytes", BODY.len()),
        ]
    );
    assert_no_secret_or_signature(&r, &headers);
}

fn assert_no_secret_or_signature(r: &Run, headers: &[String]) {
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(!all.contains(SECRET) && !all.contains(OTHER), "{r:?}");
    let sig = headers
        .iter()
        .find_map(|h| h.strip_prefix("webhook-signature: v1,"))
        .expect("a v1 signature");
    assert!(!all.contains(sig), "the signature is printed: {r:?}");
    assert!(
        !all.contains(&sig[..12]),
        "part of the signature is printed: {r:?}"
    );
}

#[test]
fn explain_a_signature_mismatch_tries_every_secret() {
    let headers = signed_args();
    let tampered = BODY.replace("paid", "paie");
    let r = verify(&["--now", "1700000010", "--explain"], &headers, &tampered);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.has_line("skew: -10s (tolerance 300s past, 300s future: within)"),
        "{r:?}"
    );
    assert!(r.has_line("secrets tried: 2 of 2"), "{r:?}");
    assert!(
        r.has_line("signatures: 1 decoded (versions present: v1)"),
        "{r:?}"
    );
    assert_no_secret_or_signature(&r, &headers);
}

#[test]
fn explain_missing_headers_and_unsupported_versions() {
    let r = run(
        &[
            "verify",
            "--scheme",
            "standard",
            "--secret",
            SECRET,
            "--now",
            "1700000000",
            "--explain",
            "-H",
            "webhook-id: msg_1",
            "-H",
            "webhook-signature: v2,AAAA",
        ],
        BODY.as_bytes(),
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.has_line("headers found: webhook-id, webhook-signature"),
        "{r:?}"
    );
    assert!(r.has_line("headers missing: webhook-timestamp"), "{r:?}");
    assert!(
        r.has_line("timestamp: not checked (the signature headers did not parse)"),
        "{r:?}"
    );
    assert!(
        r.has_line("signatures: headers not parsed (versions present: v2)"),
        "{r:?}"
    );
    assert!(r.has_line("secrets tried: 0 of 1"), "{r:?}");
    // Without --explain, the contract's two lines only.
    let plain = run(
        &[
            "verify",
            "--scheme",
            "github",
            "--secret",
            "s",
            "-H",
            "x-other: 1",
        ],
        BODY.as_bytes(),
    );
    assert_eq!(
        plain.lines(),
        [
            "rejected: missing_header (x-hub-signature-256): required header is missing",
            "status: 400"
        ]
    );
}

#[test]
fn explain_is_silent_on_success() {
    let headers = signed_args();
    let r = verify(&["--now", "1700000001", "--explain"], &headers, BODY);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("verified\n"), "{r:?}");
    assert!(!r.stdout.contains("secrets tried"), "{r:?}");
}

#[test]
fn verify_and_sign_json() {
    let headers = signed_args();
    let ok = verify(&["--now", "1700000001", "--json"], &headers, BODY);
    assert_eq!(ok.code, 0, "{ok:?}");
    let v = ok.json_lines();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["event"], "verified");
    assert_eq!(v[0]["scheme"], "standard");
    assert_eq!(v[0]["secret_index"], 0);
    assert_eq!(v[0]["timestamp"], "2023-11-14T22:13:20Z");
    assert_eq!(v[0]["timestamp_unix"], NOW);
    assert_eq!(v[0]["delivery_id"], "msg_1");
    assert_eq!(v[0]["dedup_key"], "standard:msg_1");

    let bad = verify(
        &["--now", "1700000400", "--json", "--explain"],
        &headers,
        BODY,
    );
    assert_eq!(bad.code, 1, "{bad:?}");
    let v = bad.json_lines();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["event"], "rejected");
    assert_eq!(v[0]["reason"], "timestamp_too_old");
    assert_eq!(v[0]["status"], 401);
    let e = &v[0]["explain"];
    assert_eq!(e["skew_seconds"], -400);
    assert_eq!(e["within_tolerance"], false);
    assert_eq!(e["secrets_tried"], 0);
    assert_eq!(e["secrets"], 2);
    assert_eq!(e["signature_versions"], serde_json::json!(["v1"]));
    assert_eq!(
        e["headers_found"],
        serde_json::json!(["webhook-id", "webhook-timestamp", "webhook-signature"])
    );
    assert_no_secret_or_signature(&bad, &headers);

    let signed = run(
        &[
            "sign",
            "--json",
            "--scheme",
            "standard",
            "--secret",
            SECRET,
            "--timestamp",
            "1700000000",
            "--id",
            "msg_1",
        ],
        BODY.as_bytes(),
    );
    assert_eq!(signed.code, 0, "{signed:?}");
    let v = signed.json_lines();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["event"], "signed");
    assert_eq!(v[0]["headers"]["webhook-id"], "msg_1");
    assert_eq!(v[0]["headers"]["webhook-timestamp"], "1700000000");
    let sig = headers
        .iter()
        .find_map(|h| h.strip_prefix("webhook-signature: "))
        .unwrap();
    assert_eq!(v[0]["headers"]["webhook-signature"], sig);
}

#[test]
fn verify_explain_usage_errors_exit_2() {
    assert_usage(
        &run(
            &[
                "verify",
                "--explain",
                "--scheme",
                "nope",
                "--secret",
                SECRET,
            ],
            b"",
        ),
        "unknown scheme `nope`",
    );
    assert_usage(
        &run(
            &[
                "verify", "--json", "--scheme", "standard", "--secret", SECRET, "-H", "bad",
            ],
            b"",
        ),
        "malformed -H",
    );
}

#[test]
fn explain_a_scheme_without_version_labels() {
    // Linear: a hex signature with no label, the timestamp in the body.
    let body = r#"{"webhookTimestamp":1700000000000,"type":"Issue"}"#;
    let r = run(
        &[
            "verify",
            "--scheme",
            "linear",
            "--secret",
            "lin_wh_secret",
            "-H",
            &format!("Linear-Signature: {}", "ab".repeat(32)),
            "--now",
            "1700000000",
            "--explain",
            "-",
        ],
        body.as_bytes(),
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.has_line("signatures: 1 decoded"), "{r:?}");
    assert!(!r.stdout.contains("versions present"), "{r:?}");
    assert!(r.has_line("secrets tried: 1 of 1"), "{r:?}");
}

#[test]
fn explain_names_the_url_a_url_signing_scheme_verified() {
    // Square signs the URL: signed for /api/hooks, verified against /hooks.
    let body = br#"{"event_id":"e1"}"#;
    let signed = run(
        &[
            "sign",
            "--scheme",
            "square",
            "--secret",
            "sq-key",
            "--url",
            "https://api.example.com/api/hooks",
            "-",
        ],
        body,
    );
    assert_eq!(signed.code, 0, "{signed:?}");
    let mut args = vec!["verify", "--scheme", "square", "--secret", "sq-key"];
    for line in signed.stdout.lines() {
        args.extend(["-H", line]);
    }
    args.extend(["--url", "https://api.example.com/hooks", "--explain", "-"]);
    let r = run(&args, body);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.has_line(
            "url: https://api.example.com/hooks (signed: it must be the URL the sender called, as it called it)"
        ),
        "{r:?}"
    );
    // Schemes that do not sign the URL say nothing of it.
    let headers = signed_args();
    let other = verify(&["--now", "1700000010", "--explain"], &headers, "{}");
    assert!(!other.stdout.contains("url:"), "{other:?}");
}

#[test]
fn listen_answers_the_schemes_endpoint_challenge() {
    let (l, _) = Listener::spawn(&["--scheme", "slack", "--secret", "slack-signing"]);
    let body = br#"{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595","type":"url_verification"}"#;
    let r = run(
        &[
            "send",
            "--scheme",
            "slack",
            "--secret",
            "slack-signing",
            "--url",
            &l.url,
            "-",
        ],
        body,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("HTTP 200"), "{r:?}");
    assert!(r.has_line("3eZbrw1aBm2rZgRNFdxV2595"), "{r:?}");
    assert_eq!(
        l.next_line(),
        "challenge: slack_url_verification, answered 200"
    );
}

#[test]
fn listen_says_which_url_base_a_url_signing_scheme_verifies() {
    for (extra, base) in [
        (&[][..], None),
        (
            &["--public-url", "https://hooks.example.com/api"][..],
            Some("https://hooks.example.com/api"),
        ),
    ] {
        let mut args = vec!["--scheme", "square", "--secret", "sq-key"];
        args.extend_from_slice(extra);
        let (l, first) = Listener::spawn(&args);
        let url = l.url.strip_suffix("/hooks").unwrap();
        let base = base.unwrap_or(url);
        assert_eq!(
            first,
            format!("listening on {url} (scheme square, signed URLs under {base})")
        );
    }
}

/// `kill -SIGNAL pid`.
#[cfg(unix)]
fn signal(child: &Child, name: &str) {
    let ok = StdCommand::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// Wait up to `secs` for `child` to exit; its status code.
fn exited_within(child: &mut Child, secs: u64) -> Option<Option<i32>> {
    let end = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.code());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// A connection to `l` holding a request whose body never arrives.
#[cfg(unix)]
fn slow_sender(l: &Listener) -> std::net::TcpStream {
    use std::io::Write as _;
    let addr = l
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/hooks");
    let mut slow = std::net::TcpStream::connect(addr).unwrap();
    slow.write_all(
        b"POST /hooks HTTP/1.1\r\nHost: x\r\nwebhook-id: a\r\nwebhook-timestamp: 1\r\n\
          webhook-signature: v1,AAAA\r\nContent-Length: 100\r\n\r\nab",
    )
    .unwrap();
    slow
}

#[cfg(unix)]
#[test]
fn listen_stops_on_sigterm_and_a_slow_sender_cannot_keep_it_running() {
    // SIGTERM: exit 0 like Ctrl-C (it killed the process, status 143).
    let mut l = Listener::start(&[]);
    signal(&l.child, "TERM");
    assert_eq!(exited_within(&mut l.child, 10), Some(Some(0)));

    // A request whose body never arrives: a second Ctrl-C ends the wait at once (it
    // was ignored, and listen ran until the sender went away).
    let mut l = Listener::start(&[]);
    let _held = slow_sender(&l);
    std::thread::sleep(Duration::from_millis(300));
    signal(&l.child, "INT");
    std::thread::sleep(Duration::from_millis(300));
    signal(&l.child, "INT");
    assert_eq!(exited_within(&mut l.child, 3), Some(Some(0)));

    // Without the second one, the grace period ends it.
    let mut l = Listener::start(&[]);
    let slow = slow_sender(&l);
    std::thread::sleep(Duration::from_millis(300));
    signal(&l.child, "INT");
    assert_eq!(exited_within(&mut l.child, 15), Some(Some(0)));
    drop(slow);
}

#[test]
fn listen_never_shows_a_password_in_the_forward_url() {
    let (_listener, first) = Listener::spawn(&[
        "--scheme",
        "standard",
        "--secret",
        SECRET,
        "--forward-to",
        "http://user:TOPSECRET@127.0.0.1:9/hooks",
    ]);
    assert!(
        first.contains("forwarding to http://user:***@127.0.0.1:9/hooks"),
        "{first}"
    );
    assert!(!first.contains("TOPSECRET"), "{first}");
}

#[test]
fn listen_never_shows_a_password_in_the_public_url() {
    // Twilio signs the URL it calls, user information included: a basic-auth password
    // in it is a credential, shown as `***` like --forward-to's.
    for json in [false, true] {
        let mut args = vec![
            "--scheme",
            "twilio",
            "--secret",
            "tok",
            "--public-url",
            "https://user:TOPSECRET@example.com/hooks",
        ];
        if json {
            args.push("--json");
        }
        let (_listener, first) = Listener::spawn(&args);
        assert!(first.contains("user:***@example.com/hooks"), "{first}");
        assert!(!first.contains("TOPSECRET"), "{first}");
    }
}

/// The delivery's values (its id, its event type) are printed one per line: the
/// control characters a body or an unsigned id header can carry (escape sequences,
/// vertical tab, C1 controls) must not reach the terminal raw, where they move the
/// cursor, erase lines or start new ones.
#[test]
fn listen_prints_no_control_character_from_a_delivery() {
    let l = Listener::start(&[]);
    let body = r#"{"type":"paid\u001b[1A\u001b[2K\u000bverified: id forged\u009b2J"}"#;
    let r = send(&l.url, &["--id", "msg_ctl"], body.as_bytes());
    assert_eq!(r.code, 0, "{r:?}");
    let printed = l.lines_until_marker(false);
    assert_eq!(printed.len(), 1, "{printed:?}");
    assert!(
        printed[0].starts_with("verified: id msg_ctl, type paid"),
        "{printed:?}"
    );
    assert!(!printed[0].chars().any(char::is_control), "{printed:?}");
}

/// An app whose `POST /app` answers `302 Found` to `/elsewhere`, which records each
/// request it gets and answers 200.
fn redirecting_app() -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    let hits2 = Arc::clone(&hits);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let router = axum::Router::new()
                .route(
                    "/app",
                    axum::routing::post(|| async {
                        (axum::http::StatusCode::FOUND, [("location", "/elsewhere")])
                    }),
                )
                .route(
                    "/elsewhere",
                    axum::routing::any(move || {
                        let hits = Arc::clone(&hits2);
                        async move {
                            hits.fetch_add(1, Ordering::SeqCst);
                            "elsewhere\n"
                        }
                    }),
                );
            axum::serve(listener, router).await.unwrap();
        });
    });
    (rx.recv().unwrap(), hits)
}

/// The app's redirect is its answer: relayed as is, not followed (following it turned
/// the POST into a body-less GET elsewhere, whose 200 completed the claim although the
/// app never processed the delivery).
#[test]
fn a_redirect_from_the_app_is_relayed_not_followed() {
    let (addr, hits) = redirecting_app();
    let forward = format!("http://{addr}/app");
    let l = Listener::start(&["--forward-to", &forward]);
    let r = send(&l.url, &["--id", "msg_redir"], BODY.as_bytes());
    let line = l.next_line();
    assert!(line.ends_with(", forwarded: 302"), "{line}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the redirect was followed");
    // `send` reports the 302 it got and does not follow it either.
    assert_eq!(r.lines()[0], "HTTP 302 Found", "{r:?}");
}

/// `send` does not follow a receiver's redirect (the providers' senders do not): the
/// signed headers would go on to the other URL.
#[test]
fn send_reports_a_redirect_without_following_it() {
    let (addr, hits) = redirecting_app();
    let r = send(
        &format!("http://{addr}/app"),
        &["--id", "msg_r"],
        BODY.as_bytes(),
    );
    assert_eq!(r.lines()[0], "HTTP 302 Found", "{r:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "send followed the redirect");
}

/// `--forward-to` naming the listener itself: a delivery without a dedup key (GitLab
/// without an id header) must not be passed back in for ever (each hop a connection
/// and a request held open until the sender gives up).
#[test]
fn forwarding_to_the_listener_itself_does_not_loop() {
    use std::io::{Read as _, Write as _};
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let mut child = StdCommand::new(BIN)
        .args(["listen", "--scheme", "gitlab", "--secret", "tok"])
        .args(["--addr", &addr.to_string()])
        .args(["--forward-to", &format!("http://{addr}/again")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("listening on "), "{first}");
    let body = r#"{"object_kind":"push"}"#;
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        conn,
        "POST /hooks HTTP/1.1\r\nHost: {addr}\r\nX-Gitlab-Token: tok\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let read = conn.read_to_string(&mut answer);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        read.is_ok(),
        "no answer within 5 s: the delivery loops ({read:?})"
    );
    assert!(answer.starts_with("HTTP/1.1 508 "), "{answer}");
}

/// Headers the incoming `Connection` header names are hop-by-hop (RFC 9110 7.6.1):
/// not passed on to the app.
#[test]
fn headers_named_by_connection_are_not_forwarded() {
    use std::io::{Read as _, Write as _};
    let (addr, seen) = app(vec![]);
    let forward = format!("http://{addr}/app");
    let (l, _) = Listener::spawn(&[
        "--scheme",
        "gitlab",
        "--secret",
        "tok",
        "--forward-to",
        &forward,
    ]);
    let target = l
        .url
        .strip_prefix("http://")
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let body = r#"{"object_kind":"push"}"#;
    let mut conn = std::net::TcpStream::connect(&target).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        conn,
        "POST /hooks HTTP/1.1\r\nHost: {target}\r\nX-Gitlab-Token: tok\r\n\
         X-Gitlab-Event-UUID: e1\r\nConnection: close, X-Hop\r\nX-Hop: private\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 202 "), "{answer}");
    let seen = seen.lock().unwrap();
    assert!(!seen[0].0.contains_key("x-hop"), "{:?}", seen[0].0);
}

/// An app answering every request 200 with 2 MiB of body: with `Content-Length`, or
/// chunked (no length given up front).
fn big_answer_app(chunked: bool) -> SocketAddr {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                // Read the request: its head, then the body its Content-Length declares.
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                let head_end = loop {
                    let Ok(n) = conn.read(&mut buf) else { return };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while request.len() < head_end + length {
                    let Ok(n) = conn.read(&mut buf) else { return };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                }
                let chunk = vec![b'x'; 64 * 1024];
                if chunked {
                    let _ =
                        conn.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
                    for _ in 0..32 {
                        let _ = conn.write_all(format!("{:x}\r\n", chunk.len()).as_bytes());
                        let _ = conn.write_all(&chunk);
                        let _ = conn.write_all(b"\r\n");
                    }
                    let _ = conn.write_all(b"0\r\n\r\n");
                } else {
                    let _ = conn.write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n",
                            32 * chunk.len()
                        )
                        .as_bytes(),
                    );
                    for _ in 0..32 {
                        let _ = conn.write_all(&chunk);
                    }
                }
            });
        }
    });
    addr
}

/// The app's answer is relayed with up to 1 MiB of body: a larger body, declared or
/// streamed, is not held in memory but replaced by a note; the app's status still goes
/// back, so the claim follows what the app did (its 200 completes it: the retry is a
/// duplicate, not a second run).
#[test]
fn an_answer_body_over_the_forward_limit_is_not_relayed() {
    for chunked in [false, true] {
        let addr = big_answer_app(chunked);
        let forward = format!("http://{addr}/app");
        let l = Listener::start(&["--forward-to", &forward]);
        let id = format!("msg_big_{chunked}");
        let r = send(&l.url, &["--id", &id], BODY.as_bytes());
        // (Lines, not the whole answer: a failure must not print 2 MiB.)
        let lines = r.lines();
        assert_eq!(lines[0], "HTTP 200 OK", "chunked {chunked}");
        assert!(
            lines.contains(&"the app's answer body is over 1024 KiB: not relayed"),
            "chunked {chunked}: {:?}",
            &lines[..lines.len().min(8)]
        );
        let line = l.next_line();
        assert!(
            line.ends_with("forwarded: 200 (the app's answer body is over 1024 KiB: not relayed)"),
            "chunked {chunked}: {line}"
        );
        let r = send(&l.url, &["--id", &id], BODY.as_bytes());
        assert_eq!(r.lines()[0], "HTTP 200 OK", "retry, chunked {chunked}");
        let line = l.next_line();
        assert!(
            line.starts_with("duplicate:"),
            "retry, chunked {chunked}: {line}"
        );
    }
}
