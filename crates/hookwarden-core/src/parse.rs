//! Small parsers shared by the schemes (and available to custom ones): unix
//! timestamps, `key=value` lists, and a top-level JSON field scan over a raw body.

use std::borrow::Cow;

/// Parse a unix timestamp in decimal seconds (ASCII digits only, at most 18 digits;
/// no sign, no spaces).
///
/// ```
/// use hookwarden_core::parse::unix_seconds;
/// assert_eq!(unix_seconds(b"1700000000"), Some(1_700_000_000));
/// assert_eq!(unix_seconds(b"17e8"), None);
/// assert_eq!(unix_seconds(b""), None);
/// ```
#[must_use]
pub fn unix_seconds(raw: &[u8]) -> Option<i64> {
    if raw.is_empty() || raw.len() > 18 {
        return None;
    }
    raw.iter().try_fold(0i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// Split `raw` on `separator` into `(key, value)` pairs at the first `=` of each item,
/// trimming ASCII spaces around items. Items without `=` yield an empty key.
///
/// ```
/// use hookwarden_core::parse::pairs;
/// let v: Vec<_> = pairs(b"t=1, v1=ab,v0=cd", b',').collect();
/// assert_eq!(v, [(&b"t"[..], &b"1"[..]), (&b"v1"[..], &b"ab"[..]), (&b"v0"[..], &b"cd"[..])]);
/// ```
pub fn pairs(raw: &[u8], separator: u8) -> impl Iterator<Item = (&[u8], &[u8])> {
    split(raw, separator).map(|item| {
        let item = item.trim_ascii();
        // The key is a few bytes: a plain scan beats `memchr`'s set-up.
        match item.iter().position(|&b| b == b'=') {
            Some(eq) => (&item[..eq], &item[eq + 1..]),
            None => (&b""[..], item),
        }
    })
}

/// `raw.split(|&b| b == separator)`, with `memchr` finding the separators (a
/// signature header is mostly one long run of hex or base64 without them).
///
/// ```
/// use hookwarden_core::parse::split;
/// let v: Vec<_> = split(b"a b  c", b' ').collect();
/// assert_eq!(v, [&b"a"[..], b"b", b"", b"c"]);
/// assert_eq!(split(b"", b' ').count(), 1);
/// ```
pub fn split(raw: &[u8], separator: u8) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(raw);
    std::iter::from_fn(move || {
        let r = rest?;
        if let Some(i) = memchr::memchr(separator, r) {
            rest = Some(&r[i + 1..]);
            Some(&r[..i])
        } else {
            rest = None;
            Some(r)
        }
    })
}

/// A value found by [`json_top_level`].
///
/// More kinds of value may be told apart later (`#[non_exhaustive]`): a `match` needs
/// a `_` arm.
///
/// ```compile_fail,E0004
/// use hookwarden_core::parse::JsonValue;
/// fn kind(value: &JsonValue<'_>) -> &'static str {
///     match value {
///         JsonValue::Str(_) => "string",
///         JsonValue::Int(_) => "integer",
///         JsonValue::Other => "other",
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonValue<'a> {
    /// A string (borrowed from the body when it has no escapes).
    Str(Cow<'a, str>),
    /// An integer.
    Int(i64),
    /// Any other JSON value.
    Other,
}

/// Find the field `name` of the top-level JSON object in `body`, scanning only as far
/// as needed: the fields before it are checked to be valid JSON and skipped without
/// being built, and the rest of the body is not read. Providers put their event id
/// first, so this costs a few dozen nanoseconds. Returns `None` when `body` is not a
/// JSON object or has no such field.
///
/// Does not allocate, except to decode a key or a string value that contains escapes
/// (and to skip values nested more than 512 levels deep).
///
/// ```
/// use hookwarden_core::parse::{json_top_level, JsonValue};
/// let body = br#"{"object":{"id":"inner"},"id":"evt_1","data":{}}"#;
/// assert_eq!(json_top_level(body, "id"), Some(JsonValue::Str("evt_1".into())));
/// assert_eq!(json_top_level(br#"{"n": 17}"#, "n"), Some(JsonValue::Int(17)));
/// assert_eq!(json_top_level(b"[1]", "id"), None);
/// ```
#[must_use]
pub fn json_top_level<'a>(body: &'a [u8], name: &str) -> Option<JsonValue<'a>> {
    let mut pos = skip_ws(body, 0);
    if body.get(pos) != Some(&b'{') {
        return None;
    }
    pos += 1;
    loop {
        pos = skip_ws(body, pos);
        let (end, escaped) = skip_string(body, pos).ok()?;
        let is_name = if escaped {
            json_value::<String>(body, pos)?.0 == name
        } else {
            let raw = &body[pos + 1..end - 1];
            // A key that is not UTF-8 makes the body invalid JSON.
            std::str::from_utf8(raw).ok()?;
            raw == name.as_bytes()
        };
        pos = skip_ws(body, end);
        if body.get(pos) != Some(&b':') {
            return None;
        }
        pos = skip_ws(body, pos + 1);
        if is_name {
            return found_value(body, pos);
        }
        let end = match skip_value(body, pos) {
            Ok(end) => end,
            Err(Skip::TooDeep) => json_value::<serde::de::IgnoredAny>(body, pos)?.1,
            Err(Skip::Invalid) => return None,
        };
        pos = skip_ws(body, end);
        match body.get(pos) {
            Some(b',') => pos += 1,
            _ => return None,
        }
    }
}

