//! Header-list helpers for the schemes' tests: a signed delivery's headers with one
//! changed or taken out.

/// `headers` with `name`'s value (every occurrence, any case) replaced by `value`, in
/// place; appended when `name` is absent.
pub(super) fn with(headers: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let mut found = false;
    let mut out: Vec<_> = headers
        .iter()
        .map(|(k, v)| {
            if k.eq_ignore_ascii_case(name) {
                found = true;
                (k.clone(), value.to_owned())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    if !found {
        out.push((name.to_owned(), value.to_owned()));
    }
    out
}

/// `headers` without `name` (any case).
pub(super) fn without(headers: &[(String, String)], name: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case(name))
        .cloned()
        .collect()
}
