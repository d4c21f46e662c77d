//! The text log format (`LOG_FORMAT=text`), byte for byte what
//! tracing-subscriber's default formatter prints with ANSI colours off and
//! targets hidden:
//!
//! ```text
//! 2026-11-22T10:58:19.110677Z  INFO request{id=1c04ee249e81-2 method=POST path=/webhook/check-stock}: check-stock outcome="success" items=3 elapsed_us=19
//! ```
//!
//! but with less work per line: no colour styles to paint (they are all empty
//! with ANSI off), the timestamp written in one go, and string and integer
//! fields and the message written directly. Anything less common (errors,
//! floats, `r#` names…) goes through tracing-subscriber's own `DefaultVisitor`,
//! so it prints exactly as before. The tests hold both formatters to the same
//! output for every line that holds no raw control character.
//!
//! One difference, on purpose: client text reaches the log in `%` (Display)
//! fields and messages, which tracing-subscriber prints raw, so a newline in a
//! client's `uid` or `sku` would start a forged log line. Here every field
//! and message is escaped (`\n`, `\r`, `\u{b}`… as `escape_debug` writes them,
//! and ESC, BEL… as tracing-subscriber already escapes them in messages) by one
//! scan of the line that copies it unchanged when there is nothing to escape
//! ([`write_escaped`]).
//!
//! Why it is kept: `bench/check-stock.sh` (pinned layout, alternating rounds,
//! 2026-12-04) served the same build with tracing-subscriber's own default
//! formatter in its place (this module's writer kept) as `BASELINE_BIN`:
//! check-stock/baseline 1.06 (medians 87.9k vs 83.1k req/s; per-round ratios
//! 1.04-1.09), and 1.07 (105.1k vs 97.9k; 1.04-1.17) once this formatter
//! escaped control characters too. Both hand-written pieces together against
//! the standard stack (tracing-subscriber's fmt layer over tracing-appender's
//! lossless non-blocking writer): 1.17 (104.1k vs 89.2k req/s), then 1.13
//! (101.9k vs 90.0k) with the escaping. The project keeps a
//! hand-written copy of a well-kept crate only while it wins by 5 % or more on
//! that benchmark: measure again before changing either.

use std::fmt;
use std::time::{Duration, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::field::{RecordFields, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultVisitor, FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Event formatter: `<timestamp> <level> <span{fields}:…> <fields>`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TextFormat;

impl<S, N> FormatEvent<S, N> for TextFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        if write_timestamp(&mut writer).is_err() {
            writer.write_str("<unknown time>")?;
        }
        writer.write_char(' ')?;
        writer.write_str(level_text(event.metadata().level()))?;
        writer.write_char(' ')?;
        if let Some(scope) = ctx.event_scope() {
            let mut seen = false;
            for span in scope.from_root() {
                writer.write_str(span.metadata().name())?;
                seen = true;
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    writer.write_char('{')?;
                    writer.write_str(fields)?;
                    writer.write_char('}')?;
                }
                writer.write_char(':')?;
            }
            if seen {
                writer.write_char(' ')?;
            }
        }
        ctx.format_fields(writer.by_ref(), event)?;
        writer.write_char('\n')
    }
}

/// The level as tracing-subscriber pads it.
fn level_text(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => " INFO",
        Level::WARN => " WARN",
        _ => "ERROR",
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds), as tracing-subscriber's
/// `SystemTime` timer writes it; outside years 1970-9999 it is that timer.
fn write_timestamp(writer: &mut Writer<'_>) -> fmt::Result {
    let now = std::time::SystemTime::now();
    match now.duration_since(UNIX_EPOCH).ok().and_then(rfc3339_micros) {
        Some(text) => writer.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?),
        None => SystemTime.format_time(writer),
    }
}

/// The timestamp `since` the Unix epoch, or `None` after year 9999.
fn rfc3339_micros(since: Duration) -> Option<[u8; 27]> {
    let secs = since.as_secs();
    let at = time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).ok()?).ok()?;
    let year = u64::try_from(at.year()).ok().filter(|y| *y <= 9999)?;
    let of_day = secs % 86_400;
    let mut out = *b"0000-00-00T00:00:00.000000Z";
    put_digits(&mut out[0..4], year);
    put_digits(&mut out[5..7], u64::from(u8::from(at.month())));
    put_digits(&mut out[8..10], u64::from(at.day()));
    put_digits(&mut out[11..13], of_day / 3600);
    put_digits(&mut out[14..16], of_day % 3600 / 60);
    put_digits(&mut out[17..19], of_day % 60);
    put_digits(&mut out[20..26], u64::from(since.subsec_micros()));
    Some(out)
}

