//! Reading an `http_body::Body` into the guard's [`BodyBuffer`].

use std::time::Duration;

use bytes::{Buf, Bytes};
use hookwarden_core::receive::{BodyBuffer, Rejection};
use http_body::Body;
use http_body_util::BodyExt;

/// Read `body` whole into `buffer` (the guard's [`BodyBuffer`]: the limit and the
/// one-chunk-without-a-copy rule live there) within `timeout` (the guard's body
/// timeout, on Tokio's timer); trailers are ignored.
///
/// # Errors
///
/// [`Rejection::BodyTooLarge`] over the limit, [`Rejection::BodyUnreadable`] when the
/// body fails (the client went away, a malformed chunk), [`Rejection::BodyTimeout`]
/// when it is not complete in time.
pub(crate) async fn read_limited<B: Body>(
    body: B,
    buffer: BodyBuffer,
    timeout: Option<Duration>,
) -> Result<Bytes, Rejection> {
    let read = read_all(body, buffer);
    match timeout {
        None => read.await,
        Some(limit) => tokio::time::timeout(limit, read)
            .await
            .unwrap_or(Err(Rejection::BodyTimeout)),
    }
}

async fn read_all<B: Body>(body: B, mut buffer: BodyBuffer) -> Result<Bytes, Rejection> {
    let mut body = std::pin::pin!(body);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Rejection::BodyUnreadable)?;
        if let Ok(mut data) = frame.into_data() {
            buffer.push(data.copy_to_bytes(data.remaining()))?;
        }
    }
    Ok(buffer.finish())
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use futures_util::StreamExt as _;
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
            .enable_time()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn one_frame_comes_back_without_a_copy() {
        let sent = Bytes::from_static(b"hello");
        let got = block_on(read_limited(
            Full::new(sent.clone()),
            BodyBuffer::new(5),
            None,
        ))
        .expect("within the limit");
        assert_eq!(got, sent);
        assert_eq!(got.as_ptr(), sent.as_ptr());
    }

    #[test]
    fn data_frames_are_joined_and_trailers_skipped() {
        let frames: Vec<Result<Frame<Bytes>, Infallible>> = vec![
            Ok(Frame::data(Bytes::from_static(b"ab"))),
            Ok(Frame::trailers(http::HeaderMap::new())),
            Ok(Frame::data(Bytes::from_static(b"cd"))),
        ];
        let body = StreamBody::new(futures_util::stream::iter(frames));
        let got = block_on(read_limited(body, BodyBuffer::new(4), None)).expect("4 bytes");
        assert_eq!(&got[..], b"abcd");
    }

    #[test]
    fn the_limit_holds_across_frames() {
        assert_eq!(
            block_on(read_limited(
                chunked(&[b"ab", b"cd", b"ef"]),
                BodyBuffer::new(5),
                None
            )),
            Err(Rejection::BodyTooLarge { limit: 5 })
        );
    }

    /// A body that sends a chunk and then nothing: refused when the timeout ends
    /// (without one it would wait for ever), and a body complete in time is read.
    #[test]
    fn a_body_not_complete_in_time_is_refused() {
        let frames = futures_util::stream::iter([Ok::<_, Infallible>(Frame::data(
            Bytes::from_static(b"ab"),
        ))])
        .chain(futures_util::stream::pending());
        let started = std::time::Instant::now();
        assert_eq!(
            block_on(read_limited(
                StreamBody::new(frames),
                BodyBuffer::new(10),
                Some(Duration::from_millis(50))
            )),
            Err(Rejection::BodyTimeout)
        );
        assert!(started.elapsed() >= Duration::from_millis(50));
        let got = block_on(read_limited(
            chunked(&[b"ab", b"cd"]),
            BodyBuffer::new(10),
            Some(Duration::from_secs(5)),
        ));
        assert_eq!(got.as_deref(), Ok(&b"abcd"[..]));
    }

    #[test]
    fn a_failing_body_is_unreadable() {
        let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = vec![
            Ok(Frame::data(Bytes::from_static(b"ab"))),
            Err(std::io::Error::other("reset")),
        ];
        let body = StreamBody::new(futures_util::stream::iter(frames));
        assert_eq!(
            block_on(read_limited(body, BodyBuffer::new(10), None)),
            Err(Rejection::BodyUnreadable)
        );
    }
}
