//! `hookwarden send`: sign a body and POST it, once or many times.
//!
//! The delivery is signed once (`hookwarden sign`'s headers), so `--repeat N` sends the
//! same delivery id N times: a receiver that deduplicates processes it once.
//! `--tamper` flips one bit of the middle body byte after signing; `--timestamp` signs
//! at another time (`UNIX`, `now`, `now-SECS`, `now+SECS`, `-SECS`, `+SECS`) to send
//! stale or future deliveries; `-H 'Name: value'` adds a header or replaces a signed
//! one of the same name. `Content-Type` defaults to `application/json` when the body
//! is JSON, `application/x-www-form-urlencoded` when it is a form (`name=value&...`,
//! as Twilio posts), else `application/octet-stream`. Only `http://` URLs are supported (this
//! build has no TLS).
//!
//! # Output
//!
//! Human, on standard output: the first answer in full, then a summary of status
//! counts (statuses in ascending order; `failed` only when requests failed):
//!
//! ```text
//! HTTP 200 OK
//! content-type: text/plain; charset=utf-8
//! content-length: 3
//!
//! ok
//!
//! summary: 3 requests, 200: 3
//! ```
//!
//! A progress bar is drawn on standard error when it is a terminal and more than one
//! request is sent. With `--json`, one object per answer, in completion order, then a
//! summary:
//!
//! ```text
//! {"event":"response","request":1,"status":200,"headers":{"content-type":"..."},"body":"ok\n"}
//! {"event":"summary","requests":3,"statuses":{"200":3},"failed":0,"first_error":null}
//! ```
//!
//! Exit status: 0 when every answer is 2xx; 1 when an answer is not 2xx or some
//! requests failed; 2 for a usage error or when no request reached the URL.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use clap::Args;
use hookwarden_core::{Clock as _, Secret, SignInput, SystemClock, sign};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use crate::out::{Paint, error_chain, lossy, paint, print_line, stdout_color};
use crate::{EXIT_OK, EXIT_REJECTED, UsageError, parse_headers, read_body, scheme_by_name};

/// The end of `hookwarden send --help`.
pub(crate) const HELP: &str = "\
Exit status: 0 every answer 2xx, 1 some answer not 2xx or some requests failed,
2 usage error or the URL could not be reached at all.

--timestamp WHEN: UNIX seconds, `now`, `now-SECS`, `now+SECS`, `-SECS` or `+SECS`.
--repeat N sends the same signed delivery (same id) N times: dedup processes it once.
--tamper flips a bit of the middle body byte after signing.
-H 'Name: value' adds a header, or replaces a signed header of the same name.

Output: the first answer in full (status line, headers, blank line, body), then
  summary: N requests, STATUS: COUNT, ... [, failed: COUNT]
With --json: {\"event\":\"response\",...} per answer, then {\"event\":\"summary\",...}.
A progress bar is drawn on standard error when it is a terminal.";

/// Arguments of `hookwarden send`.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// The signature scheme (provider), lowercase: see the list below.
    #[arg(long, value_name = "NAME")]
    scheme: String,
    /// The signing secret (`whsk_...` with `--scheme standard` selects Ed25519).
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    secret: Option<String>,
    /// The URL to POST to (`http://` only); URL-signing schemes sign it as given.
    #[arg(long, value_name = "URL")]
    url: String,
    /// The signing time: UNIX seconds, `now`, `now-SECS`, `now+SECS`, `-SECS`, `+SECS`
    /// (default: now). Use it to send stale or future deliveries. Linear takes its time
    /// from the body's `webhookTimestamp` instead.
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true)]
    timestamp: Option<String>,
    /// The delivery id, for schemes that sign one (default: derived from the
    /// timestamp and body).
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    /// An extra request header, `Name: value`; replaces a signed header of the same
    /// name. Repeat it.
    #[arg(short = 'H', long = "header", value_name = "'Name: value'")]
    headers: Vec<String>,
    /// Send the same signed delivery (same delivery id) this many times.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// How many requests to have in flight at once.
    #[arg(long, value_name = "C", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    concurrency: u32,
    /// Flip a bit of one body byte after signing: the receiver must reject it.
    #[arg(long)]
    tamper: bool,
    /// Give up on one request after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// The body file; `-` or absent: standard input. Read as raw bytes.
    #[arg(value_name = "BODY_FILE")]
    body: Option<PathBuf>,
}

/// One answer.
#[derive(Debug)]
struct Answer {
    /// The HTTP status.
    status: u16,
    /// The status line's reason phrase, when the status has a canonical one.
    reason: &'static str,
    /// The headers, lowercase names, in the order received.
    headers: Vec<(String, String)>,
    /// The body.
    body: Vec<u8>,
}

