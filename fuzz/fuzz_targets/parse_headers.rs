//! Every scheme's header parser over arbitrary header values, and the shared parsers
//! (`json_top_level`, `unix_seconds`, `pairs`) over arbitrary bytes: no panic, and
//! what they return is consistent.
#![no_main]

use arbitrary::Arbitrary;
use hookwarden_core::parse::{JsonValue, json_top_level, pairs, unix_seconds};
use hookwarden_core::{MAX_SIGNATURES, MAX_TAG_LEN};
use hookwarden_fuzz::{HEADER_NAMES, scheme, scheme_names};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Name {
    Known(u8),
    Other(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    scheme: u8,
    headers: Vec<(Name, Vec<u8>)>,
    bytes: Vec<u8>,
    field: String,
    separator: u8,
}

fuzz_target!(|input: Input| {
    let names = scheme_names();
    let name = names[usize::from(input.scheme) % names.len()];
    let Some(scheme) = scheme(name) else {
        panic!("scheme {name} does not build");
    };
    let headers: Vec<(String, Vec<u8>)> = input
        .headers
        .into_iter()
        .map(|(n, v)| {
            let n = match n {
                Name::Known(i) => HEADER_NAMES[usize::from(i) % HEADER_NAMES.len()].to_owned(),
                Name::Other(s) => s,
            };
            (n, v)
        })
        .collect();
    match scheme.parse(&headers) {
        Ok(parsed) => {
            assert!(parsed.signatures.len() <= MAX_SIGNATURES);
            for tag in parsed.signatures.as_slice() {
                assert!(tag.as_bytes().len() <= MAX_TAG_LEN);
            }
        }
        Err(e) => {
            // Header problems are client errors.
            assert_eq!(e.status(), 400, "{name}: {e:?}");
            let _ = e.to_string();
        }
    }

    let bytes = &input.bytes;
    match unix_seconds(bytes) {
        Some(n) => {
            assert!(!bytes.is_empty() && bytes.len() <= 18 && bytes.iter().all(u8::is_ascii_digit));
            assert_eq!(
                std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok()),
                Some(n)
            );
        }
        None => {
            assert!(bytes.is_empty() || bytes.len() > 18 || !bytes.iter().all(u8::is_ascii_digit))
        }
    }

    let mut count = 0usize;
    for (k, v) in pairs(bytes, input.separator) {
        assert!(!k.contains(&b'=') && k.len() + v.len() <= bytes.len());
        count += 1;
    }
    assert_eq!(count, bytes.split(|&b| b == input.separator).count());

    // Whether the field's key is written once and plainly (no escapes): then the scan
    // and serde_json must agree, both ways.
    let quoted = format!("\"{}\"", input.field);
    let plain = !bytes.contains(&b'\\')
        && bytes
            .windows(quoted.len())
            .filter(|w| *w == quoted.as_bytes())
            .count()
            == 1;
    // A field serde_json finds at the top level of a valid object is found by the scan.
    if plain
        && let Ok(serde_json::Value::Object(map)) =
            serde_json::from_slice::<serde_json::Value>(bytes)
        && map.contains_key(&input.field)
    {
        assert!(
            json_top_level(bytes, &input.field).is_some(),
            "serde_json finds {:?} at the top level, the scan does not",
            input.field
        );
    }

    if let Some(value) = json_top_level(bytes, &input.field) {
        // Found only in a body that starts as a JSON object.
        assert_eq!(bytes.trim_ascii_start().first(), Some(&b'{'));
        if let JsonValue::Str(s) = &value {
            assert!(s.len() <= bytes.len());
        }
        // A complete, valid JSON object has the field with the same value (checked
        // when the key is written once and plainly: serde_json keeps the last of
        // duplicate keys, the scan the first).
        if let (true, Ok(serde_json::Value::Object(map))) =
            (plain, serde_json::from_slice::<serde_json::Value>(bytes))
        {
            let v = map.get(&input.field);
            match (&value, v) {
                (JsonValue::Str(s), Some(serde_json::Value::String(t))) => assert_eq!(s, t),
                (JsonValue::Int(n), Some(serde_json::Value::Number(m))) => {
                    assert_eq!(Some(*n), m.as_i64());
                }
                (JsonValue::Other, Some(_)) => {}
                (found, Some(v)) => panic!("scan found {found:?}, serde_json {v:?}"),
                (_, None) => panic!("field found by the scan but not by serde_json"),
            }
        }
    }
});
