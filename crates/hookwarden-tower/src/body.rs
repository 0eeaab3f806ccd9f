//! Buffering the request body with a hard limit.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use hookwarden_core::receive::Rejection;
use http_body::Body;
use http_body_util::BodyExt;

/// Read `body` whole, refusing it as soon as more than `limit` bytes have arrived,
/// whatever its `Content-Length` said (so chunked bodies are bounded too). A body
/// that arrives in one frame (the common case for a small webhook) is returned as
/// received, without a copy; trailers are ignored.
///
/// # Errors
///
/// [`Rejection::BodyTooLarge`] over the limit, [`Rejection::BodyUnreadable`] when the
/// body fails (the client went away, a malformed chunk).
pub(crate) async fn read_limited<B: Body>(body: B, limit: usize) -> Result<Bytes, Rejection> {
    let mut body = std::pin::pin!(body);
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Rejection::BodyUnreadable)?;
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        len = len.saturating_add(data.remaining());
        if len > limit {
            return Err(Rejection::BodyTooLarge { limit });
        }
        let data = data.copy_to_bytes(data.remaining());
        match (&mut first, &mut joined) {
            (None, _) => first = Some(data),
            (Some(head), None) => {
                let mut buf = BytesMut::with_capacity(len);
                buf.put_slice(head);
                buf.put_slice(&data);
                joined = Some(buf);
            }
            (Some(_), Some(buf)) => buf.put_slice(&data),
        }
    }
    Ok(match (joined, first) {
        (Some(buf), _) => buf.freeze(),
        (None, Some(data)) => data,
        (None, None) => Bytes::new(),
    })
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http_body::Frame;
    use http_body_util::{Full, StreamBody};

    use super::*;

    type Frames<E> = futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, E>>>;

    fn chunked(chunks: &[&'static [u8]]) -> StreamBody<Frames<Infallible>> {
        let frames: Vec<Result<Frame<Bytes>, Infallible>> = chunks
            .iter()
            .map(|c| Ok(Frame::data(Bytes::from_static(c))))
            .collect();
        StreamBody::new(futures_util::stream::iter(frames))
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn one_frame_comes_back_without_a_copy() {
        let sent = Bytes::from_static(b"hello");
        let got = block_on(read_limited(Full::new(sent.clone()), 5)).expect("within the limit");
        assert_eq!(got, sent);
        assert_eq!(got.as_ptr(), sent.as_ptr());
    }

    #[test]
    fn frames_are_joined_in_order() {
        let got = block_on(read_limited(chunked(&[b"ab", b"", b"cd", b"e"]), 5)).expect("5 bytes");
        assert_eq!(&got[..], b"abcde");
        let empty = block_on(read_limited(chunked(&[]), 0)).expect("empty");
        assert!(empty.is_empty());
    }

    #[test]
    fn one_byte_over_the_limit_is_refused_in_any_frame() {
        assert_eq!(
            block_on(read_limited(chunked(&[b"ab", b"cd", b"ef"]), 5)),
            Err(Rejection::BodyTooLarge { limit: 5 })
        );
        assert_eq!(
            block_on(read_limited(Full::new(Bytes::from_static(b"abcdef")), 5)),
            Err(Rejection::BodyTooLarge { limit: 5 })
        );
    }

    #[test]
    fn a_failing_body_is_unreadable() {
        let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = vec![
            Ok(Frame::data(Bytes::from_static(b"ab"))),
            Err(std::io::Error::other("reset")),
        ];
        let body = StreamBody::new(futures_util::stream::iter(frames));
        assert_eq!(
            block_on(read_limited(body, 10)),
            Err(Rejection::BodyUnreadable)
        );
    }
}
