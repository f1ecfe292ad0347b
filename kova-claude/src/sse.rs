//! An incremental server-sent events parser (the WHATWG algorithm): bytes go in as they arrive,
//! split anywhere (mid-line, mid-`\r\n`, mid-UTF-8 character), and whole events come out.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` field, or `message` when there was none.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// A line longer than this is not an Anthropic event; stop before buffering without bound.
const MAX_LINE: usize = 16 * 1024 * 1024;

/// Feeds bytes, yields events.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    /// Bytes of the current line when it spans chunks (kept as bytes: a chunk may end
    /// mid-character). Lines within one chunk are read in place, without copying.
    buf: Vec<u8>,
    /// The previous chunk ended with `\r`: a `\n` starting the next one belongs to it.
    pending_cr: bool,
    fields: Fields,
}

/// The event being assembled from its field lines.
#[derive(Debug, Default)]
struct Fields {
    event: String,
    data: String,
    /// Whether any `data:` line arrived since the last dispatch.
    has_data: bool,
    started: bool,
}

/// The stream broke the SSE format beyond repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseError(pub String);

impl SseParser {
    /// Parses `chunk`, appending completed events to `out`.
    pub fn feed(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if self.pending_cr {
            self.pending_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        while let Some(i) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            let line = if self.buf.is_empty() {
                &chunk[..i]
            } else {
                self.buf.extend_from_slice(&chunk[..i]);
                &self.buf[..]
            };
            self.fields.line(line, out)?;
            self.buf.clear();
            if chunk[i] == b'\r' {
                match chunk.get(i + 1) {
                    Some(b'\n') => chunk = &chunk[i + 2..],
                    Some(_) => chunk = &chunk[i + 1..],
                    None => {
                        self.pending_cr = true;
                        chunk = &[];
                    }
                }
            } else {
                chunk = &chunk[i + 1..];
            }
        }
        self.buf.extend_from_slice(chunk);
        if self.buf.len() > MAX_LINE {
            return Err(SseError(format!(
                "event stream line longer than {MAX_LINE} bytes"
            )));
        }
        Ok(())
    }

    /// Whether bytes of an unfinished event are buffered (the stream ended mid-event).
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty() || self.fields.has_data
    }
}

impl Fields {
    fn line(&mut self, mut line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if !self.started {
            self.started = true;
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(()); // a comment (keep-alive)
        }
        let line = std::str::from_utf8(line)
            .map_err(|_| SseError("event stream is not valid UTF-8".to_owned()))?;
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            // `id` and `retry` matter for reconnecting EventSources; a completion is not
            // resumable, so they are read and dropped like unknown fields.
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = std::mem::take(&mut self.event);
        if !std::mem::take(&mut self.has_data) {
            return; // an event with no data is not dispatched
        }
        out.push(SseEvent {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data: std::mem::take(&mut self.data),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(input: &[u8], sizes: &[usize]) -> Vec<SseEvent> {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        let mut rest = input;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].min(rest.len());
            p.feed(&rest[..n], &mut out).unwrap();
            rest = &rest[n..];
            i += 1;
        }
        out
    }

    const STREAM: &str = "\u{feff}: hello\nevent: ping\ndata: {\"type\":\"ping\"}\n\n\
        event:message_delta\r\ndata: {\"a\":\r\ndata:  \"é✓\"}\r\n\r\n\
        data: no event name\rid: 7\rretry: 10\r\r\
        event: empty\n\n\
        event: last\ndata\n\n";

    fn expected() -> Vec<SseEvent> {
        let ev = |e: &str, d: &str| SseEvent {
            event: e.into(),
            data: d.into(),
        };
        vec![
            ev("ping", "{\"type\":\"ping\"}"),
            ev("message_delta", "{\"a\":\n \"é✓\"}"),
            ev("message", "no event name"),
            ev("last", ""),
        ]
    }

    #[test]
    fn parses_fields_comments_line_endings_and_multiline_data() {
        assert_eq!(
            parse_in_pieces(STREAM.as_bytes(), &[usize::MAX]),
            expected()
        );
    }

    #[test]
    fn any_split_gives_the_same_events() {
        let bytes = STREAM.as_bytes();
        for size in 1..=bytes.len() {
            assert_eq!(
                parse_in_pieces(bytes, &[size]),
                expected(),
                "chunk size {size}"
            );
        }
        for split in 0..=bytes.len() {
            let mut p = SseParser::default();
            let mut out = Vec::new();
            p.feed(&bytes[..split], &mut out).unwrap();
            p.feed(&bytes[split..], &mut out).unwrap();
            assert_eq!(out, expected(), "split at {split}");
        }
        assert_eq!(parse_in_pieces(bytes, &[1, 2, 3, 5, 8, 13]), expected());
    }

    #[test]
    fn partial_events_are_visible_and_bad_utf8_is_an_error() {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        p.feed(b"event: x\ndata: {", &mut out).unwrap();
        assert!(out.is_empty() && p.has_partial());
        let mut p = SseParser::default();
        assert!(p.feed(b"data: \xff\xfe\n", &mut out).is_err());
    }
}
