//! Express path of the validator: a byte scanner for the shape Commerce sends,
//! in front of the typed [`fast`](super::fast) path.
//!
//! It reads objects whose values are plain strings (no escapes), non-negative
//! integers, `true`, `false` and `null`, and the `items` array of such
//! objects; it returns `None` at anything else (an escape, a float, a negative
//! or very long number, a nested value in an unknown field, a duplicate key, an
//! empty or unusable required value, invalid JSON…), and the fast path takes
//! over. So it only ever accepts what the fast path accepts, with the same
//! result; a property test holds it to that.
//!
//! Why it is kept: `bench/check-stock.sh` (pinned layout, alternating rounds,
//! 2026-12-04) against the same build serving with the scanner off
//! (`--no-express-scanner`, as `BASELINE_BIN`): check-stock/baseline 0.94,
//! 1.03 and 1.05 in three runs of 5, 7 and 9 rounds; the median of the 21
//! per-round ratios is 1.04. After the fast path learnt to check skipped
//! fields as strictly as serde_json: 1.07 (medians 98.3k vs 91.9k req/s, 7
//! rounds, per-round median 1.05). The project keeps a third parser only while it
//! wins by 3 % or more on that benchmark: measure again before changing it (a
//! wrapper script that runs `commerce-kit "$@" --no-express-scanner` is the
//! baseline).

use crate::request::{CartItem, CheckStockRequest, Id, MAX_SKU_BYTES, Quantity};

/// Parses and validates `bytes` when they are a check-stock body of the usual shape.
pub(crate) fn parse(bytes: &[u8]) -> Option<CheckStockRequest> {
    // Outside strings a non-ASCII byte is invalid JSON anyway, so checking the
    // whole body once is the same as checking each string.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut scanner = Scanner { text, bytes, at: 0 };
    let request = scanner.envelope()?;
    scanner.skip_whitespace();
    (scanner.at == bytes.len()).then_some(request)
}

/// A scalar value.
enum Scalar<'a> {
    /// A string without escapes.
    Str(&'a str),
    /// A non-negative integer of at most 19 digits (so it fits a `u64`).
    Int(u64),
    Null,
    /// `true`, `false`, or another number.
    Other,
}

/// The bytes that end a string without escapes: its closing quote, or what the
/// express path leaves to the fast path (a backslash, a control character).
static ENDS_PLAIN_STRING: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

