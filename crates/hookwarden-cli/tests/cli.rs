//! End-to-end tests of the `hookwarden` binary: `sign` then `verify` round trips for
//! every scheme in `schemes::NAMES`, rejections (exit 1), usage and configuration
//! errors (exit 2), secret rotation, URL-signing schemes, a published vector, and that
//! no output ever shows a secret.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hookwarden_core::{Algorithm, Scheme, Secret, schemes};

/// The signing time used throughout.
const NOW: i64 = 1_700_000_000;

/// A JSON body that satisfies every scheme reading something from the body (Linear's
/// `webhookTimestamp` in milliseconds, Stripe's `id`, Paddle's and Slack's `event_id`).
const BODY: &str = r#"{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","event_id":"ev_01","webhookTimestamp":1700000000000,"type":"test","data":{"text":"héllo"}}"#;

/// Secrets tried in order for each scheme; the first two the scheme accepts are the
/// right and the wrong one.
const CANDIDATE_SECRETS: &[&str] = &[
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "whsec_b2xkIHNlY3JldCBiZWluZyByb3RhdGVk",
    "hookwarden-test-secret-1",
    "hookwarden-test-secret-2",
];

/// What one run of the binary did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Everything it printed.
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The value of the first `key: value` line of standard output.
    fn field(&self, key: &str) -> Option<&str> {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(": "))
    }
}

