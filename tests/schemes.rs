//! One table of behaviour, run for every built-in scheme in `schemes::NAMES`: sign →
//! verify, tampering, wrong secret, rotation, stale and future timestamps, missing
//! headers, header case, non-UTF-8 bodies. A scheme added to `NAMES` is covered here
//! without further change.

use hookwarden::{ErrorKind, ManualClock, Scheme, SignInput, Verifier, schemes, sign};

const NOW: i64 = 1_700_000_000;

/// How to sign and verify for one scheme: (signing secret, verifying secret) pairs
/// for "right" and "wrong", the URL if the scheme signs one, and the body.
struct Fixture {
    sign_secret: String,
    verify_secret: String,
    wrong_verify_secret: String,
    url: Option<&'static str>,
}

fn ed25519_pair(seed: u8) -> ([u8; 32], [u8; 32]) {
    let signing = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    (signing.to_bytes(), signing.verifying_key().to_bytes())
}

fn fixture(scheme: &dyn Scheme) -> Fixture {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let url = scheme
        .signs_url()
        .then_some("https://example.com/hooks/receive?x=1");
    let (sign_secret, verify_secret, wrong) = match scheme.name() {
        "standard" | "svix" if scheme.algorithm() == hookwarden::Algorithm::Ed25519 => {
            let (sk, pk) = ed25519_pair(7);
            let (_, wrong) = ed25519_pair(8);
            (
                format!("whsk_{}", b64(&sk)),
                format!("whpk_{}", b64(&pk)),
                format!("whpk_{}", b64(&wrong)),
            )
        }
        "standard" | "svix" => {
            let s = format!("whsec_{}", b64(b"a 24 byte secret value!!"));
            (
                s.clone(),
                s,
                format!("whsec_{}", b64(b"another secret entirely")),
            )
        }
        "discord" => {
            let (sk, pk) = ed25519_pair(9);
            let (_, wrong) = ed25519_pair(10);
            (hex::encode(sk), hex::encode(pk), hex::encode(wrong))
        }
        _ => (
            "whsec_test_secret_0123456789".into(),
            "whsec_test_secret_0123456789".into(),
            "whsec_another_secret".into(),
        ),
    };
    Fixture {
        sign_secret,
        verify_secret,
        wrong_verify_secret: wrong,
        url,
    }
}

fn body_at(scheme: &dyn Scheme, ts: i64) -> Vec<u8> {
    if scheme.name() == "linear" {
        format!(
            r#"{{"action":"create","type":"Issue","webhookTimestamp":{}}}"#,
            ts * 1000
        )
        .into_bytes()
    } else if scheme.name() == "twilio" {
        // A form, as Twilio sends (its JSON deliveries carry `bodySHA256` in the URL).
        b"AccountSid=AC1&Body=hello&From=%2B15551234567&To=%2B15557654321".to_vec()
    } else {
        br#"{"id":"evt_1","event_id":"evt_1","type":"invoice.paid","data":{"n":1}}"#.to_vec()
    }
}

fn all() -> Vec<std::sync::Arc<dyn Scheme>> {
    let mut out: Vec<_> = schemes::NAMES
        .iter()
        .map(|n| schemes::by_name(n).unwrap_or_else(|| panic!("{n} listed but unknown")))
        .collect();
    if let Some(ed) = schemes::by_name("standard-ed25519") {
        out.push(ed);
    }
    out
}

fn signed(scheme: &dyn Scheme, fx: &Fixture, body: &[u8], ts: i64) -> Vec<(String, String)> {
    let input = SignInput {
        body,
        timestamp: ts,
        id: Some("msg_0001"),
        url: fx.url,
    };
    sign(scheme, &fx.sign_secret.as_str().into(), &input)
        .unwrap_or_else(|e| panic!("{}: sign: {e}", scheme.name()))
}

