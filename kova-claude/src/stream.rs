//! Turns Anthropic's event stream into kova-core's `StreamEvent`s.

use crate::errors::{protocol, timeout, transport_error, ApiFailure};
use crate::pricing::PriceTable;
use crate::secret::ApiKey;
use crate::sse::{SseEvent, SseParser};
use crate::wire::{stop_reason, Delta, StreamPayload};
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use kova_core::{Completion, CompletionStream, Error, Result, StreamEvent, Usage};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// The message being streamed, as far as it has arrived.
#[derive(Debug)]
pub(crate) struct Assembler {
    prices: Arc<PriceTable>,
    key: ApiKey,
    started: bool,
    finished: bool,
    id: String,
    model: String,
    text: String,
    usage: Usage,
    stop_reason: Option<String>,
    stop_sequence: Option<String>,
}

impl Assembler {
    pub fn new(prices: Arc<PriceTable>, key: ApiKey) -> Self {
        Assembler {
            prices,
            key,
            started: false,
            finished: false,
            id: String::new(),
            model: String::new(),
            text: String::new(),
            usage: Usage::default(),
            stop_reason: None,
            stop_sequence: None,
        }
    }

    /// Whether `message_stop` has arrived.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Applies one event; what the caller should see goes to `out`.
    pub fn apply(&mut self, ev: &SseEvent, out: &mut VecDeque<Result<StreamEvent>>) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        let payload = StreamPayload::parse(&ev.event, &ev.data)
            .map_err(|e| protocol(format!("bad `{}` event: {e}", ev.event)))?;
        match payload {
            StreamPayload::Ping | StreamPayload::Unknown => {}
            StreamPayload::Error { error } => {
                return Err(ApiFailure::from_event(error).into_error(&self.key));
            }
            StreamPayload::MessageStart { message } => {
                self.started = true;
                self.id = message.id;
                self.model = message.model;
                self.usage = message.usage.to_usage();
                out.push_back(Ok(StreamEvent::Usage { usage: self.usage }));
            }
            _ if !self.started => {
                return Err(protocol(format!(
                    "`{}` event before message_start",
                    ev.event
                )));
            }
            StreamPayload::ContentBlockStart { content_block } => {
                // A text block may open with text already in it.
                if let Some(text) = content_block
                    .filter(|b| b.kind == "text")
                    .and_then(|b| b.text)
                    .filter(|t| !t.is_empty())
                {
                    self.text.push_str(&text);
                    out.push_back(Ok(StreamEvent::TextDelta { text }));
                }
            }
            StreamPayload::ContentBlockDelta { delta } => {
                if let Delta::TextDelta { text } = delta {
                    self.text.push_str(&text);
                    out.push_back(Ok(StreamEvent::TextDelta { text }));
                }
            }
            StreamPayload::ContentBlockStop => {}
            StreamPayload::MessageDelta { delta, usage } => {
                if delta.stop_reason.is_some() {
                    self.stop_reason = delta.stop_reason;
                    self.stop_sequence = delta.stop_sequence;
                }
                if let Some(u) = usage {
                    u.update(&mut self.usage);
                    out.push_back(Ok(StreamEvent::Usage { usage: self.usage }));
                }
            }
            StreamPayload::MessageStop => {
                self.finished = true;
                let completion = Completion {
                    id: std::mem::take(&mut self.id),
                    cost_usd: self.prices.cost(&self.model, &self.usage),
                    model: std::mem::take(&mut self.model),
                    text: std::mem::take(&mut self.text),
                    stop_reason: stop_reason(
                        self.stop_reason.as_deref(),
                        self.stop_sequence.take(),
                    ),
                    usage: self.usage,
                };
                out.push_back(Ok(StreamEvent::Done { completion }));
            }
        }
        Ok(())
    }
}

/// Longest wait for the end of the body after `message_stop`.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Most bytes read after `message_stop` before hanging up.
const DRAIN_BYTES: usize = 64 * 1024;

/// `from + d`, saturating far in the future (a "never" timeout must not overflow).
fn after(from: Instant, d: Duration) -> Instant {
    from.checked_add(d)
        .unwrap_or_else(|| from + Duration::from_secs(30 * 365 * 86_400))
}

/// The byte stream of a 200 response, and how long it may stay silent.
pub(crate) struct Body {
    pub bytes: BoxStream<'static, reqwest::Result<Bytes>>,
    pub idle_timeout: Duration,
}

struct State {
    body: Body,
    /// Fires at most once per idle period: re-armed from `last_chunk` when it fires, instead
    /// of a new timer per chunk (each of which would re-register with the timer driver).
    idle_timer: Pin<Box<Sleep>>,
    last_chunk: Instant,
    parser: SseParser,
    assembler: Assembler,
    events: Vec<SseEvent>,
    pending: VecDeque<Result<StreamEvent>>,
    done: bool,
}

impl State {
    /// Ends the stream with `e` after what is already queued.
    fn fail(&mut self, e: Error) {
        self.pending.push_back(Err(e));
        self.done = true;
    }

    fn on_chunk(&mut self, chunk: &[u8]) {
        if let Err(e) = self.parser.feed(chunk, &mut self.events) {
            return self.fail(protocol(e.0));
        }
        // The event buffer is reused from chunk to chunk.
        let mut events = std::mem::take(&mut self.events);
        let mut result = Ok(());
        for ev in events.drain(..) {
            result = self.assembler.apply(&ev, &mut self.pending);
            if result.is_err() || self.assembler.is_finished() {
                break; // nothing after message_stop matters
            }
        }
        events.clear();
        self.events = events;
        if let Err(e) = result {
            self.fail(e);
        }
    }