/// Writes `n` as zero-padded decimal filling `slot` (the caller sizes the slot).
fn put_digits(slot: &mut [u8], mut n: u64) {
    for digit in slot.iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Field formatter: `name=value` pairs separated by spaces, the message first
/// without a name, values in `Debug` form (strings quoted).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TextFields;

/// Room for a span's formatted fields, e.g. `id=… method=POST path=/webhook/check-stock`.
const FIELDS_CAPACITY: usize = 128;

impl<'writer> FormatFields<'writer> for TextFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'writer>, fields: R) -> fmt::Result {
        // A span's fields go to a fresh String, which would grow a few times
        // field by field: format them into a buffer sized for a usual request
        // span first, then copy them over in one write.
        let mut buffer = String::with_capacity(FIELDS_CAPACITY);
        let mut visitor = TextVisitor {
            writer: Writer::new(&mut buffer),
            is_empty: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result?;
        // Field values and the message may hold client text: escape whatever
        // could break the line or drive a terminal, in one scan of the line.
        write_escaped(&mut writer, &buffer)
    }
}

struct TextVisitor<'a> {
    writer: Writer<'a>,
    is_empty: bool,
    result: fmt::Result,
}

impl TextVisitor<'_> {
    /// True for the plain field names this visitor writes itself; the message,
    /// `r#` names and `log.*` metadata go to the default visitor.
    fn is_plain(field: &Field) -> bool {
        let name = field.name();
        name != "message" && !name.starts_with("r#") && !name.starts_with("log.")
    }

    /// Writes the separating space (if needed), `name` and `=`.
    fn start(&mut self, field: &Field) -> fmt::Result {
        if self.is_empty {
            self.is_empty = false;
        } else {
            self.writer.write_char(' ')?;
        }
        self.writer.write_str(field.name())?;
        self.writer.write_char('=')
    }

    /// Records one field through tracing-subscriber's `DefaultVisitor`, which
    /// prints it exactly as the default formatter does.
    fn delegate(&mut self, field: &Field, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        let mut visitor = DefaultVisitor::new(self.writer.by_ref(), self.is_empty);
        record(&mut visitor);
        self.result = visitor.finish();
        // The default visitor writes every field but `log.*` metadata.
        if !field.name().starts_with("log.") {
            self.is_empty = false;
        }
    }

    /// The message: its `Debug` form (the text itself for `format_args!`);
    /// [`write_escaped`] escapes its control characters with the rest of the line.
    fn write_message(&mut self, value: &dyn fmt::Debug) {
        self.result = if self.is_empty {
            self.is_empty = false;
            Ok(())
        } else {
            self.writer.write_char(' ')
        }
        .and_then(|()| write!(self.writer, "{value:?}"));
    }

    fn write_u64(&mut self, field: &Field, value: u64) {
        self.result = self
            .start(field)
            .and_then(|()| self.writer.write_str(itoa::Buffer::new().format(value)));
    }
}

/// What [`write_escaped`] does with each byte.
const PLAIN: u8 = 0;
/// A C0 control character other than tab, or DEL: escaped.
const CONTROL: u8 = 1;
/// 0xC2: the first byte of U+0080..=U+00FF, escaped when a C1 control (U+0080..=U+009F).
const LEAD_C2: u8 = 2;
/// 0xE2: the first byte of U+2000..=U+2FFF, escaped when U+2028 or U+2029.
const LEAD_E2: u8 = 3;

static ESCAPE_CLASS: [u8; 256] = {
    let mut table = [PLAIN; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = CONTROL;
        byte += 1;
    }
    table[b'\t' as usize] = PLAIN;
    table[0x7f] = CONTROL;
    table[0xc2] = LEAD_C2;
    table[0xe2] = LEAD_E2;
    table
};

