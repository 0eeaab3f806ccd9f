//! Output helpers shared by the subcommands: colours (only on a terminal, never with
//! `NO_COLOR`), line-at-a-time printing that flushes, and error chains on one line.

use std::io::{self, IsTerminal as _, Write as _};

use anstyle::{AnsiColor, Style};

/// What a coloured word means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Paint {
    /// Verified, 2xx: green.
    Good,
    /// Rejected, failed, 4xx/5xx: red.
    Bad,
    /// Duplicates, redirects, notices: yellow.
    Note,
}

impl Paint {
    /// The terminal style of this kind of word.
    fn style(self) -> Style {
        let color = match self {
            Self::Good => AnsiColor::Green,
            Self::Bad => AnsiColor::Red,
            Self::Note => AnsiColor::Yellow,
        };
        Style::new().fg_color(Some(color.into())).bold()
    }

    /// The paint of an HTTP status: 2xx good, 3xx a note, others bad.
    pub(crate) fn of_status(status: u16) -> Self {
        match status {
            200..=299 => Self::Good,
            300..=399 => Self::Note,
            _ => Self::Bad,
        }
    }
}

/// Whether standard output gets colours: a terminal, and `NO_COLOR` unset or empty.
pub(crate) fn stdout_color() -> bool {
    io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `text` in the colour of `paint` when `on`, else unchanged.
pub(crate) fn paint(text: &str, paint: Paint, on: bool) -> String {
    if on {
        let style = paint.style();
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_owned()
    }
}

/// Write `line` and a newline to standard output and flush at once, so that a reader
/// at the other end of a pipe sees each line as it happens. A closed pipe is ignored.
pub(crate) fn print_line(line: &str) {
    let mut out = io::stdout().lock();
    let _ = out
        .write_all(line.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
}

/// An error and its sources, joined with `: `, on one line (repeated messages, which
/// some libraries nest, are shown once).
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ").replace(['\n', '\r'], " ")
}

/// `url` for display: a password in it is replaced by `***` (an error or a log line
/// never shows one).
pub(crate) fn shown_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

/// `url`, given as text, for display: unchanged, unless it holds a password, which
/// is replaced as by [`shown_url`]; a text that is not a URL but has a `@` in it is
/// not shown at all.
pub(crate) fn shown_url_text(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) if parsed.password().is_some() => shown_url(&parsed),
        Err(_) if url.contains('@') => "(not shown: not a valid URL)".to_owned(),
        _ => url.to_owned(),
    }
}

/// `bytes` as text for display: UTF-8 with invalid sequences replaced.
pub(crate) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The event type a webhook body names, when it is a JSON object with a string
/// `type`, `event_type`, `event`, `topic` or `object_kind` at the top level (Standard
/// Webhooks, Stripe, Square, Linear: `type`; Paddle: `event_type`; Zoom: `event`;
/// Intercom: `topic`; GitLab: `object_kind`).
pub(crate) fn event_type(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    ["type", "event_type", "event", "topic", "object_kind"]
        .iter()
        .find_map(|k| object.get(*k)?.as_str())
        .map(crate::one_line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_read_from_the_usual_keys() {
        assert_eq!(
            event_type(br#"{"type":"invoice.paid"}"#).as_deref(),
            Some("invoice.paid")
        );
        assert_eq!(
            event_type(br#"{"event_type":"subscription.created"}"#).as_deref(),
            Some("subscription.created")
        );
        assert_eq!(event_type(br#"{"type":1}"#), None);
        assert_eq!(event_type(b"not json"), None);
        assert_eq!(event_type(b"[1]"), None);
    }

    #[test]
    fn paint_is_plain_when_off() {
        assert_eq!(paint("ok", Paint::Good, false), "ok");
        assert!(paint("ok", Paint::Good, true).starts_with("\u{1b}["));
    }
}