struct Scanner<'a> {
    /// The body, valid UTF-8.
    text: &'a str,
    /// The same, as bytes.
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Skips whitespace, then `byte`.
    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_whitespace();
        if self.peek()? != byte {
            return None;
        }
        self.at += 1;
        Some(())
    }

    /// A string without escapes or control characters, borrowed.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let len = self
            .bytes
            .get(start..)?
            .iter()
            .position(|&b| ENDS_PLAIN_STRING[usize::from(b)])?;
        if self.bytes[start + len] != b'"' {
            return None;
        }
        self.at = start + len + 1;
        // Both ends are ASCII quotes, so they are character boundaries.
        self.text.get(start..start + len)
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    /// A JSON number. One with an exponent or of more than 300 characters
    /// is checked by serde_json (the only such numbers it refuses are those
    /// outside f64's range, `1e400`; the same code refuses them on the
    /// precise path, so the verdict is the same to the last bit), the others
    /// need no check: without an exponent, at most 300 digits are below 1e301.
    fn number(&mut self) -> Option<Scalar<'a>> {
        let first = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let start = self.at;
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        let integer = &self.bytes[start..self.at];
        let mut plain = !negative;
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return None;
            }
            plain = false;
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if self.digits() == 0 {
                return None;
            }
            plain = false;
            exponent = true;
        }
        if (exponent || self.at - first > 300) && !in_range(&self.bytes[first..self.at]) {
            return None;
        }
        if !plain || integer.len() > 19 {
            return Some(Scalar::Other);
        }
        Some(Scalar::Int(
            integer.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')),
        ))
    }

    fn literal(&mut self, word: &[u8], value: Scalar<'a>) -> Option<Scalar<'a>> {
        if !self.bytes.get(self.at..)?.starts_with(word) {
            return None;
        }
        self.at += word.len();
        Some(value)
    }

    fn scalar(&mut self) -> Option<Scalar<'a>> {
        self.skip_whitespace();
        match self.peek()? {
            b'"' => self.string().map(Scalar::Str),
            b'n' => self.literal(b"null", Scalar::Null),
            b't' => self.literal(b"true", Scalar::Other),
            b'f' => self.literal(b"false", Scalar::Other),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// An object: `member` reads the value of each key.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            member(self, key)?;
            self.skip_whitespace();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// `{"data": {...}, ...}`: exactly one `data`, other keys plain scalars.
    fn envelope(&mut self) -> Option<CheckStockRequest> {
        let mut data = None;
        self.object(|s, key| {
            // Commerce's native payload is the precise path's.
            if matches!(key, "product" | "info") {
                return None;
            }
            if key != "data" {
                return s.scalar().map(drop);
            }
            if data.is_some() {
                return None;
            }
            data = Some(s.data()?);
            Some(())
        })?;
        data
    }

    fn data(&mut self) -> Option<CheckStockRequest> {
        let mut cart_id = None;
        let mut items = None;
        self.object(|s, key| {
            match key {
                "cart_id" if cart_id.is_none() => {
                    cart_id = Some(match s.scalar()? {
                        Scalar::Str(text) if !text.is_empty() => Id::Text(text.to_owned()),
                        Scalar::Int(n) => Id::Number(n.into()),
                        _ => return None,
                    });
                }
                "items" if items.is_none() => items = Some(s.items()?),
                "cart_id" | "items" | "product" | "info" => return None,
                _ => {
                    s.scalar()?;
                }
            }
            Some(())
        })?;
        Some(CheckStockRequest {
            cart_id: Some(cart_id?),
            items: items?,
        })
    }

    fn items(&mut self) -> Option<Vec<CartItem>> {
        self.eat(b'[')?;
        let mut items = Vec::with_capacity(4);
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Some(items);
        }
        loop {
            items.push(self.item()?);
            self.skip_whitespace();
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(items);
                }
                _ => return None,
            }
        }
    }

    fn item(&mut self) -> Option<CartItem> {
        let mut item_id: Option<Option<Id>> = None;
        let mut sku = None;
        let mut qty = None;
        self.object(|s, key| {
            match key {
                "item_id" if item_id.is_none() => {
                    item_id = Some(match s.scalar()? {
                        Scalar::Null | Scalar::Str("") => None,
                        Scalar::Str(text) => Some(Id::Text(text.to_owned())),
                        Scalar::Int(n) => Some(Id::Number(n.into())),
                        Scalar::Other => return None,
                    });
                }
                "sku" if sku.is_none() => match s.scalar()? {
                    Scalar::Str(text) if !text.is_empty() && text.len() <= MAX_SKU_BYTES => sku = Some(text.to_owned()),
                    _ => return None,
                },
                "qty" if qty.is_none() => {
                    qty = Some(match s.scalar()? {
                        Scalar::Str(text) => quantity(text)?,
                        Scalar::Int(n) => Quantity::new(n as f64)?,
                        _ => return None,
                    });
                }
                "item_id" | "sku" | "qty" => return None,
                _ => {
                    s.scalar()?;
                }
            }
            Some(())
        })?;
        Some(CartItem {
            item_id: item_id.flatten(),
            sku: sku?,
            qty: qty?,
        })
    }
}

/// Whether serde_json reads `number` (a well-formed JSON number) as the
/// precise path does: `false` when it is outside f64's finite range.
#[cold]
fn in_range(number: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(number).is_ok()
}

/// [`Quantity::parse`], quicker for the plain decimals Commerce sends
/// (`"2.0000"`): at most 15 digits, so the digits and the power of ten are both
/// exact doubles and their quotient is the correctly rounded value, the same
/// as `str::parse::<f64>` gives. Anything else goes to `Quantity::parse`.
fn quantity(text: &str) -> Option<Quantity> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let plain = !whole.is_empty()
        && whole.len() + fraction.len() <= 15
        && whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit());
    if !plain {
        return Quantity::parse(text);
    }
    let digits = whole
        .bytes()
        .chain(fraction.bytes())
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    let scale = 10u64.pow(fraction.len() as u32);
    Quantity::new(digits as f64 / scale as f64)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn plain_decimals_parse_like_quantity_parse() {
        for text in [
            "2.0000",
            "1",
            "0.5",
            "2.",
            "007.250",
            "0",
            "0.0000",
            "999999999999999",
            "0.1",
            "0.3",
            "123456.789012345",
            "1234567890123456",
            ".5",
            " 2",
            "2 ",
            "+2",
            "1e3",
            "1.2.3",
            "",
            ".",
            "-1",
            "٣",
        ] {
            assert_eq!(quantity(text), Quantity::parse(text), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn any_digit_string_parses_like_quantity_parse(whole in "[0-9]{0,16}", dot in proptest::bool::ANY, fraction in "[0-9]{0,16}") {
            let text = if dot { format!("{whole}.{fraction}") } else { whole };
            prop_assert_eq!(quantity(&text), Quantity::parse(&text), "{:?}", text);
        }
    }
}