    /// The body's next item, or `None` when it stayed silent for the idle timeout.
    async fn next_chunk(&mut self) -> Option<Option<reqwest::Result<Bytes>>> {
        let idle = self.body.idle_timeout;
        poll_fn(|cx| {
            if let Poll::Ready(item) = self.body.bytes.poll_next_unpin(cx) {
                self.last_chunk = Instant::now();
                return Poll::Ready(Some(item));
            }
            loop {
                ready!(self.idle_timer.as_mut().poll(cx));
                let deadline = after(self.last_chunk, idle);
                if Instant::now() >= deadline {
                    return Poll::Ready(None);
                }
                self.idle_timer.as_mut().reset(deadline);
            }
        })
        .await
    }

    /// Reads what follows `message_stop` (normally just the end of the chunked body), so the
    /// connection goes back to the pool instead of being closed, which would cost the next
    /// call a new TLS handshake. Bounded in time and bytes: a server that keeps talking is
    /// simply hung up on.
    async fn drain(&mut self) {
        let limit = DRAIN_TIMEOUT.min(self.body.idle_timeout);
        let bytes = &mut self.body.bytes;
        let _ = tokio::time::timeout(limit, async {
            let mut budget = DRAIN_BYTES;
            while let Some(Ok(chunk)) = bytes.next().await {
                budget = budget.saturating_sub(chunk.len());
                if budget == 0 {
                    break;
                }
            }
        })
        .await;
        self.done = true;
    }

    fn on_end(&mut self) {
        self.done = true;
        if !self.assembler.is_finished() {
            let what = if self.parser.has_partial() {
                "stream ended in the middle of an event"
            } else {
                "stream ended before message_stop"
            };
            self.fail(protocol(what));
        }
    }
}

/// The caller's stream: text deltas and usage as they arrive, then `Done`, or an error item
/// that ends it (an `error` event, a broken connection, a silent connection, a truncated
/// stream).
pub(crate) fn completion_stream(body: Body, assembler: Assembler) -> CompletionStream {
    let now = Instant::now();
    let state = State {
        idle_timer: Box::pin(tokio::time::sleep_until(after(now, body.idle_timeout))),
        last_chunk: now,
        body,
        parser: SseParser::default(),
        assembler,
        events: Vec::new(),
        pending: VecDeque::new(),
        done: false,
    };
    futures::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.pending.pop_front() {
                return Some((item, st));
            }
            if st.done {
                return None;
            }
            if st.assembler.is_finished() {
                st.drain().await;
                return None;
            }
            match st.next_chunk().await {
                None => st.fail(timeout()),
                Some(None) => st.on_end(),
                Some(Some(Err(e))) => {
                    let err = transport_error(&e, &st.assembler.key);
                    st.fail(err)
                }
                Some(Some(Ok(chunk))) => st.on_chunk(&chunk),
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kova_core::StopReason;

    fn ev(event: &str, data: serde_json::Value) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.to_string(),
        }
    }

    fn assembler() -> Assembler {
        Assembler::new(Arc::new(PriceTable::default()), ApiKey::new("k"))
    }

    #[test]
    fn usage_is_cumulative_not_summed() {
        let mut a = assembler();
        let mut out = VecDeque::new();
        let start = serde_json::json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,
            "usage":{"input_tokens":10,"output_tokens":1,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000}}});
        a.apply(&ev("message_start", start), &mut out).unwrap();
        for (n, t) in [(5, "Hel"), (9, "lo")] {
            a.apply(&ev("content_block_delta", serde_json::json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":t}})), &mut out).unwrap();
            a.apply(&ev("message_delta", serde_json::json!({"type":"message_delta","delta":{"stop_reason":null},"usage":{"output_tokens":n}})), &mut out).unwrap();
        }
        a.apply(&ev("message_delta", serde_json::json!({"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"###"},"usage":{"output_tokens":12}})), &mut out).unwrap();
        a.apply(
            &ev("message_stop", serde_json::json!({"type":"message_stop"})),
            &mut out,
        )
        .unwrap();
        let Some(Ok(StreamEvent::Done { completion })) = out.pop_back() else {
            panic!("no Done")
        };
        assert_eq!(completion.text, "Hello");
        assert_eq!(
            completion.stop_reason,
            StopReason::StopSequence("###".into())
        );
        assert_eq!(
            completion.usage,
            Usage {
                input_tokens: 10,
                output_tokens: 12,
                cache_creation_tokens: 100,
                cache_read_tokens: 1000
            }
        );
        assert!(completion.cost_usd.is_some());
    }

    #[test]
    fn bad_known_events_fail_unknown_ones_are_ignored() {
        let mut a = assembler();
        let mut out = VecDeque::new();
        a.apply(
            &SseEvent {
                event: "future_thing".into(),
                data: "not json".into(),
            },
            &mut out,
        )
        .unwrap();
        let e = a
            .apply(
                &SseEvent {
                    event: "message_start".into(),
                    data: "{".into(),
                },
                &mut out,
            )
            .unwrap_err();
        assert!(matches!(e, Error::Protocol { .. }));
        let e = a.apply(&ev("content_block_delta", serde_json::json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}})), &mut out).unwrap_err();
        assert!(matches!(e, Error::Protocol { .. }));
    }
}