/// The value of the field found by [`json_top_level`], at `pos`.
fn found_value(body: &[u8], pos: usize) -> Option<JsonValue<'_>> {
    if body.get(pos) == Some(&b'"') {
        let (end, escaped) = skip_string(body, pos).ok()?;
        return Some(JsonValue::Str(if escaped {
            Cow::Owned(json_value::<String>(body, pos)?.0)
        } else {
            Cow::Borrowed(std::str::from_utf8(&body[pos + 1..end - 1]).ok()?)
        }));
    }
    // An integer in range, followed by the end of the body or a JSON delimiter; any
    // other value (including a malformed one) is `Other`.
    let digits_from = pos + usize::from(body.get(pos) == Some(&b'-'));
    let mut end = digits_from;
    while body.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    // `serde_json` reads `-0` as the float -0.0, and rejects other leading zeros.
    let leading_zero =
        body.get(digits_from) == Some(&b'0') && (end - digits_from > 1 || digits_from > pos);
    let delimited = matches!(
        body.get(end),
        None | Some(b' ' | b'\n' | b'\t' | b'\r' | b'"' | b'[' | b']' | b'{' | b'}' | b',' | b':')
    );
    if end == digits_from || leading_zero || !delimited {
        return Some(JsonValue::Other);
    }
    Some(
        std::str::from_utf8(&body[pos..end])
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .map_or(JsonValue::Other, JsonValue::Int),
    )
}

/// A top-level string field, see [`json_top_level`].
#[must_use]
pub fn json_top_level_str<'a>(body: &'a [u8], name: &str) -> Option<Cow<'a, str>> {
    match json_top_level(body, name)? {
        JsonValue::Str(s) => Some(s),
        JsonValue::Int(_) | JsonValue::Other => None,
    }
}

/// Decode one JSON value with `serde_json` (used only where decoding needs memory:
/// escapes, or nesting deeper than [`skip_value`] tracks).
fn json_value<'a, T: serde::Deserialize<'a>>(body: &'a [u8], pos: usize) -> Option<(T, usize)> {
    let rest = body.get(pos..)?;
    let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<T>();
    let v = stream.next()?.ok()?;
    Some((v, pos + stream.byte_offset()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    Invalid,
    TooDeep,
}

/// The JSON string at `pos` (its opening quote): the position after its closing quote
/// and whether it holds escapes. Validates it as `serde_json` does when skipping a
/// string: valid escapes, no control characters (UTF-8 is not checked here).
fn skip_string(body: &[u8], pos: usize) -> Result<(usize, bool), Skip> {
    if body.get(pos) != Some(&b'"') {
        return Err(Skip::Invalid);
    }
    let mut i = pos + 1;
    let mut escaped = false;
    loop {
        match body.get(i) {
            Some(b'"') => return Ok((i + 1, escaped)),
            Some(b'\\') => {
                escaped = true;
                match body.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                    Some(b'u') => {
                        let hex = body.get(i + 2..i + 6).ok_or(Skip::Invalid)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return Err(Skip::Invalid);
                        }
                        i += 6;
                    }
                    _ => return Err(Skip::Invalid),
                }
            }
            Some(&b) if b < 0x20 => return Err(Skip::Invalid),
            Some(_) => i += 1,
            None => return Err(Skip::Invalid),
        }
    }
}

