//! The envelope's fast path: one validating pass over the body that reads the four fields and
//! checks the rest is JSON, without serde's per-token machinery.
//!
//! It answers only when it is sure: `Some` is exactly what the serde path would return, `None`
//! means "not sure" and the caller runs the serde path, which then owns every error message and
//! edge case. So anything unusual gives up rather than being reproduced here: control bytes
//! (GitHub sends compact JSON, so whitespace is only ' '), escapes in keys and in the wanted
//! strings, repeated wanted fields (serde's derive rejects them), wanted fields of another type,
//! integers that are not plain non-negative `i64`s, `\u` surrogates, deep nesting. Whatever it
//! accepts is valid JSON, so serde would accept it too.
//!
//! Speed: most of a payload is string content (URLs), and a byte-by-byte or word-by-word search
//! for each string's end makes every string wait for the previous one. Instead the bytes that can
//! end a run of string content (`"`, `\`, control bytes) are found 64 at a time as a bit mask
//! (code the compiler vectorizes), one window ahead of the scanner, so finding a string's end is
//! a shift and a trailing-zero count.

use super::{Envelope, InstallationField, RepositoryField, SenderField};
use std::borrow::Cow;
use std::cell::Cell;

/// Nesting the fast path follows before giving up; serde_json's limit is 128, so every body the
/// fast path accepts is within serde's.
const MAX_DEPTH: usize = 64;

/// Reads the envelope of `text`, or `None` when the serde path must decide.
pub(super) fn parse(text: &str) -> Option<Envelope<'_>> {
    let s = Scanner::new(text);
    let mut env = Envelope::default();
    let mut seen = [false; 4];
    let end = s.object(0, |key, at| {
        let field = match key {
            b"action" => 0,
            b"repository" => 1,
            b"installation" => 2,
            b"sender" => 3,
            _ => return s.skip_value(at, 1),
        };
        if std::mem::replace(&mut seen[field], true) {
            return None; // serde: "duplicate field"
        }
        match field {
            0 => {
                let (end, action) = s.optional_str(at)?;
                env.action = action;
                Some(end)
            }
            1 => {
                let (end, repository) =
                    s.optional_field(at, b"full_name", Scanner::optional_str)?;
                env.repository = repository.map(|full_name| RepositoryField { full_name });
                Some(end)
            }
            2 => {
                let (end, installation) = s.optional_field(at, b"id", Scanner::optional_id)?;
                env.installation = installation.map(|id| InstallationField { id });
                Some(end)
            }
            _ => {
                let (end, sender) = s.optional_field(at, b"login", Scanner::optional_str)?;
                env.sender = sender.map(|login| SenderField { login });
                Some(end)
            }
        }
    })?;
    (s.spaces(end) == text.len()).then_some(env)
}

/// A value read at some index, with the index after it.
type Read<T> = Option<(usize, T)>;

/// Reads JSON from a byte index and returns the index after what it read; `None` is "give up".
struct Scanner<'a> {
    text: &'a str,
    /// Where the next string-ending byte is; moves forward only.
    window: Cell<Window>,
}

/// The string-ending bytes of `base..base + 64` (`mask`) and of the 64 bytes after (`next`), as
/// bit masks: bit `i` is byte `base + i`. Computing `next` before it is needed keeps that work
/// off the scanner's chain of dependent steps.
#[derive(Clone, Copy)]
struct Window {
    base: usize,
    mask: u64,
    next: u64,
}

