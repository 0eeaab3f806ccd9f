//! `hookwarden listen`: a local verifying receiver.
//!
//! An axum server whose every path goes through [`hookwarden_tower::WebhookLayer`]
//! with a [`Guard`] and its in-memory dedup store: the same pipeline as any receiver
//! (precheck, body limit, verify, dedup claim, claim completed on 2xx and released
//! otherwise). An outer middleware reads the [`Outcome`] the layer puts in the
//! extensions of the responses it answers itself, to print rejections with their
//! reason and duplicates.
//!
//! Verified, deduplicated deliveries are answered `200 ok`, or with `--forward-to URL`
//! passed on to an app (same method, original headers less hop-by-hop ones, same body)
//! whose status and headers are relayed, with its body up to 1 MiB (a larger one is
//! replaced by a short note; the status still goes back); an app that cannot be
//! reached or does not answer in full within 30 s is answered 502. A non-2xx answer
//! releases the dedup claim, so the sender's retry is processed. Forwarded requests
//! carry `X-Hookwarden-Forwarded-By`: one that comes back (a `--forward-to` leading to
//! the listener itself) is not passed on again. The first pass's dedup claim answers
//! it 409 (and the sender gets the 409, relayed); a delivery without a dedup key (GitLab
//! without an id header) is answered 508.
//!
//! # Output
//!
//! One line per event, flushed as it happens:
//!
//! ```text
//! listening on http://127.0.0.1:3000 (scheme standard)
//! verified: id msg_1, type invoice.paid, 42 bytes, answered 200
//! verified: id msg_2, 42 bytes, forwarded: 200
//! verified: id msg_3, 42 bytes, forwarded: 200 (the app's answer body is over 1024 KiB: not relayed)
//! verified: id msg_4, 42 bytes, forward failed: <error>, answered 502
//! duplicate: id msg_1, already processed, answered 200
//! rejected: signature_mismatch: no signature matches any configured secret, answered 401
//! challenge: slack_url_verification, answered 200
//! ```
//!
//! The endpoint challenge of the scheme's provider (Slack, Zoom, Twitch, Discord) is
//! answered, once its signature verified.
//!
//! `id` and `type` are left out when the delivery has none (a duplicate's `id` is read
//! from the headers only: a scheme whose id is in the body prints none; `type` comes from the
//! body's JSON: `type`, `event_type`, `event`, `topic` or `object_kind`). With
//! `--json`, one object per line:
//!
//! ```text
//! {"event":"listening","addr":"127.0.0.1:3000","url":"http://127.0.0.1:3000","scheme":"standard","public_url":null}
//! {"event":"verified","id":"msg_1","type":"invoice.paid","size":42,"scheme":"standard","secret_index":0,"dedup_key":"standard:msg_1","status":200,"forwarded":null,"forward_error":null}
//! {"event":"duplicate","id":"msg_1","status":200}
//! {"event":"rejected","reason":"signature_mismatch","detail":"signature_mismatch: ...","status":401}
//! {"event":"challenge","name":"slack_url_verification","status":200}
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse as _, Response};
use clap::Args;
use hookwarden_core::dedup::{DEFAULT_RETENTION, DedupConfig, MAX_DURATION};
use hookwarden_core::receive::{Challenge, Delivery, Guard, Outcome, Rejection};
use hookwarden_core::{Scheme, Tolerance};
use hookwarden_tower::WebhookLayer;
use serde_json::{Value, json};

use crate::out::{Paint, error_chain, event_type, paint, print_line, stdout_color};
use crate::{EXIT_OK, UsageError, build_verifier, one_line};

/// The end of `hookwarden listen --help`.
pub(crate) const HELP: &str = "\
Runs until interrupted (Ctrl-C or SIGTERM; requests in flight get 5 s, or a second
signal ends them). Exit status 0 then; 2: usage error, or the address cannot be
bound.