/// The JSON number at `pos`: the position after it (the grammar `serde_json` accepts).
fn skip_number(body: &[u8], mut pos: usize) -> Result<usize, Skip> {
    let digits = |body: &[u8], mut pos: usize| {
        let from = pos;
        while body.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        if pos == from {
            Err(Skip::Invalid)
        } else {
            Ok(pos)
        }
    };
    if body.get(pos) == Some(&b'-') {
        pos += 1;
    }
    match body.get(pos) {
        Some(b'0') => {
            pos += 1;
            if body.get(pos).is_some_and(u8::is_ascii_digit) {
                return Err(Skip::Invalid);
            }
        }
        Some(b'1'..=b'9') => pos = digits(body, pos)?,
        _ => return Err(Skip::Invalid),
    }
    if body.get(pos) == Some(&b'.') {
        pos = digits(body, pos + 1)?;
    }
    if matches!(body.get(pos), Some(b'e' | b'E')) {
        pos += 1;
        if matches!(body.get(pos), Some(b'+' | b'-')) {
            pos += 1;
        }
        pos = digits(body, pos)?;
    }
    Ok(pos)
}

/// How deep [`skip_value`] follows nested arrays and objects (one bit per level).
const MAX_SKIP_DEPTH: usize = 512;

/// Skip the JSON value at `pos`, validating it, without allocating: nesting is tracked
/// in a fixed bit stack (`TooDeep` beyond [`MAX_SKIP_DEPTH`] levels).
fn skip_value(body: &[u8], mut pos: usize) -> Result<usize, Skip> {
    // Bit `d` set: the container at depth `d` is an object.
    let mut objects = [0u64; MAX_SKIP_DEPTH / 64];
    let mut depth = 0usize;
    let key_and_colon = |body: &[u8], pos: usize| -> Result<usize, Skip> {
        let (end, _) = skip_string(body, skip_ws(body, pos))?;
        let colon = skip_ws(body, end);
        if body.get(colon) == Some(&b':') {
            Ok(colon + 1)
        } else {
            Err(Skip::Invalid)
        }
    };
    loop {
        pos = skip_ws(body, pos);
        // One value, or the opening of a container.
        match body.get(pos) {
            Some(&open @ (b'{' | b'[')) => {
                if depth == MAX_SKIP_DEPTH {
                    return Err(Skip::TooDeep);
                }
                let is_object = open == b'{';
                let (word, bit) = (depth / 64, depth % 64);
                objects[word] = (objects[word] & !(1 << bit)) | (u64::from(is_object) << bit);
                depth += 1;
                pos = skip_ws(body, pos + 1);
                let close = if is_object { b'}' } else { b']' };
                if body.get(pos) == Some(&close) {
                    pos += 1;
                    depth -= 1;
                } else {
                    if is_object {
                        pos = key_and_colon(body, pos)?;
                    }
                    continue;
                }
            }
            Some(b'"') => pos = skip_string(body, pos)?.0,
            Some(b't') => pos = literal(body, pos, b"true")?,
            Some(b'f') => pos = literal(body, pos, b"false")?,
            Some(b'n') => pos = literal(body, pos, b"null")?,
            Some(b'-' | b'0'..=b'9') => pos = skip_number(body, pos)?,
            _ => return Err(Skip::Invalid),
        }
        // After a value: close containers, or go on to the next element.
        loop {
            if depth == 0 {
                return Ok(pos);
            }
            pos = skip_ws(body, pos);
            let top = depth - 1;
            let is_object = objects[top / 64] >> (top % 64) & 1 == 1;
            match body.get(pos) {
                Some(b',') => {
                    pos += 1;
                    if is_object {
                        pos = key_and_colon(body, pos)?;
                    }
                    break;
                }
                Some(b'}') if is_object => {
                    pos += 1;
                    depth -= 1;
                }
                Some(b']') if !is_object => {
                    pos += 1;
                    depth -= 1;
                }
                _ => return Err(Skip::Invalid),
            }
        }
    }
}

fn literal(body: &[u8], pos: usize, word: &[u8]) -> Result<usize, Skip> {
    if body.get(pos..pos + word.len()) == Some(word) {
        Ok(pos + word.len())
    } else {
        Err(Skip::Invalid)
    }
}

