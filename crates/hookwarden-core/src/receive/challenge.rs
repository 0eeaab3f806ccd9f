//! Providers' endpoint challenges, answered after verification without calling the
//! handler.

use bytes::Bytes;
use serde::Deserialize;

use super::reply::{Outcome, Rejection, Reply};
use crate::headers::{HeaderKey, Headers};
use crate::parse::{JsonValue, json_top_level, json_top_level_str};
use crate::verifier::Verifier;

static TWITCH_MESSAGE_TYPE: HeaderKey = HeaderKey::from_static("twitch-eventsub-message-type");

/// An endpoint challenge the pipeline can answer for you. Each is opt-in, and is only
/// answered for a request whose signature verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Challenge {
    /// Slack Events API `url_verification`: answers 200 with the `challenge` value
    /// as `text/plain`.
    Slack,
    /// Zoom `endpoint.url_validation`: answers 200 with
    /// `{"plainToken": ..., "encryptedToken": hex(HMAC-SHA256(secret, plainToken))}`,
    /// computed with the secret that verified the request.
    Zoom,
    /// Twitch EventSub `webhook_callback_verification` (header
    /// `Twitch-Eventsub-Message-Type`): answers 200 with the `challenge` as
    /// `text/plain`.
    Twitch,
    /// Discord interactions PING (`{"type":1}`): answers 200 with `{"type":1}`.
    Discord,
}

impl Challenge {
    /// The challenge the provider of scheme `name` (as in
    /// [`schemes::by_name`](crate::schemes::by_name)) sends, if it sends one: for a
    /// receiver configured by scheme name.
    ///
    /// ```
    /// use hookwarden_core::receive::Challenge;
    /// assert_eq!(Challenge::for_scheme("slack"), Some(Challenge::Slack));
    /// assert_eq!(Challenge::for_scheme("discord"), Some(Challenge::Discord));
    /// assert_eq!(Challenge::for_scheme("stripe"), None);
    /// ```
    #[must_use]
    pub fn for_scheme(name: &str) -> Option<Self> {
        match name {
            "slack" => Some(Self::Slack),
            "zoom" => Some(Self::Zoom),
            "twitch" => Some(Self::Twitch),
            "discord" => Some(Self::Discord),
            _ => None,
        }
    }