Output, one line per event, flushed as it happens:
  listening on http://ADDR (scheme NAME[, signed URLs under URL][, forwarding to URL])
  verified: id ID, type TYPE, N bytes, answered 200 | forwarded: STATUS [(NOTE)]
            | forward failed: ERROR, answered 502 (508: forwarded to itself)
  duplicate: id ID, already processed, answered 200  (the id when a header carries it)
  rejected: REASON: DETAIL, answered STATUS
  challenge: NAME, answered STATUS  (Slack, Zoom, Twitch and Discord endpoint checks)
With --json: one object per line, \"event\" listening, verified, duplicate, rejected or
challenge.";

/// Arguments of `hookwarden listen`.
#[derive(Debug, Args)]
pub(crate) struct ListenArgs {
    /// The signature scheme (provider), lowercase: see the list below.
    #[arg(long, value_name = "NAME")]
    scheme: String,
    /// An accepted secret or public key; repeat it during a rotation. `whpk_...` with
    /// `--scheme standard` selects Ed25519.
    #[arg(long = "secret", value_name = "S", allow_hyphen_values = true)]
    secrets: Vec<String>,
    /// The address to listen on (port 0: any free port, printed).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:3000")]
    addr: String,
    /// Pass verified, deduplicated deliveries to this URL (`http://` only) and relay
    /// its answer (status, headers and up to 1 MiB of body: a larger body is replaced
    /// by a note; the app has 30 s to answer, else the sender gets 502).
    #[arg(long, value_name = "URL")]
    forward_to: Option<String>,
    /// Accept timestamps this many seconds in the past or future (default: the
    /// scheme's own tolerance).
    #[arg(long, value_name = "SECONDS")]
    tolerance: Option<u32>,
    /// The public base URL senders call, for schemes that sign the URL (default:
    /// `http://` and the listening address).
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
}

/// What the handler and the outer middleware share.
#[derive(Debug)]
struct State {
    /// The scheme, to read a duplicate's delivery id from its headers.
    scheme: Arc<dyn Scheme>,
    /// `--json`.
    json: bool,
    /// Colours on standard output.
    color: bool,
    /// The client and URL deliveries are forwarded to.
    forward: Option<(reqwest::Client, reqwest::Url)>,
    /// This listener's value of [`FORWARDED_BY`], set on what it forwards: a request
    /// carrying it came back (`--forward-to` leads to the listener itself).
    forwarded_by: String,
}

/// How long the app behind `--forward-to` has to answer in full.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);

/// The most of the app's answer body that is read and relayed: an answer to a webhook
/// is a status and a short body; a larger one is not held in memory (replaced by a
/// note, the status relayed).
const FORWARD_ANSWER_LIMIT: usize = 1024 * 1024;

/// The header a listener marks the requests it forwards with.
const FORWARDED_BY: &str = "x-hookwarden-forwarded-by";

/// The in-memory dedup's configuration: deliveries are remembered for the default
/// retention, or twice the tolerance when longer (there is no retention flag). A
/// tolerance whose double cannot be kept (over [`MAX_DURATION`]) names `--tolerance`.
fn dedup_for(tolerance: Option<Tolerance>) -> Result<DedupConfig, UsageError> {
    let min = DedupConfig::min_retention(tolerance);
    if min > MAX_DURATION {
        let past = tolerance.map_or(0, |t| t.past().max(t.future()).whole_seconds());
        return Err(UsageError::new(format!(
            "--tolerance {past}: at most {} s with listen (its dedup remembers each \
             delivery for twice the tolerance, at most 365 days)",
            (MAX_DURATION.as_secs() - 1) / 2
        )));
    }
    Ok(DedupConfig::new().with_retention(min.max(DEFAULT_RETENTION)))
}

