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
    raw.split(move |&b| b == separator).map(|item| {
        let item = item.trim_ascii();
        match item.iter().position(|&b| b == b'=') {
            Some(eq) => (&item[..eq], &item[eq + 1..]),
            None => (&b""[..], item),
        }
    })
}

/// A value found by [`json_top_level`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonValue<'a> {
    /// A string (borrowed from the body when it has no escapes).
    Str(Cow<'a, str>),
    /// An integer.
    Int(i64),
    /// Any other JSON value.
    Other,
}

/// Find the field `name` of the top-level JSON object in `body`, scanning only as far
/// as needed: the fields before it are skipped by `serde_json` without being built,
/// and the rest of the body is not read. Providers put their event id first, so this
/// costs a few dozen nanoseconds. Returns `None` when `body` is not a JSON object or
/// has no such field.
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

/// A top-level string field, see [`json_top_level`].
#[must_use]
pub fn json_top_level_str<'a>(body: &'a [u8], name: &str) -> Option<Cow<'a, str>> {
    match json_top_level(body, name)? {
        JsonValue::Str(s) => Some(s),
        JsonValue::Int(_) | JsonValue::Other => None,
    }
}

fn json_value<'a, T: serde::Deserialize<'a>>(body: &'a [u8], pos: usize) -> Option<(T, usize)> {
    let rest = body.get(pos..)?;
    let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<T>();
    let v = stream.next()?.ok()?;
    Some((v, pos + stream.byte_offset()))
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