/// Writes `s` with everything that could forge a log line or drive a terminal
/// escaped, the text between escapes in one piece:
///
/// - ESC, BEL, BS, FF and DEL as `\x1b`, `\x07`, `\x08`, `\x0c`, `\x7f`, and the
///   C1 controls U+0080..=U+009F as `\u{80}`…, exactly as tracing-subscriber
///   escapes them in messages (so those lines print as before);
/// - newline, carriage return and NUL as `\n`, `\r`, `\0`, the other C0
///   controls and the line and paragraph separators U+2028, U+2029 as
///   `\u{b}`, `\u{2028}`…, as `str::escape_debug` writes them (tracing-subscriber
///   prints those raw, so a client's `\n` could start a forged line).
///
/// Tab is kept: it cannot start a line or drive a terminal, and
/// tracing-subscriber prints it raw. Ordinary text is written unchanged
/// (one scan, no escape). Values already in `Debug` form hold none of these.
fn write_escaped(writer: &mut Writer<'_>, s: &str) -> fmt::Result {
    let bytes = s.as_bytes();
    let mut clean_from = 0;
    let mut at = 0;
    // The usual line has no byte of interest: one pass of table lookups.
    while let Some(offset) = bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| ESCAPE_CLASS[usize::from(b)] != PLAIN))
    {
        at += offset;
        let len = match ESCAPE_CLASS[usize::from(bytes[at])] {
            CONTROL => 1,
            LEAD_C2 if matches!(bytes.get(at + 1), Some(0x80..=0x9f)) => 2,
            LEAD_E2 if bytes.get(at + 1) == Some(&0x80) && matches!(bytes.get(at + 2), Some(0xa8 | 0xa9)) => 3,
            _ => 0,
        };
        if len == 0 {
            at += 1;
            continue;
        }
        writer.write_str(s.get(clean_from..at).ok_or(fmt::Error)?)?;
        let ch = s.get(at..at + len).and_then(|c| c.chars().next()).ok_or(fmt::Error)?;
        match ch {
            '\x1b' | '\x07' | '\x08' | '\x0c' | '\x7f' => write!(writer, "\\x{:02x}", u32::from(ch))?,
            _ => write!(writer, "{}", ch.escape_debug())?,
        }
        at += len;
        clean_from = at;
    }
    writer.write_str(s.get(clean_from..).ok_or(fmt::Error)?)
}