fn skip_ws(body: &[u8], mut pos: usize) -> usize {
    while matches!(body.get(pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        pos += 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_scan_handles_escapes_nesting_and_garbage() {
        let body = br#" { "a" : [1,{"id":"no"}], "i\u0064" : "e\"vt" } "#;
        assert_eq!(json_top_level_str(body, "id").as_deref(), Some("e\"vt"));
        assert_eq!(
            json_top_level(br#"{"id":null}"#, "id"),
            Some(JsonValue::Other)
        );
        assert_eq!(json_top_level(br#"{"a":1"#, "id"), None);
        assert_eq!(json_top_level(br#"{"a":1}"#, "id"), None);
        assert_eq!(json_top_level(b"", "id"), None);
        assert_eq!(json_top_level(b"{", "id"), None);
        assert_eq!(json_top_level(&[0xff, 0xfe], "id"), None);
    }

    /// The scan as it was before it avoided allocations: `serde_json` for every key and
    /// skipped value. The allocation-free scan must give the same answers.
    fn reference<'a>(body: &'a [u8], name: &str) -> Option<JsonValue<'a>> {
        let mut pos = skip_ws(body, 0);
        if body.get(pos) != Some(&b'{') {
            return None;
        }
        pos += 1;
        loop {
            pos = skip_ws(body, pos);
            let (key, end) = json_value::<Cow<'a, str>>(body, pos)?;
            pos = skip_ws(body, end);
            if body.get(pos) != Some(&b':') {
                return None;
            }
            pos = skip_ws(body, pos + 1);
            if key == name {
                return Some(match body.get(pos) {
                    Some(b'"') => match json_value::<&'a str>(body, pos) {
                        Some((s, _)) => JsonValue::Str(Cow::Borrowed(s)),
                        None => JsonValue::Str(Cow::Owned(json_value::<String>(body, pos)?.0)),
                    },
                    _ => match json_value::<i64>(body, pos) {
                        Some((n, _)) => JsonValue::Int(n),
                        None => JsonValue::Other,
                    },
                });
            }
            let (serde::de::IgnoredAny, end) = json_value(body, pos)?;
            pos = skip_ws(body, end);
            match body.get(pos) {
                Some(b',') => pos += 1,
                _ => return None,
            }
        }
    }

    const TOKENS: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b":",
        b",",
        b" ",
        b"\n",
        b"\"id\"",
        b"\"a\"",
        b"\"i\\u0064\"",
        b"\"x\\\"y\"",
        b"\"\\q\"",
        b"\"\\u12\"",
        b"\"\\ud800\"",
        b"\"\x01\"",
        b"\"\xc3\xa9\"",
        b"\"\xff\"",
        b"\xff",
        b"1",
        b"-0",
        b"01",
        b"-",
        b"1.5",
        b"1.",
        b"2e-3",
        b"1E",
        b"12x",
        b"9223372036854775807",
        b"9223372036854775808",
        b"-9223372036854775808",
        b"true",
        b"tru",
        b"false",
        b"null",
        b"nul",
        b"\"evt_1\"",
        b"\"",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        #[test]
        fn scan_agrees_with_serde_json(
            tokens in proptest::collection::vec(0..TOKENS.len(), 0..24),
            object in proptest::bool::weighted(0.9),
        ) {
            let mut body = if object { b"{".to_vec() } else { Vec::new() };
            for t in tokens {
                body.extend_from_slice(TOKENS[t]);
            }
            for name in ["id", "a"] {
                proptest::prop_assert_eq!(
                    json_top_level(&body, name),
                    reference(&body, name),
                    "{:?}",
                    String::from_utf8_lossy(&body)
                );
            }
        }
    }

    #[test]
    fn scan_agrees_with_serde_json_on_valid_documents() {
        let bodies: &[&[u8]] = &[
            br#"{"a":{"b":[1,{"c":[[],{}]},"x\"y"]},"id":"evt_1"}"#,
            br#"{"a":[[[[[[1]]]]]],"b":-1.5e+3,"c":true,"d":null,"id":-17}"#,
            br#"{ "a" : "\u00e9" , "id" : "\u00e9" }"#,
            br#"{"a":{},"b":[],"id":{}}"#,
        ];
        for body in bodies {
            assert_eq!(json_top_level(body, "id"), reference(body, "id"));
            assert!(json_top_level(body, "id").is_some());
        }
        let deep = [
            &b"{\"a\":"[..],
            &[b'['; 600],
            &[b']'; 600],
            b",\"id\":\"x\"}",
        ]
        .concat();
        assert_eq!(json_top_level_str(&deep, "id").as_deref(), Some("x"));
        let unclosed = [&b"{\"a\":"[..], &[b'['; 600], b",\"id\":\"x\"}"].concat();
        assert_eq!(json_top_level(&unclosed, "id"), None);
    }

    #[test]
    fn unix_seconds_rejects_signs_and_overflow() {
        assert_eq!(unix_seconds(b"-1"), None);
        assert_eq!(unix_seconds(b"+1"), None);
        assert_eq!(
            unix_seconds(b"999999999999999999"),
            Some(999_999_999_999_999_999)
        );
        assert_eq!(unix_seconds(b"9999999999999999999"), None);
    }
}