/// The signing time named by `spec`, relative to `now`.
fn parse_when(spec: &str, now: i64) -> Result<i64, UsageError> {
    let bad = || {
        UsageError::new(format!(
            "malformed --timestamp {spec:?}: expected UNIX seconds, now, now-SECS, now+SECS, \
             -SECS or +SECS"
        ))
    };
    let spec = spec.trim();
    // Digits only: no second sign (`now--5`), no overflow.
    let seconds = |digits: &str| -> Result<i64, UsageError> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        digits.parse().map_err(|_| bad())
    };
    let when = if spec == "now" {
        Some(now)
    } else if let Some(rest) = spec.strip_prefix("now-").or_else(|| spec.strip_prefix('-')) {
        now.checked_sub(seconds(rest)?)
    } else if let Some(rest) = spec.strip_prefix("now+").or_else(|| spec.strip_prefix('+')) {
        now.checked_add(seconds(rest)?)
    } else {
        Some(seconds(spec)?)
    };
    when.filter(|t| crate::is_signable_timestamp(*t))
        .ok_or_else(bad)
}

/// `hookwarden send`.
pub(crate) fn run(args: &SendArgs, json: bool) -> Result<u8, UsageError> {
    let ed25519 = args
        .secret
        .as_deref()
        .is_some_and(|s| s.starts_with("whsk_"));
    let scheme = scheme_by_name(&args.scheme, ed25519)?;
    let secret = args
        .secret
        .as_deref()
        .ok_or_else(|| UsageError::new("--secret is required"))?;
    let secret = Secret::new(secret);
    scheme
        .signing_key_bytes(&secret)
        .map_err(|e| UsageError::new(format!("--secret (value not shown): {}", e.message())))?;
    let url = reqwest::Url::parse(&args.url)
        .map_err(|e| UsageError::new(format!("malformed --url (value not shown): {e}")))?;
    if url.scheme() != "http" {
        return Err(UsageError::new(format!(
            "--url {}: only http:// URLs are supported (this build has no TLS)",
            crate::out::shown_url(&url)
        )));
    }
    let extra = parse_headers(&args.headers)?;
    let timestamp = match &args.timestamp {
        Some(spec) => parse_when(spec, SystemClock.now_unix())?,
        None => SystemClock.now_unix(),
    };
    let body = read_body(args.body.as_ref())?;
    let input = SignInput {
        body: &body,
        timestamp,
        id: args.id.as_deref(),
        // The URL as it will be sent (`http://host:3000` goes out as `http://host:3000/`,
        // percent-encoded): URL-signing schemes sign what the receiver sees.
        url: Some(url.as_str()),
    };
    let signed = sign(&*scheme, &secret, &input)
        .map_err(|e| UsageError::new(format!("cannot sign: {}", e.message())))?;
    crate::check_signed(&*scheme, &signed, &body, timestamp)?;
    let mut body = body;
    if args.tamper {
        let middle = body.len() / 2;
        let byte = body
            .get_mut(middle)
            .ok_or_else(|| UsageError::new("--tamper needs a non-empty body"))?;
        *byte ^= 0x01;
    }

    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static(content_type(&body)),
    );
    for (name, value) in signed {
        insert_header(&mut headers, &name, &value, false)?;
    }
    for (name, value) in &extra {
        insert_header(&mut headers, name, value, true)?;
    }

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout))
        // A receiver's redirect is its answer, as for the providers' senders: following
        // it would send the signature headers on to another URL (as a body-less GET).
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| {
            UsageError::new(format!("cannot build the HTTP client: {}", error_chain(&e)))
        })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| UsageError::new(format!("cannot start the async runtime: {e}")))?;
    let job = Job {
        client,
        url,
        headers,
        body: body.into(),
    };
    runtime.block_on(send_all(Arc::new(job), args.repeat, args.concurrency, json))
}

/// The `Content-Type` `send` gives `body`: JSON, a form (`name=value&...`, as Twilio
/// and Slack's slash commands post them), else bytes.
fn content_type(body: &[u8]) -> &'static str {
    if serde_json::from_slice::<Value>(body).is_ok() {
        "application/json"
    } else if body.contains(&b'=')
        && body
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-._~%+=&*".contains(&b))
    {
        "application/x-www-form-urlencoded"
    } else {
        "application/octet-stream"
    }
}

/// Insert one header: `replace` a signed header of the same name, or append.
fn insert_header(
    headers: &mut reqwest::header::HeaderMap,
    name: &str,
    value: &str,
    replace: bool,
) -> Result<(), UsageError> {
    let bad = || {
        UsageError::new(format!(
            "header {name:?} cannot be sent: invalid name or value"
        ))
    };
    let name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
    let value = reqwest::header::HeaderValue::from_str(value).map_err(|_| bad())?;
    if replace || name == reqwest::header::CONTENT_TYPE {
        headers.insert(name, value);
    } else {
        headers.append(name, value);
    }
    Ok(())
}

/// What every request sends.
#[derive(Debug)]
struct Job {
    /// The client, shared (keep-alive connections).
    client: reqwest::Client,
    /// The target.
    url: reqwest::Url,
    /// Signed and extra headers.
    headers: reqwest::header::HeaderMap,
    /// The body as sent (tampered with when asked).
    body: axum::body::Bytes,
}