/// Run `hookwarden args...` with `stdin` as standard input.
fn run(args: &[&str], stdin: &[u8]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_hookwarden"))
        .args(args)
        .write_stdin(stdin.to_vec())
        .output()
        .unwrap();
    Run {
        code: out.status.code().expect("exited, not killed by a signal"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A fresh file holding `contents`, under the test target's temporary directory.
fn temp_file(contents: &[u8]) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "hookwarden-cli-{}-{}.body",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::write(&path, contents).unwrap();
    path
}

/// `sign` a delivery; returns the header lines (`Name: value`).
fn sign(scheme: &str, secret: &str, extra: &[&str], body: &[u8]) -> Vec<String> {
    let ts = NOW.to_string();
    let mut args = vec![
        "sign",
        "--scheme",
        scheme,
        "--secret",
        secret,
        "--timestamp",
        &ts,
    ];
    args.extend_from_slice(extra);
    let r = run(&args, body);
    assert_eq!(r.code, 0, "sign {scheme}: {r:?}");
    assert!(r.stderr.is_empty(), "sign {scheme}: {r:?}");
    let lines: Vec<String> = r.stdout.lines().map(str::to_owned).collect();
    assert!(!lines.is_empty(), "sign {scheme} printed no header");
    for line in &lines {
        let (name, _) = line.split_once(": ").expect("`Name: value`");
        assert!(!name.is_empty() && !name.contains(' '), "{line}");
    }
    lines
}

/// `verify` arguments: the scheme, each secret, each header, then `extra`.
fn verify_args<'a>(
    scheme: &'a str,
    secrets: &[&'a str],
    headers: &'a [String],
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec!["verify", "--scheme", scheme];
    for s in secrets {
        args.extend(["--secret", s]);
    }
    for h in headers {
        args.extend(["-H", h.as_str()]);
    }
    args.extend_from_slice(extra);
    args
}

/// The scheme `name` by the core's own lookup.
fn scheme(name: &str) -> std::sync::Arc<dyn Scheme> {
    schemes::by_name(name).expect("a name from NAMES")
}

/// Whether `scheme` takes `secret` both to sign and to verify.
fn accepts(scheme: &dyn Scheme, secret: &str) -> bool {
    let s = Secret::new(secret);
    scheme.key_bytes(&s).is_ok() && scheme.signing_key_bytes(&s).is_ok()
}

/// The schemes in NAMES that need neither a URL nor a key pair, with a right and a
/// wrong secret each.
fn plain_schemes() -> Vec<(&'static str, &'static str, &'static str)> {
    let mut found = Vec::new();
    for &name in schemes::NAMES {
        let s = scheme(name);
        if s.signs_url() || s.algorithm() == Algorithm::Ed25519 {
            continue;
        }
        let mut ok = CANDIDATE_SECRETS
            .iter()
            .copied()
            .filter(|c| accepts(&*s, c));
        match (ok.next(), ok.next()) {
            (Some(right), Some(wrong)) => found.push((name, right, wrong)),
            _ => panic!("no candidate secret fits scheme {name}: add one to CANDIDATE_SECRETS"),
        }
    }
    assert!(found.len() >= 5, "{found:?}");
    found
}

/// Assert that `r` is a verification of `scheme` by secret `index`.
fn assert_verified(r: &Run, scheme: &str, index: usize) {
    assert_eq!(r.code, 0, "{scheme}: {r:?}");
    assert!(r.stdout.starts_with("verified\n"), "{scheme}: {r:?}");
    assert_eq!(r.field("scheme"), Some(scheme), "{r:?}");
    assert_eq!(r.field("secret index"), Some(index.to_string().as_str()));
    assert!(
        r.field("dedup key")
            .is_some_and(|k| k.starts_with(&format!("{scheme}:"))),
        "{scheme}: {r:?}"
    );
    assert!(r.stderr.is_empty(), "{r:?}");
}

/// Assert that `r` is a rejection whose reason starts with `kind`.
fn assert_rejected(r: &Run, kind: &str, status: &str) {
    assert_eq!(r.code, 1, "{r:?}");
    let reason = r.field("rejected").unwrap_or_else(|| panic!("{r:?}"));
    assert!(reason.starts_with(kind), "expected {kind}: {r:?}");
    assert_eq!(r.field("status"), Some(status), "{r:?}");
}

/// Assert a usage or configuration error: exit 2, one line on stderr containing
/// `needle`, nothing on stdout.
fn assert_usage(r: &Run, needle: &str) {
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
    assert!(r.stderr.contains(needle), "expected {needle:?}: {r:?}");
    assert!(!r.stderr.contains("panicked"), "{r:?}");
}

fn assert_no_secret(r: &Run, secrets: &[&str]) {
    for s in secrets {
        assert!(!r.all().contains(s), "output shows a secret: {r:?}");
    }
}

#[test]
fn every_plain_scheme_round_trips_through_file_and_stdin() {
    let body = BODY.as_bytes();
    let file = temp_file(body);
    let file = file.to_str().unwrap();
    // Two seconds late: within every scheme's tolerance (Paddle allows 5 s).
    let now = (NOW + 2).to_string();
    for (name, secret, wrong) in plain_schemes() {
        let token = scheme(name).algorithm() == Algorithm::Token;
        // Body from a file and from stdin give the same signature.
        let headers = sign(name, secret, &[file], b"");
        assert_eq!(sign(name, secret, &[], body), headers, "{name}");
        assert_eq!(sign(name, secret, &["-"], body), headers, "{name}");
        if !token {
            // A token scheme sends its secret as the header: that is the scheme.
            for h in &headers {
                assert!(!h.contains(secret), "{name}: {h}");
            }
        }

        for extra in [&[file][..], &["-"][..], &[][..]] {
            let mut args = verify_args(name, &[secret], &headers, &["--now", &now]);
            args.extend_from_slice(extra);
            let r = run(&args, if extra == [file] { b"" } else { body });
            assert_verified(&r, name, 0);
            assert_no_secret(&r, &[secret, wrong]);
        }

        // Rotation: the second secret matches.
        let r = run(
            &verify_args(name, &[wrong, secret], &headers, &["--now", &now]),
            body,
        );
        assert_verified(&r, name, 1);
        assert_no_secret(&r, &[secret, wrong]);

        // Wrong secret.
        let r = run(
            &verify_args(name, &[wrong], &headers, &["--now", &now]),
            body,
        );
        assert_rejected(&r, "signature_mismatch", "401");
        assert_no_secret(&r, &[secret, wrong]);

        // Tampered body (a token scheme does not sign the body).
        if !token {
            let tampered = format!("{BODY} ");
            let r = run(
                &verify_args(name, &[secret], &headers, &["--now", &now]),
                tampered.as_bytes(),
            );
            assert_rejected(&r, "signature_mismatch", "401");
            assert_no_secret(&r, &[secret, wrong]);
        }

        // Stale: verified a day later.
        if scheme(name).default_tolerance().is_some() {
            let later = (NOW + 86_400).to_string();
            let r = run(
                &verify_args(name, &[secret], &headers, &["--now", &later]),
                body,
            );
            assert_rejected(&r, "timestamp_too_old", "401");
            assert_no_secret(&r, &[secret, wrong]);
            // A wide enough --tolerance accepts it.
            let r = run(
                &verify_args(
                    name,
                    &[secret],
                    &headers,
                    &["--now", &later, "--tolerance", "90000"],
                ),
                body,
            );
            assert_verified(&r, name, 0);
        }
    }
}

#[test]
fn verified_output_is_stable() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let headers = sign("standard", secret, &["--id", "msg_1"], b"{}");
    assert_eq!(headers.len(), 3, "{headers:?}");
    assert_eq!(headers[0], "webhook-id: msg_1");
    assert_eq!(headers[1], "webhook-timestamp: 1700000000");
    assert!(
        headers[2].starts_with("webhook-signature: v1,"),
        "{headers:?}"
    );
    let r = run(
        &verify_args("standard", &[secret], &headers, &["--now", "1700000000"]),
        b"{}",
    );
    assert_eq!(
        r.stdout,
        "verified\n\
         scheme: standard\n\
         secret index: 0\n\
         timestamp: 2023-11-14T22:13:20Z\n\
         timestamp unix: 1700000000\n\
         delivery id: msg_1\n\
         dedup key: standard:msg_1\n"
    );
    assert_eq!(r.code, 0);

    let r = run(
        &verify_args("standard", &[secret], &headers, &["--now", "1700000000"]),
        b"{} ",
    );
    assert_eq!(
        r.stdout,
        "rejected: signature_mismatch: no signature matches any configured secret\n\
         status: 401\n"
    );
    assert_eq!(r.code, 1);
}

#[test]
fn github_published_vector() {
    let secret = "It's a Secret to Everybody";
    let args = [
        "verify",
        "--scheme",
        "github",
        "--secret",
        secret,
        "-H",
        "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    ];
    let r = run(&args, b"Hello, World!");
    assert_verified(&r, "github", 0);
    // No timestamp, no delivery id: the dedup key digests the signature.
    assert_eq!(r.field("timestamp"), None);
    assert_eq!(r.field("delivery id"), None);
    assert!(r.field("dedup key").unwrap().starts_with("github:sig:"));
    assert_no_secret(&r, &[secret]);

    let file = temp_file(b"Hello, World!");
    let mut with_file = args.to_vec();
    with_file.push(file.to_str().unwrap());
    assert_verified(&run(&with_file, b""), "github", 0);

    let r = run(&args, b"Hello, World?");
    assert_rejected(&r, "signature_mismatch", "401");
    assert_no_secret(&r, &[secret]);

    // sign reproduces the published signature.
    let headers = sign("github", secret, &[], b"Hello, World!");
    assert!(headers.contains(
        &"X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
            .to_owned()
    ));
}

#[test]
fn bodies_need_not_be_utf8() {
    let body = [0xff_u8, 0x00, 0xfe, b'\n', 0x80];
    let file = temp_file(&body);
    let headers = sign("github", "s3cret", &[file.to_str().unwrap()], b"");
    assert_verified(
        &run(&verify_args("github", &["s3cret"], &headers, &[]), &body),
        "github",
        0,
    );
}

#[test]
fn header_names_are_case_insensitive_and_values_trimmed() {
    let headers: Vec<String> = sign("github", "s3cret", &[], b"x")
        .into_iter()
        .map(|h| {
            let (n, v) = h.split_once(": ").unwrap();
            format!("  {}  :   {v}  ", n.to_ascii_uppercase())
        })
        .collect();
    assert_verified(
        &run(&verify_args("github", &["s3cret"], &headers, &[]), b"x"),
        "github",
        0,
    );
}

#[test]
fn ed25519_schemes_round_trip_with_a_key_pair() {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let public = key.verifying_key().to_bytes();
    let other = ed25519_dalek::SigningKey::from_bytes(&[8; 32])
        .verifying_key()
        .to_bytes();
    let now = NOW.to_string();
    let mut pairs = vec![(
        "standard",
        format!("whsk_{}", B64.encode([7; 32])),
        format!("whpk_{}", B64.encode(public)),
        format!("whpk_{}", B64.encode(other)),
    )];
    if schemes::NAMES.contains(&"discord") {
        pairs.push(("discord", hex(&[7; 32]), hex(&public), hex(&other)));
    }
    for (name, private, public, other) in &pairs {
        let headers = sign(name, private, &[], BODY.as_bytes());
        for h in &headers {
            assert!(!h.contains(private.as_str()), "{h}");
        }
        let r = run(
            &verify_args(name, &[public], &headers, &["--now", &now]),
            BODY.as_bytes(),
        );
        assert_verified(&r, name, 0);
        let r = run(
            &verify_args(name, &[other, public], &headers, &["--now", &now]),
            BODY.as_bytes(),
        );
        assert_verified(&r, name, 1);
        let r = run(
            &verify_args(name, &[other], &headers, &["--now", &now]),
            BODY.as_bytes(),
        );
        assert_rejected(&r, "signature_mismatch", "401");
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn url_signing_schemes_need_and_check_the_url() {
    let body = b"CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212";
    let url = "https://example.com/hooks/incoming?source=test";
    let mut tested = 0;
    for &name in schemes::NAMES {
        let s = scheme(name);
        if !s.signs_url() || s.algorithm() == Algorithm::Ed25519 {
            continue;
        }
        let secret = CANDIDATE_SECRETS
            .iter()
            .copied()
            .find(|c| accepts(&*s, c))
            .unwrap();
        // sign without --url: usage error.
        let r = run(
            &["sign", "--scheme", name, "--secret", secret],
            body.as_slice(),
        );
        assert_usage(&r, "--url");
        let headers = sign(name, secret, &["--url", url], body);
        let r = run(
            &verify_args(name, &[secret], &headers, &["--url", url]),
            body,
        );
        assert_verified(&r, name, 0);
        assert_no_secret(&r, &[secret]);
        // Another URL: rejected.
        let r = run(
            &verify_args(
                name,
                &[secret],
                &headers,
                &["--url", "https://example.com/hooks/other"],
            ),
            body,
        );
        assert_rejected(&r, "signature_mismatch", "401");
        // No URL: usage error, not a rejection.
        let r = run(&verify_args(name, &[secret], &headers, &[]), body);
        assert_usage(&r, "--url");
        tested += 1;
    }
    // Twilio and Square sign the URL; the test runs once they are registered.
    if schemes::by_name("twilio").is_some() || schemes::by_name("square").is_some() {
        assert!(tested > 0);
    }
}

#[test]
fn unknown_scheme_lists_the_known_ones() {
    for args in [
        &["verify", "--scheme", "nope", "--secret", "s"][..],
        &["sign", "--scheme", "nope", "--secret", "s"][..],
    ] {
        let r = run(args, b"");
        assert_usage(&r, "unknown scheme `nope`");
        for name in schemes::NAMES {
            assert!(r.stderr.contains(name), "{name} not listed: {r:?}");
        }
        assert_eq!(r.stderr.lines().count(), 1, "{r:?}");
    }
}

#[test]
fn sign_refuses_timestamps_verify_cannot_read_back() {
    for bad in ["-1", "9223372036854775807", "1000000000000000000"] {
        let r = run(
            &[
                "sign",
                "--scheme",
                "standard",
                "--secret",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                &format!("--timestamp={bad}"),
                "-",
            ],
            b"{}",
        );
        assert_usage(&r, "--timestamp");
    }
}

#[test]
fn sign_refuses_a_twitch_timestamp_past_year_9999() {
    // Twitch's header is RFC 3339: 253402300800 (year 10000) was printed as digits,
    // exit 0, and `verify` refused it as malformed.
    let sign_at = |timestamp: &str| {
        run(
            &[
                "sign",
                "--scheme",
                "twitch",
                "--secret",
                "s",
                "--timestamp",
                timestamp,
                "-",
            ],
            b"{}",
        )
    };
    assert_usage(&sign_at("253402300800"), "--timestamp");
    let ok = sign_at("253402300799");
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(ok.stdout.contains(": 9999-12-31T23:59:59Z\n"), "{ok:?}");
}

#[test]
fn sign_refuses_header_values_with_line_breaks_without_showing_them() {
    // `--id` with a line break printed an extra, forged header line; GitLab's token is
    // the secret itself.
    for (scheme, secret, extra) in [
        (
            "standard",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            &["--id", "evil\nX-Forged: 1"][..],
        ),
        ("gitlab", "TOP\nSECRET", &[][..]),
    ] {
        let mut args = vec!["sign", "--scheme", scheme, "--secret", secret];
        args.extend_from_slice(extra);
        args.push("-");
        let r = run(&args, b"{}");
        assert_usage(&r, "line break");
        assert!(
            !r.all().contains("Forged") && !r.all().contains("SECRET"),
            "{r:?}"
        );
        assert_eq!(r.stderr.lines().count(), 1, "{r:?}");
    }
}

#[test]
fn malformed_headers_are_usage_errors() {
    for bad in ["NoColon", ": value", "bad name: value", "\u{e9}t\u{e9}: x"] {
        let r = run(
            &[
                "verify", "--scheme", "github", "--secret", "s3cret", "-H", bad,
            ],
            b"",
        );
        assert_usage(&r, "malformed -H");
        assert_no_secret(&r, &["s3cret"]);
    }
    // A missing signature header is the request's fault: a rejection.
    let r = run(
        &[
            "verify",
            "--scheme",
            "github",
            "--secret",
            "s3cret",
            "-H",
            "X-Other: 1",
        ],
        b"",
    );
    assert_rejected(&r, "missing_header (x-hub-signature-256)", "400");
}

#[test]
fn configuration_errors_exit_2_in_one_line_without_the_secret() {
    // No secret.
    let r = run(&["verify", "--scheme", "github"], b"");
    assert_usage(&r, "--secret");
    let r = run(&["sign", "--scheme", "github"], b"");
    assert_usage(&r, "--secret");

    // Bad `whsec_` base64, first or second secret.
    let bad = "whsec_not*base64!";
    let good = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let r = run(&["verify", "--scheme", "standard", "--secret", bad], b"");
    assert_usage(&r, "index 0");
    assert_no_secret(&r, &[bad]);
    let r = run(
        &[
            "verify", "--scheme", "standard", "--secret", good, "--secret", bad,
        ],
        b"",
    );
    assert_usage(&r, "index 1");
    assert_no_secret(&r, &[bad, good]);
    let r = run(&["sign", "--scheme", "standard", "--secret", bad], b"");
    assert_usage(&r, "base64");
    assert_no_secret(&r, &[bad]);

    // HMAC secrets and Ed25519 public keys do not mix.
    let pk = format!("whpk_{}", B64.encode([1; 32]));
    let r = run(
        &[
            "verify", "--scheme", "standard", "--secret", good, "--secret", &pk,
        ],
        b"",
    );
    assert_usage(&r, "not both");
    assert_no_secret(&r, &[good]);

    // Empty secret.
    let r = run(&["verify", "--scheme", "github", "--secret", ""], b"");
    assert_usage(&r, "empty");

    // Unreadable body file.
    let missing = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("does-not-exist.body");
    let missing = missing.to_str().unwrap();
    let r = run(
        &[
            "verify", "--scheme", "github", "--secret", "s3cret", missing,
        ],
        b"",
    );
    assert_usage(&r, "cannot read body file");
    assert_no_secret(&r, &["s3cret"]);
    let r = run(
        &["sign", "--scheme", "github", "--secret", "s3cret", missing],
        b"",
    );
    assert_usage(&r, "cannot read body file");
    // A directory is not readable as a body either.
    let r = run(
        &[
            "verify",
            "--scheme",
            "github",
            "--secret",
            "s3cret",
            env!("CARGO_TARGET_TMPDIR"),
        ],
        b"",
    );
    assert_usage(&r, "cannot read body file");

    for r in [
        run(&["verify", "--scheme", "github", "--secret", ""], b""),
        run(&["verify", "--scheme", "standard", "--secret", bad], b""),
    ] {
        assert_eq!(r.stderr.lines().count(), 1, "{r:?}");
        assert!(r.stderr.starts_with("hookwarden: error: "), "{r:?}");
    }

    // Bad numbers and unknown flags are usage errors too.
    for args in [
        &[
            "verify", "--scheme", "github", "--secret", "s", "--now", "soon",
        ][..],
        &[
            "verify",
            "--scheme",
            "github",
            "--secret",
            "s",
            "--tolerance",
            "-5",
        ][..],
        &[
            "sign",
            "--scheme",
            "github",
            "--secret",
            "s",
            "--timestamp",
            "x",
        ][..],
        &["verify", "--bogus"][..],
        &[][..],
    ] {
        let r = run(args, b"");
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(!r.all().contains("panicked"), "{r:?}");
    }
}

#[test]
fn secrets_starting_with_a_dash_are_accepted() {
    let headers = sign("github", "-dashing-secret", &[], b"x");
    let r = run(
        &verify_args("github", &["-dashing-secret"], &headers, &[]),
        b"x",
    );
    assert_verified(&r, "github", 0);
    assert_no_secret(&r, &["-dashing-secret"]);
}

#[test]
fn help_documents_exit_codes_output_and_schemes() {
    let r = run(&["verify", "--help"], b"");
    assert_eq!(r.code, 0, "{r:?}");
    for needle in ["secret index", "dedup key", "rejected", "0-based"] {
        assert!(r.stdout.contains(needle), "{needle}: {r:?}");
    }
    for name in schemes::NAMES {
        assert!(r.stdout.contains(name), "{name}");
    }
    let r = run(&["--version"], b"");
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn sign_refuses_a_linear_body_without_its_timestamp() {
    // Linear reads the time from the body's `webhookTimestamp`: a body without one was
    // signed (exit 0) and `verify` refused it as malformed, every time.
    let sign_linear = |body: &[u8]| {
        run(
            &[
                "sign",
                "--scheme",
                "linear",
                "--secret",
                "s",
                "--timestamp",
                "1700000000",
                "-",
            ],
            body,
        )
    };
    let r = sign_linear(br#"{"action":"create"}"#);
    assert_usage(&r, "reads the time from the body");
    let ok = sign_linear(br#"{"action":"create","webhookTimestamp":1700000000000}"#);
    assert_eq!(ok.code, 0, "{ok:?}");
}

#[test]
fn explain_never_shows_a_password_in_the_url() {
    let body = temp_file(b"{}");
    let body = body.to_str().unwrap();
    let url = "https://user:TOPSECRET@example.com/hooks";
    for json in [&[][..], &["--json"][..]] {
        let mut args = vec![
            "verify",
            "--scheme",
            "twilio",
            "--secret",
            "tok",
            "--url",
            url,
            "-H",
            "X-Twilio-Signature: AAAA",
            "--explain",
            body,
        ];
        args.extend_from_slice(json);
        let r = run(&args, b"");
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stdout.contains("user:***@example.com/hooks"), "{r:?}");
        assert!(!r.all().contains("TOPSECRET"), "{r:?}");
    }
}

#[test]
fn explain_shows_nothing_of_a_gitlab_token() {
    // GitLab's header holds the token itself: no part of it is reported as a
    // "signature version", even when it looks like one.
    let body = temp_file(b"{}");
    let body = body.to_str().unwrap();
    for json in [&[][..], &["--json"][..]] {
        let mut args = vec![
            "verify",
            "--scheme",
            "gitlab",
            "--secret",
            "the-configured-token",
            "-H",
            "X-Gitlab-Token: v12,sha256=h1=glpat-TOPSECRET",
            "--explain",
            body,
        ];
        args.extend_from_slice(json);
        let r = run(&args, b"");
        assert_eq!(r.code, 1, "{r:?}");
        for part in ["v12", "sha256", "h1", "TOPSECRET"] {
            assert!(!r.all().contains(part), "{part}: {r:?}");
        }
    }
}

#[test]
fn a_key_that_decodes_but_cannot_sign_is_a_usage_error() {
    // A `whsk_` of 16 bytes decodes (its format is right), and signing refuses it.
    let short = format!("whsk_{}", B64.encode([7; 16]));
    let r = run(
        &["sign", "--scheme", "standard", "--secret", &short, "-"],
        b"{}",
    );
    assert_usage(
        &r,
        "hookwarden: error: cannot sign: an Ed25519 private key must be 32 bytes",
    );
    assert_eq!(r.stderr.lines().count(), 1, "{r:?}");
    assert_no_secret(&r, &[&short[5..]]);
}