/// `hookwarden listen`.
pub(crate) fn run(args: &ListenArgs, json: bool) -> Result<u8, UsageError> {
    let (verifier, scheme) = build_verifier(&args.scheme, &args.secrets, None, args.tolerance)?;
    let addr: SocketAddr = args.addr.parse().map_err(|_| {
        UsageError::new(format!(
            "malformed --addr {:?}: expected HOST:PORT with an IP address",
            args.addr
        ))
    })?;
    let forward = match &args.forward_to {
        Some(raw) => {
            let url = reqwest::Url::parse(raw).map_err(|e| {
                UsageError::new(format!("malformed --forward-to (value not shown): {e}"))
            })?;
            if url.scheme() != "http" {
                return Err(UsageError::new(format!(
                    "--forward-to {}: only http:// URLs are supported (this build has no TLS)",
                    crate::out::shown_url(&url)
                )));
            }
            // The app's redirect is its answer, relayed: following it would send the
            // delivery elsewhere (a POST turned into a body-less GET) and take that
            // answer for the app's.
            let client = reqwest::Client::builder()
                .timeout(FORWARD_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| {
                    UsageError::new(format!("cannot build the HTTP client: {}", error_chain(&e)))
                })?;
            Some((client, url))
        }
        None => None,
    };
    let dedup = dedup_for(verifier.tolerance())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| UsageError::new(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| UsageError::new(format!("cannot listen on {addr}: {e}")))?;
        let local = listener
            .local_addr()
            .map_err(|e| UsageError::new(format!("cannot listen on {addr}: {e}")))?;
        let scheme_name = verifier.scheme().name();
        // A client trickling its body gets 408 after 10 s instead of holding its memory.
        let mut guard = Guard::builder(verifier)
            .with_dedup(dedup)
            .with_body_timeout(Duration::from_secs(10));
        // The provider's endpoint challenge (Slack, Zoom, Twitch, Discord) is answered.
        if let Some(challenge) = Challenge::for_scheme(scheme_name) {
            guard = guard.with_challenge(challenge);
        }
        let url = format!("http://{local}");
        // Shown when listening: a URL-signing sender must call this very base.
        let public_url = scheme
            .signs_url()
            .then(|| args.public_url.clone().unwrap_or_else(|| url.clone()));
        if let Some(base) = &public_url {
            guard = guard.with_public_url(base.clone());
        }
        let guard = guard
            .build()
            .map_err(|e| UsageError::new(e.message().to_owned()))?;
        let state = Arc::new(State {
            scheme,
            json,
            color: !json && stdout_color(),
            forward,
            forwarded_by: format!("{}-{local}", std::process::id()),
        });
        let app = router(guard, Arc::clone(&state));
        // Registered before saying "listening": a signal sent once the line is out
        // must reach the handler, not end the process by its default action.
        let mut signals = Signals::register()?;

        // A password in the public URL (basic auth, which Twilio signs) is not shown.
        let shown_public_url = public_url.as_deref().map(crate::out::shown_url_text);
        if json {
            print_line(
                &json!({"event": "listening", "addr": local.to_string(), "url": url,
                        "scheme": scheme_name, "public_url": shown_public_url})
                .to_string(),
            );
        } else {
            let mut line = format!("listening on {url} (scheme {scheme_name}");
            if let Some(base) = &shown_public_url {
                line.push_str(&format!(", signed URLs under {base}"));
            }
            if let Some((_, to)) = &state.forward {
                line.push_str(&format!(", forwarding to {}", crate::out::shown_url(to)));
            }
            line.push(')');
            print_line(&line);
        }
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            signals.recv().await;
            // Graceful shutdown waits for the requests in flight, which a slow sender
            // can hold open for ever: a second signal, or the grace period, ends the
            // process at once (every line printed so far was flushed).
            tokio::spawn(async move {
                tokio::select! {
                    () = signals.recv() => {}
                    () = tokio::time::sleep(SHUTDOWN_GRACE) => {}
                }
                std::process::exit(i32::from(EXIT_OK));
            });
        })
        .await
        .map_err(|e| UsageError::new(format!("server error: {e}")))?;
        Ok(EXIT_OK)
    })
}

