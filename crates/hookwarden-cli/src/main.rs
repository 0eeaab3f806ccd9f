//! `hookwarden`: sign test webhook deliveries, send them, verify captured ones, and run
//! a local verifying receiver, with every scheme hookwarden knows
//! (`hookwarden_core::schemes::NAMES`).
//!
//! ```text
//! hookwarden verify --scheme NAME --secret S [--secret S2 ...] [-H 'Name: value' ...]
//!                   [--url URL] [--now UNIX_SECONDS] [--tolerance SECONDS] [--explain]
//!                   [BODY_FILE | -]
//! hookwarden sign   --scheme NAME --secret S [--timestamp UNIX] [--id ID] [--url URL]
//!                   [BODY_FILE | -]
//! hookwarden send   --scheme NAME --secret S --url URL [--timestamp WHEN] [--id ID]
//!                   [-H 'Name: value' ...] [--repeat N] [--concurrency C] [--tamper]
//!                   [--timeout SECONDS] [BODY_FILE | -]
//! hookwarden listen --scheme NAME --secret S [--secret S2 ...] [--addr 127.0.0.1:3000]
//!                   [--forward-to URL] [--tolerance SECONDS] [--public-url URL]
//! ```
//!
//! Every subcommand takes `--json`: one JSON object per line and per result instead of
//! the human output (see each module's docs: [`send`], [`listen`], and below). Colours
//! are only used when standard output is a terminal and `NO_COLOR` is not set.
//!
//! The body is read from `BODY_FILE`, or from standard input when it is `-` or absent,
//! as raw bytes (it need not be UTF-8). `--scheme standard` with a `whpk_` public key
//! (verify) or a `whsk_` private key (sign) uses Standard Webhooks' Ed25519 variant.
//!
//! # Output (stable: scripts depend on it)
//!
//! `verify`, exit status 0, on standard output, one `key: value` per line; a line whose
//! value is absent (a scheme without timestamp or delivery id) is left out:
//!
//! ```text
//! verified
//! scheme: standard
//! secret index: 0
//! timestamp: 2023-11-14T22:13:20Z
//! timestamp unix: 1700000000
//! delivery id: msg_1
//! dedup key: standard:msg_1
//! ```
//!
//! `secret index` is 0-based: the position of the matching `--secret` in the order
//! given (0 for the first). `dedup key` is the key the receive pipeline would claim
//! the delivery under with the default dedup configuration
//! (`hookwarden_core::dedup::DedupConfig::key_for`): `{scheme}:{delivery id}` when the
//! signature covers the id or a signed timestamp bounds its replays (GitLab, which
//! signs nothing, keeps its id), else `{scheme}:sig:{hex SHA-256 of the signature}`
//! (of the first secret's MAC when another secret matched): a GitHub delivery prints
//! its `X-GitHub-Delivery` as `delivery id` and a `github:sig:` key.
//!
//! `verify`, exit status 1 (the delivery is rejected), on standard output:
//!
//! ```text
//! rejected: signature_mismatch: no signature matches any configured secret
//! status: 401
//! ```
//!
//! The reason is the rejection's kind, the header concerned if any, and what is wrong;
//! `status` is the HTTP status a receiver answers. Neither names a secret or a
//! computed signature.
//!
//! `verify --explain` adds, after those two lines, what was checked (never a secret
//! or a signature value; lines that do not apply are left out):
//!
//! ```text
//! headers found: webhook-id, webhook-timestamp, webhook-signature
//! headers missing: none
//! timestamp: 2023-11-14T22:13:20Z
//! timestamp unix: 1700000000
//! now unix: 1700000400
//! skew: -400s (tolerance 300s past, 300s future: outside)
//! signatures: 1 decoded (versions present: v1)
//! secrets tried: 0 of 1
//! body: 42 bytes
//! ```
//!
//! For a scheme that signs the URL, a last line gives it (a password in it shown as
//! `***`): `url: URL (signed: it must be the URL the sender called, as it called it)`.
//!
//! `secrets tried` is 0 when verification stopped before any signature was computed
//! (a header error, a timestamp out of tolerance).
//!
//! `sign`, exit status 0, on standard output: the headers to send, one `Name: value`
//! per line.
//!
//! With `--json`, `verify` prints one object (its keys in alphabetical order):
//! `{"event":"verified","scheme":..,"secret_index":..,"timestamp":..|null,
//! "timestamp_unix":..|null,"delivery_id":..|null,"dedup_key":..|null}` or
//! `{"event":"rejected","reason":"signature_mismatch","header":..|null,"detail":..,
//! "message":..,"status":401}` (plus `"explain":{..}` with `--explain`), and `sign`
//! prints `{"event":"signed","headers":{"Name":"value",..}}`.
//!
//! Exit status 2, for every subcommand: a usage or configuration error (unknown scheme,
//! no secret, a secret not in the scheme's format, a malformed `-H`, an unreadable body
//! file, an unreachable URL...), one line on standard error starting with
//! `hookwarden: error: `, also with `--json`. Errors never print a secret.
#![forbid(unsafe_code)]

