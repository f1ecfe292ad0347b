//! Reading the rest of a request body that nobody read.
//!
//! A handler can answer before it has read the whole body: 413 for a body over the limit, or
//! any error that stops an extractor early. hyper then closes the connection with the
//! client's bytes still unread in the socket, and the kernel answers them with a reset: a
//! client still sending may never see the response, and a pooling client reuses a connection
//! that is gone and fails its next request. So a body dropped before its end hands what is
//! left to a background task that reads and discards it, bounded in bytes and time; once the
//! body is read, hyper keeps the connection for the next request.

use axum::body::{Body, Bytes};
use http_body::{Body as HttpBody, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// At most this much of an unread body is read and discarded (above the 25 MB webhook limit,
/// so a delivery refused for its size is still read to its end).
const MAX_DRAIN_BYTES: u64 = 64 << 20;
/// A client slower than this loses the connection instead.
const MAX_DRAIN_TIME: Duration = Duration::from_secs(10);

/// Wraps `body` so that dropping it before its end drains the rest in the background.
pub(crate) fn drain_on_drop(body: Body) -> Body {
    if body.is_end_stream() {
        return body;
    }
    Body::new(DrainOnDrop { inner: Some(body) })
}

struct DrainOnDrop {
    /// `None` once the body was read to its end.
    inner: Option<Body>,
}

impl HttpBody for DrainOnDrop {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if let Poll::Ready(None | Some(Err(_))) = polled {
            // Read to its end, or broken: nothing left to drain.
            self.inner = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        let Some(mut body) = self.inner.take() else {
            return;
        };
        if body.is_end_stream() || body.size_hint().lower() > MAX_DRAIN_BYTES {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let drain = async {
                let mut read = 0u64;
                while let Some(Ok(frame)) =
                    std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
                {
                    read += frame.data_ref().map_or(0, |d| d.len() as u64);
                    if read > MAX_DRAIN_BYTES {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(MAX_DRAIN_TIME, drain).await;
        });
    }
}
