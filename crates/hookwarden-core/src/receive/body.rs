//! [`BodyBuffer`]: a request body gathered chunk by chunk under a hard limit.

use bytes::{BufMut, Bytes, BytesMut};

use super::Rejection;

/// Gathers a request body as it streams in, refusing it as soon as more than the limit
/// has arrived, whatever its `Content-Length` said (so chunked bodies are bounded
/// too). A body that arrives in one chunk (the common case for a webhook) is handed
/// back as received, without a copy. Each adapter feeds it from its framework's body
/// stream; [`Guard::body_buffer`](super::Guard::body_buffer) makes one with the
/// guard's limit.
///
/// ```
/// use bytes::Bytes;
/// use hookwarden_core::receive::{BodyBuffer, Rejection};
///
/// let mut body = BodyBuffer::new(8);
/// body.push(Bytes::from_static(b"hello "))?;
/// assert_eq!(body.push(Bytes::from_static(b"world")), Err(Rejection::BodyTooLarge { limit: 8 }));
///
/// let mut body = BodyBuffer::new(16);
/// body.push(Bytes::from_static(b"hello "))?;
/// body.push(Bytes::from_static(b"world"))?;
/// assert_eq!(&body.finish()[..], b"hello world");
/// # Ok::<(), Rejection>(())
/// ```
#[derive(Debug)]
pub struct BodyBuffer {
    limit: usize,
    len: usize,
    first: Option<Bytes>,
    joined: Option<BytesMut>,
}

impl BodyBuffer {
    /// An empty buffer that holds at most `limit` bytes.
    #[must_use]
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            len: 0,
            first: None,
            joined: None,
        }
    }

    /// Add the next chunk.
    ///
    /// # Errors
    ///
    /// [`Rejection::BodyTooLarge`] once the body is over the limit (the buffer should
    /// then be dropped). Answer it, like a body that could not be read
    /// ([`Rejection::BodyUnreadable`]), with [`Guard::reject`](super::Guard::reject):
    /// it logs the rejection and applies the responder and `Retry-After` settings.
    pub fn push(&mut self, chunk: Bytes) -> Result<(), Rejection> {
        self.len = self.len.saturating_add(chunk.len());
        if self.len > self.limit {
            return Err(Rejection::BodyTooLarge { limit: self.limit });
        }
        if chunk.is_empty() {
            return Ok(());
        }
        match (&self.first, &mut self.joined) {
            (None, _) => self.first = Some(chunk),
            (Some(first), None) => {
                let mut buf = BytesMut::with_capacity(self.len);
                buf.put_slice(first);
                buf.put_slice(&chunk);
                self.joined = Some(buf);
            }
            (Some(_), Some(buf)) => buf.put_slice(&chunk),
        }
        Ok(())
    }

    /// The whole body.
    #[must_use]
    pub fn finish(self) -> Bytes {
        match (self.joined, self.first) {
            (Some(buf), _) => buf.freeze(),
            (None, Some(first)) => first,
            (None, None) => Bytes::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_chunk_comes_back_without_a_copy() {
        let sent = Bytes::from_static(b"hello");
        let mut body = BodyBuffer::new(5);
        body.push(Bytes::new()).unwrap();
        body.push(sent.clone()).unwrap();
        body.push(Bytes::new()).unwrap();
        let got = body.finish();
        assert_eq!(got, sent);
        assert_eq!(got.as_ptr(), sent.as_ptr());
    }

    #[test]
    fn chunks_are_joined_in_order() {
        let mut body = BodyBuffer::new(5);
        for chunk in [&b"ab"[..], b"", b"cd", b"e"] {
            body.push(Bytes::copy_from_slice(chunk)).unwrap();
        }
        assert_eq!(&body.finish()[..], b"abcde");
        assert!(BodyBuffer::new(0).finish().is_empty());
    }

    #[test]
    fn one_byte_over_the_limit_is_refused_in_any_chunk() {
        let mut body = BodyBuffer::new(5);
        body.push(Bytes::from_static(b"ab")).unwrap();
        body.push(Bytes::from_static(b"cd")).unwrap();
        assert_eq!(
            body.push(Bytes::from_static(b"ef")),
            Err(Rejection::BodyTooLarge { limit: 5 })
        );
        assert_eq!(
            BodyBuffer::new(5).push(Bytes::from_static(b"abcdef")),
            Err(Rejection::BodyTooLarge { limit: 5 })
        );
        let mut exact = BodyBuffer::new(5);
        exact.push(Bytes::from_static(b"abcde")).unwrap();
        assert_eq!(&exact.finish()[..], b"abcde");
    }
}