impl Window {
    fn at(bytes: &[u8], base: usize) -> Self {
        Window {
            base,
            mask: string_end_mask(bytes, base),
            next: string_end_mask(bytes, base + 64),
        }
    }
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        let window = Cell::new(Window::at(text.as_bytes(), 0));
        Scanner { text, window }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.text.as_bytes().get(at).copied()
    }

    fn spaces(&self, mut at: usize) -> usize {
        while self.byte(at) == Some(b' ') {
            at += 1;
        }
        at
    }

    /// The index after `byte`, which must come after optional spaces.
    fn expect(&self, at: usize, byte: u8) -> Option<usize> {
        let at = self.spaces(at);
        (self.byte(at)? == byte).then_some(at + 1)
    }

    /// The index of the first `"`, `\` or control byte at or after `at`.
    #[inline(always)]
    fn string_end(&self, mut at: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let mut w = self.window.get();
        loop {
            if at >= bytes.len() {
                return None;
            }
            let offset = at.wrapping_sub(w.base);
            if offset < 64 {
                let bits = w.mask >> offset;
                if bits != 0 {
                    self.window.set(w);
                    return Some(at + bits.trailing_zeros() as usize);
                }
                at = w.base + 64;
            } else if offset < 128 {
                w = Window {
                    base: w.base + 64,
                    mask: w.next,
                    next: string_end_mask(bytes, w.base + 128),
                };
            } else {
                // A jump past the next window (a long number, say) starts afresh.
                w = Window::at(bytes, at & !63);
            }
        }
    }

    /// Reads an object, calling `member` with each key and the index of its value; `member`
    /// returns the index after the value.
    fn object(
        &self,
        at: usize,
        mut member: impl FnMut(&'a [u8], usize) -> Option<usize>,
    ) -> Option<usize> {
        let mut at = self.spaces(self.expect(at, b'{')?);
        if self.byte(at)? == b'}' {
            return Some(at + 1);
        }
        loop {
            let (value, key) = self.key(at)?;
            at = self.spaces(member(key, value)?);
            match self.byte(at)? {
                b',' => at += 1,
                b'}' => return Some(at + 1),
                _ => return None,
            }
        }
    }

    /// Reads `"key":`; gives up on escaped keys, which serde would compare unescaped.
    #[inline(always)]
    fn key(&self, at: usize) -> Read<&'a [u8]> {
        let start = self.expect(at, b'"')?;
        let end = self.plain_string_end(start)?;
        Some((
            self.expect(end + 1, b':')?,
            &self.text.as_bytes()[start..end],
        ))
    }

    /// The index of the closing quote of the string whose content starts at `at`; gives up on
    /// escapes.
    fn plain_string_end(&self, at: usize) -> Option<usize> {
        let end = self.string_end(at)?;
        (self.byte(end)? == b'"').then_some(end)
    }

    /// The index after the string whose content starts at `at`, validating its escapes.
    fn skip_string(&self, mut at: usize) -> Option<usize> {
        loop {
            let end = self.string_end(at)?;
            match self.byte(end)? {
                b'"' => return Some(end + 1),
                b'\\' => at = self.escape(end + 1)?,
                _ => return None, // a control byte
            }
        }
    }

    /// The index after an escape whose backslash is just before `at`.
    fn escape(&self, at: usize) -> Option<usize> {
        match self.byte(at)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(at + 1),
            b'u' => {
                let hex = self.text.as_bytes().get(at + 1..at + 5)?;
                let code = hex
                    .iter()
                    .try_fold(0, |n, &b| Some(n * 16 + char::from(b).to_digit(16)?))?;
                // Surrogates are valid only in pairs; leave those rules to serde.
                (!(0xD800..=0xDFFF).contains(&code)).then_some(at + 5)
            }
            _ => None,
        }
    }

    /// A string without escapes, borrowed from the body, or null. Escaped strings, which serde
    /// would unescape into an owned string, and other types give up.
    fn optional_str(&self, at: usize) -> Read<Option<Cow<'a, str>>> {
        let at = self.spaces(at);
        if self.byte(at)? == b'n' {
            return Some((self.literal(at, b"null")?, None));
        }
        let start = self.expect(at, b'"')?;
        let end = self.plain_string_end(start)?;
        Some((end + 1, Some(Cow::Borrowed(&self.text[start..end]))))
    }

    /// A non-negative integer that fits `i64`, or null; floats, negative numbers (`-0` is a float
    /// to serde_json) and overflow give up.
    fn optional_id(&self, at: usize) -> Read<Option<i64>> {
        let at = self.spaces(at);
        if self.byte(at)? == b'n' {
            return Some((self.literal(at, b"null")?, None));
        }
        let end = self.number(at)?;
        let digits = &self.text.as_bytes()[at..end];
        let id = digits.iter().try_fold(0i64, |n, &d| {
            n.checked_mul(10)?
                .checked_add(char::from(d).to_digit(10)?.into())
        })?;
        Some((end, Some(id)))
    }

    /// A wanted object: an object whose field `name` is read by `read`, or null. Other members
    /// are skipped; a repeated `name` gives up, as serde rejects it.
    fn optional_field<T>(
        &self,
        at: usize,
        name: &[u8],
        read: fn(&Self, usize) -> Read<Option<T>>,
    ) -> Read<Option<Option<T>>> {
        let at = self.spaces(at);
        if self.byte(at)? == b'n' {
            return Some((self.literal(at, b"null")?, None));
        }
        let mut value = None;
        let mut seen = false;
        let end = self.object(at, |key, at| {
            if key != name {
                return self.skip_value(at, 2);
            }
            if std::mem::replace(&mut seen, true) {
                return None;
            }
            let (end, v) = read(self, at)?;
            value = v;
            Some(end)
        })?;
        Some((end, Some(value)))
    }

    fn literal(&self, at: usize, word: &[u8]) -> Option<usize> {
        let end = at + word.len();
        (self.text.as_bytes().get(at..end)? == word).then_some(end)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`. What follows (`01`, `1x`) is checked
    /// by the caller, as for any value.
    fn number(&self, mut at: usize) -> Option<usize> {
        if self.byte(at) == Some(b'-') {
            at += 1;
        }
        at = match self.byte(at)? {
            b'0' => at + 1,
            b'1'..=b'9' => self.digits(at + 1),
            _ => return None,
        };
        if self.byte(at) == Some(b'.') {
            at = self.digits1(at + 1)?;
        }
        if let Some(b'e' | b'E') = self.byte(at) {
            at += 1;
            if let Some(b'+' | b'-') = self.byte(at) {
                at += 1;
            }
            at = self.digits1(at)?;
        }
        Some(at)
    }

    fn digits(&self, mut at: usize) -> usize {
        while let Some(b'0'..=b'9') = self.byte(at) {
            at += 1;
        }
        at
    }

    /// At least one digit.
    fn digits1(&self, at: usize) -> Option<usize> {
        let end = self.digits(at);
        (end > at).then_some(end)
    }

    /// Skips the value at `at` in an object at `depth`. Nested containers are followed with a
    /// stack of bits (1 for an object) rather than recursion.
    fn skip_value(&self, mut at: usize, depth: usize) -> Option<usize> {
        let mut stack: u64 = 0;
        let mut open = 0;
        loop {
            // A value.
            at = self.spaces(at);
            let opener = self.byte(at)?;
            at = match opener {
                b'"' => self.skip_string(at + 1)?,
                b'{' | b'[' => {
                    // `}` and `]` follow `{` and `[` two code points later.
                    let closer = opener + 2;
                    at = self.spaces(at + 1);
                    if self.byte(at)? == closer {
                        at + 1
                    } else {
                        open += 1;
                        if depth + open > MAX_DEPTH {
                            return None;
                        }
                        stack = stack << 1 | u64::from(opener == b'{');
                        if opener == b'{' {
                            at = self.key(at)?.0;
                        }
                        continue;
                    }
                }
                b't' => self.literal(at, b"true")?,
                b'f' => self.literal(at, b"false")?,
                b'n' => self.literal(at, b"null")?,
                _ => self.number(at)?,
            };
            // After a value: close containers until one continues with a comma.
            loop {
                if open == 0 {
                    return Some(at);
                }
                let in_object = stack & 1 == 1;
                at = self.spaces(at);
                match self.byte(at)? {
                    b',' => {
                        at += 1;
                        if in_object {
                            at = self.key(at)?.0;
                        }
                        break;
                    }
                    b'}' if in_object => {}
                    b']' if !in_object => {}
                    _ => return None,
                }
                at += 1;
                stack >>= 1;
                open -= 1;
            }
        }
    }
}

/// The string-ending bytes (`"`, `\\`, below 0x20) of the 64 bytes from `at` as a bit mask.
fn string_end_mask(bytes: &[u8], at: usize) -> u64 {
    match bytes
        .get(at..at + 64)
        .and_then(|c| <&[u8; 64]>::try_from(c).ok())
    {
        Some(chunk) => chunk_mask(chunk),
        None => tail_mask(bytes.get(at..).unwrap_or_default()),
    }
}

#[cold]
#[inline(never)]
fn tail_mask(rest: &[u8]) -> u64 {
    // Spaces past the end: not string-ending bytes.
    let mut padded = [b' '; 64];
    padded[..rest.len()].copy_from_slice(rest);
    chunk_mask(&padded)
}

/// Written so that it vectorizes without `unsafe` or intrinsics: each byte becomes 0 or its
/// weight `1 << (i / 8)`, the eight 8-byte groups are ORed, so byte `k` of the result has bit
/// `j` set for a hit at `8j + k`, and an 8×8 bit transpose puts that bit at `8j + k`. Not
/// inlined: the scanner reaches it from many places, once per 64 bytes.
#[inline(never)]
fn chunk_mask(chunk: &[u8; 64]) -> u64 {
    const WEIGHTS: [u8; 64] = {
        let mut w = [0; 64];
        let mut i = 0;
        while i < 64 {
            w[i] = 1 << (i / 8);
            i += 1;
        }
        w
    };
    let mut flags = [0u8; 64];
    for ((flag, &b), &weight) in flags.iter_mut().zip(chunk).zip(&WEIGHTS) {
        // `b ^ 2 <= 0x20` is `b < 0x20 || b == b'"'` in one comparison.
        let hit = (b ^ 2 <= 0x20) | (b == b'\\');
        *flag = weight & 0u8.wrapping_sub(u8::from(hit));
    }
    let t = flags.chunks_exact(8).fold(0, |t, group| {
        t | u64::from_le_bytes(group.try_into().unwrap_or_default())
    });
    transpose8(t)
}

/// Transposes `x` as an 8×8 bit matrix (byte `k`, bit `j` ↔ byte `j`, bit `k`; Hacker's Delight
/// 7–3).
fn transpose8(mut x: u64) -> u64 {
    let t = (x ^ (x >> 7)) & 0x00AA_00AA_00AA_00AA;
    x ^= t ^ (t << 7);
    let t = (x ^ (x >> 14)) & 0x0000_CCCC_0000_CCCC;
    x ^= t ^ (t << 14);
    let t = (x ^ (x >> 28)) & 0x0000_0000_F0F0_F0F0;
    x ^ t ^ (t << 28)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// What `Envelope::parse` answers, spelled out so borrowed and owned strings differ.
    fn outcome(result: kova_core::Result<Envelope<'_>>) -> String {
        let cow = |s: &Option<Cow<'_, str>>| match s {
            Some(Cow::Borrowed(s)) => format!("borrowed {s:?}"),
            Some(Cow::Owned(s)) => format!("owned {s:?}"),
            None => "none".to_owned(),
        };
        match result {
            Ok(env) => format!(
                "action {} repository {:?} installation {:?} sender {:?}",
                cow(&env.action),
                env.repository.as_ref().map(|r| cow(&r.full_name)),
                env.installation,
                env.sender.as_ref().map(|s| cow(&s.login)),
            ),
            Err(e) => format!("{e:?}"),
        }
    }

    fn serde_only(body: &[u8]) -> String {
        outcome(Envelope::parse_with_serde(
            std::str::from_utf8(body).unwrap(),
        ))
    }

    #[test]
    fn real_payloads_take_the_fast_path() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/webhooks");
        let mut count = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let body = std::fs::read(&path).unwrap();
            let text = std::str::from_utf8(&body).unwrap();
            let fast = parse(text).unwrap_or_else(|| panic!("{}: fell back", path.display()));
            assert_eq!(outcome(Ok(fast)), serde_only(&body), "{}", path.display());
            count += 1;
        }
        assert!(count >= 60, "only {count} fixtures");
    }

    #[test]
    fn strings_across_window_boundaries() {
        // The string-end masks cover 64-byte windows: shift the content across them, with
        // strings longer than two windows, escapes, and a body ending anywhere in a window.
        let long = "https://api.github.com/repos/o/r".repeat(5);
        for pad in 0..200 {
            let body = format!(
                r#"{{"p":"{}","x":["{long}","a\"b\\c\u00e9\n",{{"k":"{long}"}}],"action":"opened","sender":{{"login":"{long}"}}}}"#,
                "y".repeat(pad)
            );
            let fast = parse(&body).unwrap_or_else(|| panic!("pad {pad}: fell back"));
            assert_eq!(outcome(Ok(fast)), serde_only(body.as_bytes()), "pad {pad}");
            // A control byte in any string gives up; serde rejects it.
            for (at, _) in body.match_indices('/').step_by(7) {
                let mut raw = body.clone().into_bytes();
                raw[at] = 0x1f;
                let raw = String::from_utf8(raw).unwrap();
                assert!(parse(&raw).is_none(), "pad {pad}, control byte at {at}");
                assert!(Envelope::parse(raw.as_bytes()).is_err());
            }
            // No proper prefix of an object is JSON.
            if pad < 3 || pad == 63 {
                for end in 0..body.len() {
                    let prefix = &body[..end];
                    assert!(parse(prefix).is_none(), "pad {pad}, prefix {end}");
                    assert_eq!(
                        outcome(Envelope::parse(prefix.as_bytes())),
                        serde_only(prefix.as_bytes())
                    );
                }
            }
        }
    }

    fn nested(levels: usize) -> String {
        format!(
            r#"{{"action":"a","x":{}1{}}}"#,
            "[".repeat(levels),
            "]".repeat(levels)
        )
    }

    #[test]
    fn tricky_bodies_read_as_serde_reads_them() {
        // (body, whether the fast path answers). Every answer must be serde's.
        let fast = [
            r#"{"action":"opened","repository":{"full_name":"o/r"},"installation":{"id":42},"sender":{"login":"u"}}"#,
            "{}",
            r#"  {"action":null}  "#,
            r#"{ "action" : "x" , "n" : [ 1 , { } , [ ] ] , "repository" : { "full_name" : "o/r" } }"#,
            r#"{"sender":null,"installation":null,"repository":null}"#,
            r#"{"installation":{}}"#,
            r#"{"installation":{"id":null}}"#,
            r#"{"installation":{"id":0}}"#,
            r#"{"installation":{"id":9223372036854775807}}"#,
            r#"{"repository":{"owner":{"login":"x"},"full_name":"o/r","id":1},"sender":{"id":2}}"#,
            r#"{"pull_request":{"action":"x","sender":{"login":"y"}},"action":"z"}"#,
            r#"{"action":"é ✓"}"#,
            r#"{"x":"a\"b\\c\/d\be\ff\ng\rh\ti\u00e9\uFFFF\u0000","y":"\\"}"#,
            r#"{"x":[],"y":{},"z":[[],{}],"w":[1,-0,0.5,1e3,1E+3,-1.5e-3,true,false,null,"s",{"a":{"b":[{}]}}]}"#,
            r#"{"x":1e400,"y":123456789012345678901234567890}"#,
            r#"{"action":"a","x":"\u007f"}"#,
        ]
        .map(String::from);
        let fast = fast.into_iter().chain([nested(63)]);
        let fallback = [
            // Escapes in keys and in wanted values: serde unescapes them.
            r#"{"act\u0069on":"x"}"#,
            r#"{"x\n":1,"action":"y"}"#,
            r#"{"action":"a\nb"}"#,
            r#"{"repository":{"full_name":"o\/r"}}"#,
            r#"{"sender":{"login":"\u0041"}}"#,
            // Surrogates, paired or not: serde's rules.
            r#"{"x":"\ud83d\ude00"}"#,
            r#"{"x":"\ud800"}"#,
            r#"{"x":"\uDFFF"}"#,
            // Duplicate wanted fields.
            r#"{"action":"a","action":"b"}"#,
            r#"{"action":null,"action":null}"#,
            r#"{"installation":{"id":1},"installation":null}"#,
            r#"{"repository":{"full_name":"a","full_name":"b"}}"#,
            r#"{"sender":{"login":"a","x":1,"login":null}}"#,
            // Wanted fields of other types or numbers.
            r#"{"installation":{"id":1.0}}"#,
            r#"{"installation":{"id":-0}}"#,
            r#"{"installation":{"id":-1}}"#,
            r#"{"installation":{"id":1e3}}"#,
            r#"{"installation":{"id":9223372036854775808}}"#,
            r#"{"installation":{"id":"1"}}"#,
            r#"{"installation":{"id":true}}"#,
            r#"{"installation":[42]}"#,
            r#"{"installation":42}"#,
            r#"{"action":1}"#,
            r#"{"action":{}}"#,
            r#"{"action":["a"]}"#,
            r#"{"repository":"o/r"}"#,
            r#"{"sender":[]}"#,
            // Deep nesting: 100 levels is fine for serde, 200 is not.
            "NESTED 100",
            "NESTED 200",
            // Invalid numbers.
            r#"{"x":01}"#,
            r#"{"x":1.}"#,
            r#"{"x":-}"#,
            r#"{"x":.5}"#,
            r#"{"x":1e}"#,
            r#"{"x":1e+}"#,
            r#"{"x":+1}"#,
            r#"{"x":-01}"#,
            r#"{"x":[1x]}"#,
            r#"{"installation":{"id":01}}"#,
            // Bad literals.
            r#"{"x":tru}"#,
            r#"{"x":nul}"#,
            r#"{"x":True}"#,
            r#"{"x":nulll}"#,
            r#"{"action":nul}"#,
            r#"{"action":nullx}"#,
            // Bad escapes.
            r#"{"x":"\x"}"#,
            r#"{"x":"\u12"}"#,
            r#"{"x":"\u12G4"}"#,
            r#"{"x":"\'"}"#,
            r#"{"x":"\"#,
            // Unterminated.
            r#"{"a":"b"#,
            r#"{"a":1"#,
            r#"{"a":[1,2"#,
            r#"{"a":{"b":1}"#,
            "{",
            r#"{"a"#,
            r#"{"a""#,
            r#"{"a":"#,
            // Bad structure.
            r#"{"a":1,}"#,
            "{,}",
            r#"{"a" 1}"#,
            r#"{"a":1 "b":2}"#,
            "{1:2}",
            r#"{"a":[1,]}"#,
            r#"{"a":[,1]}"#,
            r#"{"a":{"b"}}"#,
            r#"{"a":[1:2]}"#,
            r#"{"a":{"b":1]}"#,
            r#"{"a":[1}}"#,
            r#"{"a":{"b":1,}}"#,
            // Trailing garbage and other top levels.
            "{} x",
            "{}}",
            "{},",
            "{}{}",
            "[]",
            r#""s""#,
            "1",
            "null",
            "",
            "   ",
            // Control characters: raw whitespace (fine for serde) or inside strings (not).
            "{\n\"action\":\"x\"}",
            "{\"action\":\"x\"}\n",
            "\t{}",
            "{\"a\":\"x\ty\"}",
            "{\"a\":\"\x01\"}",
            "{\"action\":\"x\ny\"}",
        ]
        .map(|body| match body.strip_prefix("NESTED ") {
            Some(levels) => nested(levels.parse().unwrap()),
            None => body.to_owned(),
        });
        let cases = fast.map(|b| (b, true));
        for (body, expect_fast) in cases.chain(fallback.into_iter().map(|b| (b, false))) {
            let took_fast = parse(&body).is_some();
            assert_eq!(took_fast, expect_fast, "fast path on {body}");
            assert_eq!(
                outcome(Envelope::parse(body.as_bytes())),
                serde_only(body.as_bytes()),
                "{body}"
            );
        }
    }
}