fn verifier(scheme: &std::sync::Arc<dyn Scheme>, secrets: &[&str]) -> Verifier {
    Verifier::builder_arc(scheme.clone())
        .secrets(secrets.iter().copied())
        .clock(ManualClock::new(NOW))
        .build()
        .unwrap_or_else(|e| panic!("{}: build: {e}", scheme.name()))
}

#[test]
fn every_scheme_round_trips_and_rejects_tampering() {
    for scheme in all() {
        let name = scheme.name();
        let fx = fixture(&*scheme);
        let body = body_at(&*scheme, NOW);
        let headers = signed(&*scheme, &fx, &body, NOW);
        let v = verifier(&scheme, &[&fx.verify_secret]);

        let ok = v
            .verify(&headers, &body, fx.url)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ok.scheme(), name);
        assert_eq!(ok.key_index(), 0);

        // A token scheme (GitLab) signs nothing: the body is not authenticated.
        let signs_body = scheme.algorithm() != hookwarden::Algorithm::Token;
        for i in [0, body.len() / 2, body.len() - 1]
            .into_iter()
            .filter(|_| signs_body)
        {
            let mut tampered = body.clone();
            tampered[i] ^= 0x01;
            let err = v.verify(&headers, &tampered, fx.url).expect_err(name);
            // Linear reads its timestamp from the body: a flipped digit may move it.
            assert!(
                err.kind() == ErrorKind::SignatureMismatch
                    || (name == "linear" && err.status() >= 400),
                "{name}: byte {i}: {err}"
            );
        }

        let wrong = verifier(&scheme, &[&fx.wrong_verify_secret]);
        let err = wrong.verify(&headers, &body, fx.url).expect_err(name);
        assert_eq!(err.kind(), ErrorKind::SignatureMismatch, "{name}");
        assert_eq!(err.status(), 401);
    }
}

#[test]
fn every_scheme_accepts_any_configured_secret_during_rotation() {
    for scheme in all() {
        let fx = fixture(&*scheme);
        let body = body_at(&*scheme, NOW);
        let headers = signed(&*scheme, &fx, &body, NOW);
        let v = verifier(&scheme, &[&fx.wrong_verify_secret, &fx.verify_secret]);
        let ok = v
            .verify(&headers, &body, fx.url)
            .unwrap_or_else(|e| panic!("{}: {e}", scheme.name()));
        assert_eq!(ok.key_index(), 1, "{}", scheme.name());
    }
}

#[test]
fn every_scheme_verifies_non_utf8_bodies() {
    for scheme in all() {
        if scheme.name() == "linear" {
            continue; // Linear's timestamp lives in its JSON body.
        }
        let fx = fixture(&*scheme);
        let body = [0xff, 0xfe, 0x00, 0x80, b'{', 0xc3];
        let headers = signed(&*scheme, &fx, &body, NOW);
        let v = verifier(&scheme, &[&fx.verify_secret]);
        v.verify(&headers, &body, fx.url)
            .unwrap_or_else(|e| panic!("{}: {e}", scheme.name()));
    }
}

#[test]
fn every_scheme_reads_header_names_in_any_case() {
    for scheme in all() {
        let fx = fixture(&*scheme);
        let body = body_at(&*scheme, NOW);
        let headers = signed(&*scheme, &fx, &body, NOW);
        let v = verifier(&scheme, &[&fx.verify_secret]);
        for case in [str::to_ascii_uppercase, str::to_ascii_lowercase] {
            let changed: Vec<(String, String)> = headers
                .iter()
                .map(|(k, val)| (case(k), val.clone()))
                .collect();
            v.verify(&changed, &body, fx.url)
                .unwrap_or_else(|e| panic!("{}: {e}", scheme.name()));
        }
    }
}