    /// The challenge's name, for logs.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Slack => "slack_url_verification",
            Self::Zoom => "zoom_endpoint_url_validation",
            Self::Twitch => "twitch_webhook_callback_verification",
            Self::Discord => "discord_ping",
        }
    }

    /// The reply when the request is this challenge; a rejection when it announces
    /// the challenge without what answers it; `None` when it is not this challenge.
    pub(crate) fn answer(
        self,
        headers: &dyn Headers,
        body: &[u8],
        verifier: &Verifier,
        key_index: usize,
    ) -> Option<Result<Reply, Rejection>> {
        let malformed = Some(Err(Rejection::ChallengeMalformed(self)));
        let (content_type, answer): (&'static str, Bytes) = match self {
            Self::Slack => {
                if json_top_level_str(body, "type")? != "url_verification" {
                    return None;
                }
                let Some(challenge) = json_top_level_str(body, "challenge") else {
                    return malformed;
                };
                (
                    "text/plain; charset=utf-8",
                    Bytes::from(challenge.into_owned()),
                )
            }
            Self::Twitch => {
                if headers.first(&TWITCH_MESSAGE_TYPE)? != b"webhook_callback_verification" {
                    return None;
                }
                let Some(challenge) = json_top_level_str(body, "challenge") else {
                    return malformed;
                };
                (
                    "text/plain; charset=utf-8",
                    Bytes::from(challenge.into_owned()),
                )
            }
            Self::Discord => {
                if json_top_level(body, "type")? != JsonValue::Int(1) {
                    return None;
                }
                ("application/json", Bytes::from_static(br#"{"type":1}"#))
            }
            Self::Zoom => {
                #[derive(Deserialize)]
                struct Validation {
                    event: String,
                    payload: Payload,
                }
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Payload {
                    plain_token: String,
                }
                if json_top_level_str(body, "event")? != "endpoint.url_validation" {
                    return None;
                }
                // The whole body must agree (a repeated `event` key is refused).
                let Ok(v) = serde_json::from_slice::<Validation>(body) else {
                    return malformed;
                };
                if v.event != "endpoint.url_validation" {
                    return malformed;
                }
                // An HMAC-SHA256 key: the guard refuses the Zoom challenge otherwise.
                let mac = verifier.hmac_sha256(key_index, v.payload.plain_token.as_bytes())?;
                let json = serde_json::json!({
                    "plainToken": v.payload.plain_token,
                    "encryptedToken": hex::encode(mac),
                });
                ("application/json", Bytes::from(json.to_string()))
            }
        };
        Some(Ok(Reply {
            status: 200,
            content_type,
            body: answer,
            retry_after: None,
            outcome: Outcome::Challenge(self),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schemes::Zoom;

    fn verifier() -> Verifier {
        Verifier::builder(Zoom::new())
            .secret("zoom-secret")
            .build()
            .expect("verifier")
    }

    /// A request that announces a challenge without what answers it is refused as
    /// that challenge (400, the handler not called), for each provider; one that
    /// does not announce it is not a challenge at all.
    #[test]
    fn an_announced_challenge_without_its_answer_is_refused_as_that_challenge() {
        let v = verifier();
        let none: [(&str, &str); 0] = [];
        let twitch = [(
            "Twitch-Eventsub-Message-Type",
            "webhook_callback_verification",
        )];
        type Case<'a> = (Challenge, &'a [(&'a str, &'a str)], &'a [u8]);
        let cases: [Case<'_>; 7] = [
            (Challenge::Slack, &none, br#"{"type":"url_verification"}"#),
            (
                Challenge::Slack,
                &none,
                br#"{"type":"url_verification","challenge":7}"#,
            ),
            (Challenge::Twitch, &twitch, br#"{"subscription":{}}"#),
            (Challenge::Twitch, &twitch, br#"{"challenge":null}"#),
            (
                Challenge::Zoom,
                &none,
                br#"{"event":"endpoint.url_validation","payload":{}}"#,
            ),
            (
                Challenge::Zoom,
                &none,
                br#"{"event":"endpoint.url_validation","payload":{"plainToken":1}}"#,
            ),
            // A second `event` the JSON parser would read: refused, not answered.
            (
                Challenge::Zoom,
                &none,
                br#"{"event":"endpoint.url_validation","event":"x","payload":{"plainToken":"t"}}"#,
            ),
        ];
        for (challenge, headers, body) in cases {
            let got = challenge.answer(&headers, body, &v, 0);
            assert_eq!(
                got.map(|r| r.map(|reply| reply.outcome)),
                Some(Err(Rejection::ChallengeMalformed(challenge))),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // Not announced: not a challenge (the handler gets it).
        let other = [("Twitch-Eventsub-Message-Type", "notification")];
        for (challenge, headers, body) in [
            (
                Challenge::Slack,
                &none[..],
                &br#"{"type":"event_callback"}"#[..],
            ),
            (Challenge::Twitch, &other[..], br#"{"challenge":"c"}"#),
            (Challenge::Twitch, &none[..], br#"{"challenge":"c"}"#),
            (
                Challenge::Zoom,
                &none[..],
                br#"{"event":"meeting.started"}"#,
            ),
            (Challenge::Discord, &none[..], br#"{"type":2}"#),
            (Challenge::Discord, &none[..], br#"{"type":"1"}"#),
        ] {
            assert!(
                challenge.answer(&headers, body, &v, 0).is_none(),
                "{challenge:?}"
            );
        }
    }
}