/// True when `Debug` would print `s` between quotes unchanged: printable ASCII
/// without `"` or `\`.
fn debug_is_verbatim(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

impl Visit for TextVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.result.is_err() {
            return;
        }
        if field.name() == "message" {
            return self.write_message(&format_args!("{value}"));
        }
        if !Self::is_plain(field) || !debug_is_verbatim(value) {
            return self.delegate(field, |v| v.record_str(field, value));
        }
        self.result = self.start(field).and_then(|()| {
            self.writer.write_char('"')?;
            self.writer.write_str(value)?;
            self.writer.write_char('"')
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.result.is_err() {
            return;
        }
        if !Self::is_plain(field) {
            return self.delegate(field, |v| v.record_u64(field, value));
        }
        self.write_u64(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.result.is_err() {
            return;
        }
        if !Self::is_plain(field) {
            return self.delegate(field, |v| v.record_i64(field, value));
        }
        if value >= 0 {
            return self.write_u64(field, value.unsigned_abs());
        }
        self.result = self.start(field).and_then(|()| write!(self.writer, "{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.result.is_err() {
            return;
        }
        if !Self::is_plain(field) {
            return self.delegate(field, |v| v.record_bool(field, value));
        }
        self.result = self
            .start(field)
            .and_then(|()| self.writer.write_str(if value { "true" } else { "false" }));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if self.result.is_ok() {
            self.delegate(field, |v| v.record_f64(field, value));
        }
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        if self.result.is_ok() {
            self.delegate(field, |v| v.record_i128(field, value));
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        if self.result.is_ok() {
            self.delegate(field, |v| v.record_u128(field, value));
        }
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        if self.result.is_ok() {
            self.delegate(field, |v| v.record_bytes(field, value));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.result.is_ok() {
            self.delegate(field, |v| v.record_error(field, value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        if field.name() == "message" {
            return self.write_message(value);
        }
        if !Self::is_plain(field) {
            return self.delegate(field, |v| v.record_debug(field, value));
        }
        self.result = self.start(field).and_then(|()| write!(self.writer, "{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    impl Buffer {
        fn lines(&self) -> Vec<String> {
            String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner()))
                .lines()
                .map(str::to_owned)
                .collect()
        }
    }

    #[derive(Debug)]
    struct Outer;
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("outer failed")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&Inner)
        }
    }
    #[derive(Debug)]
    struct Inner;
    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("inner \"cause\"")
        }
    }
    impl std::error::Error for Inner {}

    /// Every kind of field, span and message the code base logs, and some it does not.
    fn log_everything() {
        tracing::info!("listening on http://{}", "127.0.0.1:8080");
        tracing::warn!(
            "INGESTION_AUTH=none: POST /ingestion/webhook accepts events from anyone; set INGESTION_AUTH=api-key"
        );
        let request =
            tracing::info_span!("request", id = %"1c04ee249e81-2", method = %"POST", path = %"/webhook/check-stock");
        request.in_scope(|| {
            let id: Option<&str> = None;
            tracing::info!(
                outcome = "success",
                items = 3u64,
                elapsed_us = 17u64,
                commerce_request_id = id,
                "check-stock"
            );
            tracing::info!(
                outcome = "exception",
                reason = "invalid_request",
                items = 0usize,
                elapsed_us = 5u64,
                commerce_request_id = Some("cm-77"),
                detail = %"invalid parameter 'data.items': expected an array",
                "check-stock"
            );
            tracing::error!(checker = "http", error = %Outer, "stock checker failed");
            let err: &(dyn std::error::Error + 'static) = &Outer;
            tracing::error!(error = err, "with a source chain");
            let inner = tracing::debug_span!("inner", n = 1i64);
            inner.in_scope(|| tracing::debug!(negative = -42i64, big = u64::MAX, "nested"));
        });
        let empty = tracing::info_span!("empty");
        empty.in_scope(|| tracing::info!(flag = true, other = false, "in a span without fields"));
        let later = tracing::info_span!("later", a = 1u64, b = tracing::field::Empty);
        later.record("b", "recorded later");
        later.in_scope(|| tracing::trace!(ratio = 0.5f64, whole = 2.0f64, huge = 1u128 << 100, small = -1i128));
        tracing::info!(
            text = "quote \" backslash \\ tab \t newline \n",
            "strings that need escaping"
        );
        tracing::info!(
            text = "ünïcödé and emoji 🚀",
            control = "bell \x07 esc \x1b[31m",
            "non-ASCII"
        );
        tracing::info!("message with an escape \x1b[31mred\x1b[0m and a C1 \u{9b} control");
        tracing::info!("bell \x07 backspace \x08 form feed \x0c delete \x7f C1 \u{80}\u{9f} not C1 \u{a0}é \t");
        tracing::info!(r#type = "raw identifier", "r# names");
        tracing::info!(
            log.target = "some::module",
            log.line = 7u64,
            shown = 1u64,
            "log metadata is skipped"
        );
        tracing::info!(data = ?vec![1, 2], text = ?"debug string", "debug values");
        tracing::info!(only = "fields", count = 2u64);
        tracing::warn!(message = "explicit message field \x1b[0m", x = 1u64);
        tracing::info!(x = 1u64, "message after a field");
        tracing::info!(bytes = &b"\x00ab"[..], "bytes");
        tracing::error!("error level");
    }

    #[test]
    fn prints_exactly_what_the_default_formatter_prints() {
        let default_out = Buffer::default();
        let text_out = Buffer::default();
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_target(false)
                    .with_writer(default_out.clone()),
            )
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .event_format(TextFormat)
                    .fmt_fields(TextFields)
                    .with_writer(text_out.clone()),
            )
            .with(tracing_subscriber::filter::LevelFilter::TRACE);
        tracing::subscriber::with_default(subscriber, log_everything);

        let expected = default_out.lines();
        let got = text_out.lines();
        assert_eq!(expected.len(), 21, "{expected:#?}");
        assert_eq!(got.len(), expected.len(), "{got:#?}");
        for (want, have) in expected.iter().zip(&got) {
            // The timestamps are taken a moment apart; everything after them must match.
            let (want_time, want_rest) = want.split_once(' ').expect("timestamp");
            let (have_time, have_rest) = have.split_once(' ').expect("timestamp");
            assert_eq!(have_rest, want_rest);
            let shape = |t: &str| {
                t.chars()
                    .map(|c| if c.is_ascii_digit() { '0' } else { c })
                    .collect::<String>()
            };
            assert_eq!(shape(have_time), shape(want_time), "{have_time} vs {want_time}");
            assert_eq!(shape(have_time), "0000-00-00T00:00:00.000000Z");
        }
    }

    /// Formats what `log` logs with [`TextFormat`] and returns the lines.
    fn text_lines(log: impl FnOnce()) -> Vec<String> {
        let out = Buffer::default();
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .event_format(TextFormat)
                    .fmt_fields(TextFields)
                    .with_writer(out.clone()),
            )
            .with(tracing_subscriber::filter::LevelFilter::TRACE);
        tracing::subscriber::with_default(subscriber, log);
        out.lines()
    }

    #[test]
    fn client_text_cannot_forge_a_line_or_drive_a_terminal() {
        const FORGED: &str = "u1\n2026-12-01T00:00:00.000000Z ERROR FORGED";
        let lines = text_lines(|| {
            let span = tracing::info_span!("request", id = %"a\r\nb", path = %"/p\u{1b}[2J");
            span.in_scope(|| {
                tracing::info!(uid = %FORGED, event = %"e\u{7}\u{8}\u{c}\u{7f}", "ingestion request handled");
                tracing::info!(detail = %"NUL \0 VT \u{b} C1 \u{85} LS \u{2028} PS \u{2029} tab \t é \u{a0}", "check-stock");
                tracing::warn!("message from a client: {FORGED}\r\u{1b}[31m");
                tracing::info!(debug = ?FORGED, plain = FORGED, "already escaped by Debug");
            });
        });
        let want = [
            "request{id=a\\r\\nb path=/p\\x1b[2J}: ingestion request handled \
             uid=u1\\n2026-12-01T00:00:00.000000Z ERROR FORGED event=e\\x07\\x08\\x0c\\x7f",
            "request{id=a\\r\\nb path=/p\\x1b[2J}: check-stock \
             detail=NUL \\0 VT \\u{b} C1 \\u{85} LS \\u{2028} PS \\u{2029} tab \t é \u{a0}",
            "request{id=a\\r\\nb path=/p\\x1b[2J}: message from a client: \
             u1\\n2026-12-01T00:00:00.000000Z ERROR FORGED\\r\\x1b[31m",
            "request{id=a\\r\\nb path=/p\\x1b[2J}: already escaped by Debug \
             debug=\"u1\\n2026-12-01T00:00:00.000000Z ERROR FORGED\" plain=\"u1\\n2026-12-01T00:00:00.000000Z ERROR FORGED\"",
        ];
        assert_eq!(lines.len(), want.len(), "{lines:#?}");
        for (line, want) in lines.iter().zip(want) {
            let (_time, rest) = line.split_once(' ').expect("timestamp");
            let rest = rest.trim_start();
            let (_level, rest) = rest.split_once(' ').expect("level");
            assert_eq!(rest, want);
        }
    }

    #[test]
    fn ordinary_text_is_written_unchanged() {
        let mut out = String::new();
        let text = "check-stock outcome=\"success\" tab\there ünïcödé 🚀 \u{a0} \u{2027} \u{202a} \\n";
        write_escaped(&mut Writer::new(&mut out), text).expect("write");
        assert_eq!(out, text);
    }

    fn timestamp(since: Duration) -> String {
        String::from_utf8(rfc3339_micros(since).expect("in range").to_vec()).expect("ASCII")
    }

    #[test]
    fn timestamps_match_known_dates() {
        let at = |secs: u64, micros: u32| timestamp(Duration::new(secs, micros * 1000));
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(951_782_400, 1), "2000-02-29T00:00:00.000001Z");
        assert_eq!(at(1_709_164_799, 999_999), "2024-02-28T23:59:59.999999Z");
        assert_eq!(at(1_709_164_800, 0), "2024-02-29T00:00:00.000000Z");
        assert_eq!(at(1_700_000_000, 123_456), "2023-11-14T22:13:20.123456Z");
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000000Z");
        assert_eq!(at(253_402_300_799, 0), "9999-12-31T23:59:59.000000Z");
        assert!(rfc3339_micros(Duration::from_secs(253_402_300_800)).is_none());
        // Nanoseconds are truncated to microseconds, as tracing-subscriber does.
        assert_eq!(timestamp(Duration::new(0, 999_999_999)), "1970-01-01T00:00:00.999999Z");
    }

    #[test]
    fn every_day_of_four_centuries_follows_the_previous_one() {
        // Walk 1970-01-01 .. 2370-01-01 day by day against a simple calendar.
        let leap = |y: u16| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
        let month_days = |y: u16, m: u8| match m {
            2 if leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let (mut y, mut m, mut d) = (1970u16, 1u8, 1u8);
        for days in 0..146_097 {
            let date = format!("{y:04}-{m:02}-{d:02}T00:00:00.000000Z");
            assert_eq!(timestamp(Duration::from_secs(days * 86_400)), date, "day {days}");
            d += 1;
            if d > month_days(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
