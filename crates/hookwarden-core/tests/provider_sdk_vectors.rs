//! Signatures published in providers' official SDK test suites, verified as those
//! suites expect.

use hookwarden_core::schemes::{Paddle, Shopify, Square};
use hookwarden_core::{ManualClock, Verifier};

#[test]
fn paddle_python_sdk_several_h1_and_several_secrets() {
    // PaddleHQ/paddle-python-sdk, tests/Unit/Notification/test_Verifier.py.
    let v = Verifier::builder(Paddle::new())
        .secrets([
            "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_TjIG2BXbm83HPXqNfziwe506sBEdqL/4",
            "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_vB/yIOnTOCWIvpBadM5jzBZPHc7OmdSo",
            "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_WvRO0eL4Bj9rgYYIBZY6wZhG4EHy9jzh",
        ])
        .clock(ManualClock::new(1_696_195_954))
        .build()
        .unwrap();
    let headers = [(
        "Paddle-Signature",
        "ts=1696195954;h1=dummy;h1=d96299976a6eb066f484d7fde011ac56fc32b38fc9940bc419d6e537fdc6ef02",
    )];
    let ok = v.verify(&headers, b"hello-world", None).unwrap();
    assert_eq!(ok.key_index(), 2);
}

#[test]
fn paddle_node_sdk_vectors() {
    // PaddleHQ/paddle-node-sdk, src/__tests__/notifications/webhooks-validator.node.test.ts
    // (system time 2023-11-01T00:00:00Z = 1698796800).
    let v = |now| {
        Verifier::builder(Paddle::new())
            .secret("VALID_SECRET")
            .clock(ManualClock::new(now))
            .build()
            .unwrap()
    };
    let h = "ts=1698796800;h1=a300428748dce5c70e4da19bffd60769591ea969c99dea3105d0ec9612cf43f9";
    let body = br#"{"data": ["1", "2"]}"#;
    for (now, ok) in [
        (1_698_796_800, true),
        (1_698_796_801, true),
        (1_698_796_805, true),
        (1_698_796_806, false),
    ] {
        assert_eq!(
            v(now)
                .verify(&[("Paddle-Signature", h)], body, None)
                .is_ok(),
            ok,
            "{now}"
        );
    }
    let multi = "ts=1698796800;h1=28981e941fae76e53db32f3d2a83cb69db41476595e84e1970a1b5d98f62b261;h1=28981e941fae76e53db32f3d2a83cb69db41476595e84e1970a1b5d98f62b261;h2=RANDOM_HASH";
    v(1_698_796_800)
        .verify(
            &[("Paddle-Signature", multi)],
            br#"{"data": "value"}"#,
            None,
        )
        .unwrap();
    assert!(
        v(1_698_796_800)
            .verify(
                &[("Paddle-Signature", h)],
                br#"{ "data": [ "1", "2" ]}"#,
                None
            )
            .is_err()
    );
}

#[test]
fn square_node_sdk_vectors() {
    // square/square-nodejs-sdk, test/utilities/webhooksHelper.test.ts.
    let v = Verifier::builder(Square::new())
        .secret("signature-key")
        .clock(ManualClock::new(0))
        .build()
        .unwrap();
    for (body, sig) in [
        (
            r#"{"data":{"type":"webhooks","id":"fake_id"}}"#,
            "W3FlCNk5IA3ZQ2LHTWoajvzfaDu/OwY2tNHIHC3IUOA=",
        ),
        (
            r#"{"data":{"type":"webhooks","id":">id<"}}"#,
            "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=",
        ),
    ] {
        v.verify(
            &[("x-square-hmacsha256-signature", sig)],
            body.as_bytes(),
            Some("https://webhook.site/webhooks"),
        )
        .unwrap();
    }
}

#[test]
fn shopify_api_js_vector() {
    // Shopify/shopify-app-js, packages/apps/shopify-api/lib/webhooks/__tests__/validate.test.ts
    // (testConfig apiSecretKey `test_secret_key`).
    let v = Verifier::builder(Shopify::new())
        .secret("test_secret_key")
        .clock(ManualClock::new(0))
        .build()
        .unwrap();
    v.verify(
        &[(
            "X-Shopify-Hmac-Sha256",
            "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=",
        )],
        br#"{"foo": "bar"}"#,
        None,
    )
    .unwrap();
}