impl Job {
    /// Send one request and read the whole answer.
    async fn send_one(&self) -> Result<Answer, String> {
        let res = self
            .client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .body(self.body.clone())
            .send()
            .await
            .map_err(|e| error_chain(&e))?;
        let status = res.status();
        let headers = res
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), lossy(v.as_bytes())))
            .collect();
        let body = res.bytes().await.map_err(|e| error_chain(&e))?;
        Ok(Answer {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or(""),
            headers,
            body: body.to_vec(),
        })
    }
}

/// Send `repeat` requests, `concurrency` at a time; print as they complete.
async fn send_all(
    job: Arc<Job>,
    repeat: u32,
    concurrency: u32,
    json: bool,
) -> Result<u8, UsageError> {
    let next = Arc::new(AtomicU32::new(1));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..concurrency.min(repeat) {
        let (job, next, tx) = (Arc::clone(&job), Arc::clone(&next), tx.clone());
        tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n > repeat {
                    break;
                }
                if tx.send((n, job.send_one().await)).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);

    let bar = progress_bar(repeat);
    let color = !json && stdout_color();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut failed = 0u64;
    let mut first_error: Option<String> = None;
    let mut printed_first = false;
    while let Some((n, result)) = rx.recv().await {
        bar.inc(1);
        match result {
            Ok(answer) => {
                *statuses.entry(answer.status).or_default() += 1;
                if json {
                    bar.suspend(|| print_line(&answer_json(n, &answer).to_string()));
                } else if !printed_first {
                    printed_first = true;
                    bar.suspend(|| print_line(&answer_text(&answer, color)));
                }
            }
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    bar.finish_and_clear();

    let requests = u64::from(repeat);
    if failed == requests {
        let e = first_error.unwrap_or_default();
        return Err(UsageError::new(format!(
            "cannot reach {}: {e}",
            crate::out::shown_url(&job.url)
        )));
    }
    if json {
        let counts: serde_json::Map<String, Value> = statuses
            .iter()
            .map(|(s, c)| (s.to_string(), json!(c)))
            .collect();
        print_line(
            &json!({
                "event": "summary",
                "requests": requests,
                "statuses": counts,
                "failed": failed,
                "first_error": first_error,
            })
            .to_string(),
        );
    } else {
        let noun = if requests == 1 { "request" } else { "requests" };
        let mut line = format!("summary: {requests} {noun}");
        for (status, count) in &statuses {
            let label = paint(&status.to_string(), Paint::of_status(*status), color);
            line.push_str(&format!(", {label}: {count}"));
        }
        if failed > 0 {
            line.push_str(&format!(
                ", failed: {failed} (first error: {})",
                first_error.unwrap_or_default()
            ));
        }
        print_line(&line);
    }
    let all_2xx = failed == 0 && statuses.keys().all(|s| (200..300).contains(s));
    Ok(if all_2xx { EXIT_OK } else { EXIT_REJECTED })
}

/// A progress bar on standard error, drawn only when it is a terminal and there is
/// more than one request.
fn progress_bar(repeat: u32) -> ProgressBar {
    if repeat < 2 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(u64::from(repeat)), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} requests, {per_sec}, {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

/// The human form of an answer: status line, headers, a blank line, the body (with a
/// final newline added when missing), and a blank line.
fn answer_text(answer: &Answer, color: bool) -> String {
    let status = format!("{} {}", answer.status, answer.reason);
    let mut out = format!(
        "HTTP {}\n",
        paint(status.trim_end(), Paint::of_status(answer.status), color)
    );
    for (name, value) in &answer.headers {
        out.push_str(&format!("{name}: {value}\n"));
    }
    out.push('\n');
    let body = lossy(&answer.body);
    out.push_str(&body);
    if !body.is_empty() && !body.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The JSON form of answer `n`.
fn answer_json(n: u32, answer: &Answer) -> Value {
    let mut headers = serde_json::Map::new();
    for (name, value) in &answer.headers {
        match headers.get_mut(name) {
            Some(Value::String(previous)) => {
                previous.push_str(", ");
                previous.push_str(value);
            }
            _ => {
                headers.insert(name.clone(), json!(value));
            }
        }
    }
    json!({
        "event": "response",
        "request": n,
        "status": answer.status,
        "headers": headers,
        "body": lossy(&answer.body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_absolute_and_relative() {
        let now = 1_700_000_000;
        assert_eq!(parse_when("now", now).ok(), Some(now));
        assert_eq!(parse_when("123", now).ok(), Some(123));
        assert_eq!(parse_when("-600", now).ok(), Some(now - 600));
        assert_eq!(parse_when("now-600", now).ok(), Some(now - 600));
        assert_eq!(parse_when("+60", now).ok(), Some(now + 60));
        assert_eq!(parse_when("now+60", now).ok(), Some(now + 60));
        assert!(parse_when("yesterday", now).is_err());
        assert!(parse_when("now-x", now).is_err());
    }
}