/// How long `listen` waits, once interrupted, for the requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Ctrl-C (SIGINT) and, on Unix, SIGTERM (what `kill`, systemd and containers send),
/// their handlers installed when registered.
struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn register() -> Result<Self, UsageError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let handler = |kind| {
                signal(kind).map_err(|e| UsageError::new(format!("cannot handle signals: {e}")))
            };
            Ok(Self {
                int: handler(SignalKind::interrupt())?,
                term: handler(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// The next of them.
    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The receiver: every path and method through the webhook layer, then the handler;
/// outcomes reported by an outer middleware.
fn router(guard: Guard, state: Arc<State>) -> Router {
    let handler_state = Arc::clone(&state);
    Router::new()
        .fallback(move |req: Request| {
            let state = Arc::clone(&handler_state);
            async move { handle(&state, req).await }
        })
        .layer(WebhookLayer::new(guard))
        .layer(from_fn(move |req: Request, next: Next| {
            let state = Arc::clone(&state);
            async move { report(&state, req, next).await }
        }))
}

/// Print the pipeline's own answers: rejections with their reason, duplicates.
async fn report(state: &State, req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let res = next.run(req).await;
    let status = res.status().as_u16();
    match res.extensions().get::<Outcome>() {
        Some(Outcome::Rejected(rejection)) => {
            let detail = match rejection {
                Rejection::Verify(e) => e.to_string(),
                other => format!("{}: {other}", other.reason()),
            };
            let detail = one_line(&detail);
            if state.json {
                print_line(
                    &json!({"event": "rejected", "reason": rejection.reason(),
                            "detail": detail, "status": status})
                    .to_string(),
                );
            } else {
                print_line(&format!(
                    "{}: {detail}, answered {status}",
                    paint("rejected", Paint::Bad, state.color)
                ));
            }
        }
        Some(Outcome::Duplicate) => {
            let id = header_id(&*state.scheme, &headers);
            if state.json {
                print_line(&json!({"event": "duplicate", "id": id, "status": status}).to_string());
            } else {
                let id = id.map(|id| format!("id {id}, ")).unwrap_or_default();
                print_line(&format!(
                    "{}: {id}already processed, answered {status}",
                    paint("duplicate", Paint::Note, state.color)
                ));
            }
        }
        Some(Outcome::Challenge(challenge)) => {
            let name = challenge.name();
            if state.json {
                print_line(
                    &json!({"event": "challenge", "name": name, "status": status}).to_string(),
                );
            } else {
                print_line(&format!("challenge: {name}, answered {status}"));
            }
        }
        _ => {}
    }
    res
}

/// The delivery id the scheme reads from the headers, when it has one there.
fn header_id(scheme: &dyn Scheme, headers: &HeaderMap) -> Option<String> {
    let parsed = scheme.parse(headers).ok()?;
    parsed.id.map(|id| one_line(&String::from_utf8_lossy(id)))
}

/// Headers not passed on to the app, in either direction.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// `headers` without the hop-by-hop ones: the fixed list and those the `Connection`
/// header names.
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let mut out = headers.clone();
    for value in headers.get_all(axum::http::header::CONNECTION) {
        for name in value.to_str().unwrap_or_default().split(',') {
            if let Ok(name) = HeaderName::from_bytes(name.trim().as_bytes()) {
                out.remove(name);
            }
        }
    }
    for name in HOP_BY_HOP {
        out.remove(HeaderName::from_static(name));
    }
    out
}

/// A verified, deduplicated delivery: print it, answer it or forward it.
async fn handle(state: &State, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Some(delivery) = parts.extensions.get::<Delivery>().cloned() else {
        // The layer always inserts it outside report-only mode, which listen never sets.
        return (StatusCode::INTERNAL_SERVER_ERROR, "no verified delivery\n").into_response();
    };
    // The layer re-injects the already buffered, size-limited body.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::BAD_REQUEST, "body could not be read\n").into_response(),
    };
    let looped = parts
        .headers
        .get(FORWARDED_BY)
        .is_some_and(|v| v.as_bytes() == state.forwarded_by.as_bytes());
    let (response, forwarded, forward_error) = match &state.forward {
        None => ((StatusCode::OK, "ok\n").into_response(), None, None),
        // Passed on again, it would come back again, for ever.
        Some(_) if looped => (
            (
                StatusCode::LOOP_DETECTED,
                "hookwarden forwards to itself: --forward-to leads back to the listener\n",
            )
                .into_response(),
            None,
            Some("--forward-to leads back to this listener".to_owned()),
        ),
        Some((client, url)) => {
            let mut headers = parts.headers.clone();
            if let Ok(value) = HeaderValue::from_str(&state.forwarded_by) {
                headers.insert(HeaderName::from_static(FORWARDED_BY), value);
            }
            match forward(client, url, &parts.method, &headers, bytes.clone()).await {
                Ok((res, note)) => {
                    let status = res.status().as_u16();
                    (res, Some(status), note)
                }
                Err(e) => (
                    (
                        StatusCode::BAD_GATEWAY,
                        "the app behind hookwarden could not be reached\n",
                    )
                        .into_response(),
                    None,
                    Some(e),
                ),
            }
        }
    };
    print_delivery(
        state,
        &delivery,
        &bytes,
        response.status().as_u16(),
        forwarded,
        forward_error,
    );
    response
}

/// Print one verified delivery.
fn print_delivery(
    state: &State,
    delivery: &Delivery,
    body: &Bytes,
    status: u16,
    forwarded: Option<u16>,
    forward_error: Option<String>,
) {
    let verified = delivery.verified();
    let id = verified.delivery_id().map(one_line);
    let kind = event_type(body);
    if state.json {
        print_line(
            &json!({
                "event": "verified",
                "id": id,
                "type": kind,
                "size": body.len(),
                "scheme": verified.scheme(),
                "secret_index": verified.key_index(),
                "dedup_key": delivery.dedup_key().map(|k| one_line(k.as_str())),
                "status": status,
                "forwarded": forwarded.map(|s| json!({"status": s})).unwrap_or(Value::Null),
                "forward_error": forward_error,
            })
            .to_string(),
        );
        return;
    }
    let mut line = format!("{}: ", paint("verified", Paint::Good, state.color));
    if let Some(id) = id {
        line.push_str(&format!("id {id}, "));
    }
    if let Some(kind) = kind {
        line.push_str(&format!("type {kind}, "));
    }
    line.push_str(&format!("{} bytes, ", body.len()));
    match (forwarded, forward_error) {
        (Some(s), note) => {
            line.push_str(&format!(
                "forwarded: {}",
                paint(&s.to_string(), Paint::of_status(s), state.color)
            ));
            if let Some(note) = note {
                line.push_str(&format!(" ({note})"));
            }
        }
        (None, Some(e)) => line.push_str(&format!("forward failed: {e}, answered {status}")),
        (None, None) => line.push_str(&format!("answered {status}")),
    }
    print_line(&line);
}

/// Send the delivery to the app and turn its answer into ours: its status and
/// end-to-end headers, and its body up to [`FORWARD_ANSWER_LIMIT`]. A larger body
/// (declared or streamed) is not read on and is replaced by a short note: the status
/// still goes back, so the claim follows what the app did (a 2xx completes it). The
/// note is also returned, for the printed line.
async fn forward(
    client: &reqwest::Client,
    url: &reqwest::Url,
    method: &axum::http::Method,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(Response, Option<String>), String> {
    let mut res = client
        .request(method.clone(), url.clone())
        .headers(end_to_end(headers))
        .body(body)
        .send()
        .await
        .map_err(|e| error_chain(&e))?;
    let status = res.status();
    let mut headers = end_to_end(res.headers());
    let mut body = Vec::new();
    let mut too_long = res
        .content_length()
        .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > FORWARD_ANSWER_LIMIT));
    while !too_long && let Some(chunk) = res.chunk().await.map_err(|e| error_chain(&e))? {
        too_long = body.len() + chunk.len() > FORWARD_ANSWER_LIMIT;
        if !too_long {
            body.extend_from_slice(&chunk);
        }
    }
    let note = too_long.then(|| {
        format!(
            "the app's answer body is over {} KiB: not relayed",
            FORWARD_ANSWER_LIMIT / 1024
        )
    });
    if let Some(note) = &note {
        body = format!("{note}\n").into_bytes();
        for name in [
            axum::http::header::CONTENT_LENGTH,
            axum::http::header::CONTENT_TYPE,
            axum::http::header::CONTENT_ENCODING,
        ] {
            headers.remove(name);
        }
    }
    let mut out = Response::new(Body::from(body));
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok((out, note))
}