mod explain;
mod listen;
mod out;
mod send;

use std::fmt::Write as _;
use std::io::{self, Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use hookwarden_core::dedup::DedupConfig;
use hookwarden_core::time::format_description::well_known::Rfc3339;
use hookwarden_core::{
    Clock as _, HeaderKey, ManualClock, Request, Scheme, Secret, SignInput, SystemClock, Tolerance,
    Verifier, schemes, sign,
};
use serde_json::json;

use crate::out::{Paint, paint};

/// Exit status of a verified delivery or a successful `sign`.
const EXIT_OK: u8 = 0;
/// Exit status of a rejected delivery.
const EXIT_REJECTED: u8 = 1;
/// Exit status of a usage or configuration error.
const EXIT_USAGE: u8 = 2;

/// The end of `hookwarden verify --help`: exit statuses and output.
const VERIFY_HELP: &str = "\
Exit status: 0 verified, 1 rejected, 2 usage or configuration error.

Output when verified, one `key: value` per line (lines for absent values are left out):
  verified
  scheme: NAME
  secret index: N          (0-based position of the matching --secret)
  timestamp: RFC 3339
  timestamp unix: SECONDS
  delivery id: ID
  dedup key: KEY
Output when rejected (exit 1):
  rejected: REASON
  status: HTTP_STATUS
With --explain, then what was checked: headers found / missing, timestamp, now unix,
skew, signatures (decoded count and versions present), secrets tried, body size,
and the URL for schemes that sign it (a password in it shown as ***).
Never a secret or a signature value.
With --json: one JSON object instead (event verified or rejected).
Usage and configuration errors print one line on standard error.";

/// The end of `hookwarden sign --help`: exit statuses and output.
const SIGN_HELP: &str = "\
Exit status: 0 signed, 2 usage or configuration error.

Output: the headers to send, one `Name: value` per line.
Usage and configuration errors print one line on standard error.";

/// Sign, send and verify webhook deliveries; run a local verifying receiver.
#[derive(Debug, Parser)]
#[command(name = "hookwarden", version, about)]
struct Cli {
    /// Print one JSON object per result (one per line) instead of the human output.
    #[arg(long, global = true)]
    json: bool,
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Verify a delivery: its headers (-H) and body against one or more secrets.
    ///
    /// Exit status 0: verified; 1: rejected (the reason is printed); 2: usage or
    /// configuration error.
    Verify(VerifyArgs),
    /// Sign a body the way the scheme's provider does and print the headers to send.
    Sign(SignArgs),
    /// Sign a body and POST it to a URL; print the answer and a summary of statuses.
    ///
    /// Exit status 0: every answer was 2xx; 1: some answer was not 2xx, or some
    /// requests failed; 2: usage error, or no request could reach the URL.
    Send(send::SendArgs),
    /// Run a local verifying receiver (the tower layer with in-memory dedup); print
    /// each verified delivery and each rejection with its reason.
    Listen(listen::ListenArgs),
}

/// Arguments of `hookwarden verify`.
#[derive(Debug, Args)]
struct VerifyArgs {
    /// The signature scheme (provider), lowercase: see the list below.
    #[arg(long, value_name = "NAME")]
    scheme: String,
    /// An accepted secret or public key; repeat it during a rotation (the output says
    /// which one matched, 0-based). `whpk_...` with `--scheme standard` selects Ed25519.
    #[arg(long = "secret", value_name = "S", allow_hyphen_values = true)]
    secrets: Vec<String>,
    /// A request header, `Name: value` (split at the first colon); repeat it.
    #[arg(short = 'H', long = "header", value_name = "'Name: value'")]
    headers: Vec<String>,
    /// The full public URL the sender called, for schemes that sign it.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Verify as if the time were this, in unix seconds (default: the system clock).
    #[arg(long, value_name = "UNIX_SECONDS", allow_hyphen_values = true)]
    now: Option<i64>,
    /// Accept timestamps this many seconds in the past or future (default: the
    /// scheme's own tolerance, 5 minutes for most).
    #[arg(long, value_name = "SECONDS")]
    tolerance: Option<u32>,
    /// On rejection, also say what was checked: headers found, timestamp and skew,
    /// signature versions present, secrets tried (never a secret or signature).
    #[arg(long)]
    explain: bool,
    /// The body file; `-` or absent: standard input. Read as raw bytes.
    #[arg(value_name = "BODY_FILE")]
    body: Option<PathBuf>,
}

/// Arguments of `hookwarden sign`.
#[derive(Debug, Args)]
struct SignArgs {
    /// The signature scheme (provider), lowercase: see the list below.
    #[arg(long, value_name = "NAME")]
    scheme: String,
    /// The signing secret (`whsk_...` with `--scheme standard` selects Ed25519).
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    secret: Option<String>,
    /// The signing time, unix seconds (default: now). Linear takes its time from the
    /// body's `webhookTimestamp` instead.
    #[arg(long, value_name = "UNIX", allow_hyphen_values = true)]
    timestamp: Option<i64>,
    /// The delivery id, for schemes that sign one (default: derived from the
    /// timestamp and body).
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    /// The URL the delivery will be sent to, for schemes that sign it.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// The body file; `-` or absent: standard input. Read as raw bytes.
    #[arg(value_name = "BODY_FILE")]
    body: Option<PathBuf>,
}

/// A usage or configuration error: one line on standard error, exit status 2.
#[derive(Debug)]
struct UsageError(String);

impl UsageError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

fn main() -> ExitCode {
    // The scheme list is the core's, read at run time: new schemes show up unchanged.
    let names = schemes::NAMES.join(", ");
    let command = Cli::command()
        .after_help(format!(
            "Exit status of verify and sign: 0 verified or signed, 1 rejected, 2 usage or \
             configuration error (send and listen: see their --help).\n\n\
             Schemes: {names}"
        ))
        .mut_subcommand("verify", |c| {
            c.after_help(format!("{VERIFY_HELP}\n\nSchemes: {names}"))
        })
        .mut_subcommand("sign", |c| {
            c.after_help(format!("{SIGN_HELP}\n\nSchemes: {names}"))
        })
        .mut_subcommand("send", |c| {
            c.after_help(format!("{}\n\nSchemes: {names}", send::HELP))
        })
        .mut_subcommand("listen", |c| {
            c.after_help(format!("{}\n\nSchemes: {names}", listen::HELP))
        });
    let cli = match command
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // `--help` and `--version` land here too, and succeed.
            let _ = e.print();
            return ExitCode::from(EXIT_OK);
        }
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // No subcommand: the help, as a usage error.
            let _ = e.print();
            return ExitCode::from(EXIT_USAGE);
        }
        Err(e) => {
            // One line, as every usage error: clap's first paragraph (the message and,
            // for missing arguments, their names), then where to look.
            let rendered = e.render().to_string();
            let message = rendered
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            let _ = writeln!(
                io::stderr().lock(),
                "hookwarden: error: {message} (see --help)"
            );
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let json = cli.json;
    let result = match cli.command {
        Command::Verify(args) => run_verify(&args, json),
        Command::Sign(args) => run_sign(&args, json),
        Command::Send(args) => send::run(&args, json),
        Command::Listen(args) => listen::run(&args, json),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(UsageError(message)) => {
            let message = message.replace(['\n', '\r'], " ");
            let _ = writeln!(io::stderr().lock(), "hookwarden: error: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// The scheme called `name`, or the Standard Webhooks Ed25519 variant when `name` is
/// `standard` and `ed25519` says a key of that kind was given.
fn scheme_by_name(name: &str, ed25519: bool) -> Result<Arc<dyn Scheme>, UsageError> {
    let name = name.to_ascii_lowercase();
    let name = if name == "standard" && ed25519 {
        "standard-ed25519"
    } else {
        name.as_str()
    };
    schemes::by_name(name).ok_or_else(|| {
        UsageError::new(format!(
            "unknown scheme `{name}`; known schemes: {}",
            schemes::NAMES.join(", ")
        ))
    })
}

/// Whether `sign` may put `timestamp` in a header: what `verify` reads back (the
/// core's parser: unsigned, at most 18 digits).
fn is_signable_timestamp(timestamp: i64) -> bool {
    hookwarden_core::parse::unix_seconds(timestamp.to_string().as_bytes()) == Some(timestamp)
}

/// Refuse signed `headers` that could not be sent as one `Name: value` line each (a
/// line break or control character, from `--id` or GitLab's token) or that `verify`
/// would not read back with `timestamp` (Twitch's RFC 3339 stops at year 9999), and a
/// `body` without the timestamp a scheme reads from it (Linear's `webhookTimestamp`:
/// `verify` would refuse every such delivery). A value is never shown: it may be the
/// secret.
fn check_signed(
    scheme: &dyn Scheme,
    headers: &[(String, String)],
    body: &[u8],
    timestamp: i64,
) -> Result<(), UsageError> {
    if let Some((name, _)) = headers
        .iter()
        .find(|(_, v)| v.chars().any(|c| c.is_control() && c != '\t'))
    {
        return Err(UsageError::new(format!(
            "cannot sign: the {name} header would hold a line break or control character \
             (value not shown; check --id and --secret)"
        )));
    }
    scheme.timestamp_from_body(body).map_err(|e| {
        UsageError::new(format!(
            "cannot sign: {e} (scheme {} reads the time from the body; --timestamp does not set it)",
            scheme.name()
        ))
    })?;
    match scheme.parse(&headers) {
        Ok(parsed) if parsed.timestamp.is_none_or(|t| t == timestamp) => Ok(()),
        Ok(_) => Err(UsageError::new(format!(
            "--timestamp {timestamp}: scheme {} cannot carry it",
            scheme.name()
        ))),
        Err(e) => Err(UsageError::new(format!(
            "--timestamp {timestamp}: scheme {} cannot carry it: {e}",
            scheme.name()
        ))),
    }
}

/// Parse `-H 'Name: value'` arguments. An error does not repeat the argument: a
/// header value may be a secret (GitLab's token).
fn parse_headers(raw: &[String]) -> Result<Vec<(String, String)>, UsageError> {
    raw.iter()
        .enumerate()
        .map(|(i, h)| {
            let malformed = || {
                UsageError::new(format!(
                    "malformed -H (number {}, value not shown): expected `Name: value` \
                     with a valid header name",
                    i + 1
                ))
            };
            let (name, value) = h.split_once(':').ok_or_else(malformed)?;
            let name = name.trim();
            HeaderKey::new(name).map_err(|_| malformed())?;
            Ok((name.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// Read the body from `path`, or standard input for `-` or `None`.
fn read_body(path: Option<&PathBuf>) -> Result<Vec<u8>, UsageError> {
    match path {
        Some(p) if p.as_os_str() != "-" => std::fs::read(p)
            .map_err(|e| UsageError::new(format!("cannot read body file {}: {e}", p.display()))),
        _ => {
            let mut body = Vec::new();
            io::stdin()
                .lock()
                .read_to_end(&mut body)
                .map_err(|e| UsageError::new(format!("cannot read the body from stdin: {e}")))?;
            Ok(body)
        }
    }
}

/// Write `text` to standard output. A closed pipe is not an error worth a panic: the
/// exit status still tells the outcome.
fn print_out(text: &str) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// The verifier for `scheme_name` and `secrets` (checked one by one, named by their
/// 0-based index), with a manual clock at `now` when given and a symmetric
/// `tolerance` in seconds when given. Returns the scheme too, shared.
fn build_verifier(
    scheme_name: &str,
    secrets: &[String],
    now: Option<i64>,
    tolerance: Option<u32>,
) -> Result<(Verifier, Arc<dyn Scheme>), UsageError> {
    let ed25519 = secrets.iter().any(|s| s.starts_with("whpk_"));
    let scheme = scheme_by_name(scheme_name, ed25519)?;
    if ed25519 && scheme.name() == "standard" && !secrets.iter().all(|s| s.starts_with("whpk_")) {
        return Err(UsageError::new(
            "--scheme standard takes either whsec_ secrets (HMAC) or whpk_ public keys \
             (Ed25519), not both",
        ));
    }
    if secrets.is_empty() {
        return Err(UsageError::new("at least one --secret is required"));
    }
    for (index, secret) in secrets.iter().enumerate() {
        // Checked one by one to name the culprit by its 0-based index, like the output.
        scheme
            .key_bytes(&Secret::new(secret.as_str()))
            .map_err(|e| {
                UsageError::new(format!(
                    "--secret at index {index} (value not shown): {}",
                    e.message()
                ))
            })?;
    }
    let mut builder =
        Verifier::builder_arc(Arc::clone(&scheme)).secrets(secrets.iter().map(String::as_str));
    if let Some(now) = now {
        builder = builder.clock(ManualClock::new(now));
    }
    if let Some(seconds) = tolerance {
        builder = builder.tolerance(Tolerance::symmetric(
            hookwarden_core::time::Duration::seconds(i64::from(seconds)),
        ));
    }
    let verifier = builder
        .build()
        .map_err(|e| UsageError::new(e.message().to_owned()))?;
    Ok((verifier, scheme))
}

/// `hookwarden verify`.
fn run_verify(args: &VerifyArgs, json: bool) -> Result<u8, UsageError> {
    let (verifier, scheme) = build_verifier(&args.scheme, &args.secrets, args.now, args.tolerance)?;
    let headers = parse_headers(&args.headers)?;
    if scheme.signs_url() && args.url.is_none() {
        return Err(UsageError::new(format!(
            "scheme {} signs the request URL: pass the public URL with --url",
            scheme.name()
        )));
    }

    let body = read_body(args.body.as_ref())?;
    let req = Request {
        headers: &headers,
        body: &body,
        url: args.url.as_deref(),
    };
    if json {
        let value = match verifier.verify_request(&req) {
            Ok(verified) => json!({
                "event": "verified",
                "scheme": verified.scheme(),
                "secret_index": verified.key_index(),
                "timestamp": verified.timestamp().and_then(|t| t.format(&Rfc3339).ok()),
                "timestamp_unix": verified.timestamp().map(|t| t.unix_timestamp()),
                "delivery_id": verified.delivery_id(),
                "dedup_key": DedupConfig::new().key_for(&verified, &req).map(|k| k.as_str().to_owned()),
            }),
            Err(e) => {
                let mut value = json!({
                    "event": "rejected",
                    "reason": e.kind().as_str(),
                    "header": e.header(),
                    "detail": e.detail(),
                    "message": e.to_string(),
                    "status": e.status(),
                });
                if args.explain {
                    value["explain"] =
                        explain::Explain::new(&verifier, &req, args.secrets.len(), &e).to_json();
                }
                value
            }
        };
        let code = if value["event"] == "verified" {
            EXIT_OK
        } else {
            EXIT_REJECTED
        };
        print_out(&format!("{value}\n"));
        return Ok(code);
    }
    let color = out::stdout_color();
    let mut out = String::new();
    // Writing to a String cannot fail.
    let code = match verifier.verify_request(&req) {
        Ok(verified) => {
            let _ = writeln!(out, "{}", paint("verified", Paint::Good, color));
            let _ = writeln!(out, "scheme: {}", verified.scheme());
            let _ = writeln!(out, "secret index: {}", verified.key_index());
            if let Some(ts) = verified.timestamp() {
                if let Ok(rfc) = ts.format(&Rfc3339) {
                    let _ = writeln!(out, "timestamp: {rfc}");
                }
                let _ = writeln!(out, "timestamp unix: {}", ts.unix_timestamp());
            }
            if let Some(id) = verified.delivery_id() {
                let _ = writeln!(out, "delivery id: {}", one_line(id));
            }
            if let Some(key) = DedupConfig::new().key_for(&verified, &req) {
                let _ = writeln!(out, "dedup key: {}", one_line(key.as_str()));
            }
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(out, "{}: {e}", paint("rejected", Paint::Bad, color));
            let _ = writeln!(out, "status: {}", e.status());
            if args.explain {
                out.push_str(
                    &explain::Explain::new(&verifier, &req, args.secrets.len(), &e).to_text(),
                );
            }
            EXIT_REJECTED
        }
    };
    print_out(&out);
    Ok(code)
}

/// `text` with line breaks replaced by spaces and every other control character
/// (escape sequences, vertical tab, C1 controls) escaped as `\u{..}`, so that one
/// value stays on one output line and cannot drive the terminal.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

/// `hookwarden sign`.
fn run_sign(args: &SignArgs, json: bool) -> Result<u8, UsageError> {
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
    // Checked before reading the body, which may wait on standard input.
    scheme
        .signing_key_bytes(&secret)
        .map_err(|e| UsageError::new(format!("--secret (value not shown): {}", e.message())))?;
    if scheme.signs_url() && args.url.is_none() {
        return Err(UsageError::new(format!(
            "scheme {} signs the request URL: give the URL with --url",
            scheme.name()
        )));
    }
    let timestamp = args.timestamp.unwrap_or_else(|| SystemClock.now_unix());
    if !is_signable_timestamp(timestamp) {
        return Err(UsageError::new(format!(
            "--timestamp {timestamp}: expected UNIX seconds that verify reads back (0 or more, at most 18 digits)"
        )));
    }
    let body = read_body(args.body.as_ref())?;
    let input = SignInput {
        body: &body,
        timestamp,
        id: args.id.as_deref(),
        url: args.url.as_deref(),
    };
    let headers = sign(&*scheme, &secret, &input)
        .map_err(|e| UsageError::new(format!("cannot sign: {}", e.message())))?;
    check_signed(&*scheme, &headers, input.body, timestamp)?;
    if json {
        let map: serde_json::Map<String, serde_json::Value> = headers
            .into_iter()
            .map(|(name, value)| (name, value.into()))
            .collect();
        print_out(&format!(
            "{}\n",
            json!({ "event": "signed", "headers": map })
        ));
        return Ok(EXIT_OK);
    }
    let mut out = String::new();
    for (name, value) in headers {
        let _ = writeln!(out, "{name}: {value}");
    }
    print_out(&out);
    Ok(EXIT_OK)
}