#[test]
fn every_required_header_is_checked_before_the_body() {
    for scheme in all() {
        let fx = fixture(&*scheme);
        let body = body_at(&*scheme, NOW);
        let headers = signed(&*scheme, &fx, &body, NOW);
        let v = verifier(&scheme, &[&fx.verify_secret]);
        v.precheck(&headers)
            .unwrap_or_else(|e| panic!("{}: {e}", scheme.name()));
        for required in scheme.required_headers() {
            let without: Vec<_> = headers
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case(required.as_str()))
                .cloned()
                .collect();
            for err in [
                v.precheck(&without).expect_err("precheck"),
                v.verify(&without, &body, fx.url).expect_err("verify"),
            ] {
                assert_eq!(
                    err.kind(),
                    ErrorKind::MissingHeader,
                    "{}: {required}",
                    scheme.name()
                );
                assert_eq!(err.header(), Some(required.as_str()), "{}", scheme.name());
                assert_eq!(err.status(), 400);
            }
        }
        let err = v
            .verify(&Vec::<(String, String)>::new(), &body, fx.url)
            .expect_err("no headers");
        assert!(
            matches!(err.kind(), ErrorKind::MissingHeader),
            "{}: no headers gives {err}",
            scheme.name()
        );
    }
}

#[test]
fn every_timestamped_scheme_refuses_stale_and_future_deliveries() {
    for scheme in all() {
        let Some(tolerance) = scheme.default_tolerance() else {
            continue;
        };
        let fx = fixture(&*scheme);
        let v = verifier(&scheme, &[&fx.verify_secret]);
        let past = tolerance.past().whole_seconds();
        let future = tolerance.future().whole_seconds();

        let at_edge = NOW - past;
        let body = body_at(&*scheme, at_edge);
        let headers = signed(&*scheme, &fx, &body, at_edge);
        v.verify(&headers, &body, fx.url)
            .unwrap_or_else(|e| panic!("{}: edge: {e}", scheme.name()));

        let stale = NOW - past - 1;
        let body = body_at(&*scheme, stale);
        let headers = signed(&*scheme, &fx, &body, stale);
        let err = v.verify(&headers, &body, fx.url).expect_err("stale");
        assert_eq!(err.kind(), ErrorKind::TimestampTooOld, "{}", scheme.name());
        assert_eq!(
            err.skew().map(|s| s.whole_seconds()),
            Some(-past - 1),
            "{}",
            scheme.name()
        );
        assert_eq!(err.status(), 401);

        let ahead = NOW + future + 1;
        let body = body_at(&*scheme, ahead);
        let headers = signed(&*scheme, &fx, &body, ahead);
        let err = v.verify(&headers, &body, fx.url).expect_err("future");
        assert_eq!(err.kind(), ErrorKind::TimestampTooNew, "{}", scheme.name());
        assert_eq!(
            err.skew().map(|s| s.whole_seconds()),
            Some(future + 1),
            "{}",
            scheme.name()
        );
    }
}

#[test]
fn errors_and_debug_never_show_the_secret() {
    for scheme in all() {
        let fx = fixture(&*scheme);
        let body = body_at(&*scheme, NOW);
        let headers = signed(&*scheme, &fx, &body, NOW);
        let v = verifier(&scheme, &[&fx.wrong_verify_secret]);
        let err = v.verify(&headers, &body, fx.url).expect_err("wrong secret");
        let shown = format!("{err} {err:?} {v:?}");
        for (_, value) in &headers {
            // The received signature's encoded form is not echoed either.
            assert!(
                !shown.contains(value.as_str()) || value.len() < 12,
                "{}: {shown}",
                scheme.name()
            );
        }
        assert!(
            !shown.contains(&fx.wrong_verify_secret),
            "{}: {shown}",
            scheme.name()
        );
    }
}

#[test]
fn a_bad_secret_is_a_config_error_naming_its_position_not_its_value() {
    let scheme = schemes::by_name("standard").expect("standard");
    let err = Verifier::builder_arc(scheme.clone())
        .secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
        .secret("whsec_not base64 at all!")
        .build()
        .expect_err("invalid base64");
    assert!(err.message().contains("secret at index 1"), "{err}");
    assert!(!err.message().contains("not base64 at all"), "{err}");
    let err = Verifier::builder_arc(scheme)
        .build()
        .expect_err("no secret");
    assert!(err.message().contains("at least one secret"), "{err}");
}
