//! Exact decimal numbers as written before a unit (`1.5` in `"1.5s"`).
//!
//! Invariants: no sign, no exponent, at least one digit; the integer part
//! never overflows silently; fraction digits past the twentieth are
//! dropped, far below the smallest base unit.

use super::UnitError;

/// A non-negative decimal number, exact: `int + frac / 10^frac_len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Decimal {
    pub(super) int: u128,
    pub(super) frac: u128,
    pub(super) frac_len: u32,
}

/// Fraction digits beyond this are dropped (far below any base unit).
const MAX_FRAC_DIGITS: u32 = 20;

pub(super) enum NumberError {
    Malformed,
    Negative,
    TooLarge,
}

impl Decimal {
    /// Parses `12`, `1.5`, `.5`; at least one digit, no sign, no exponent.
    pub(super) fn parse(text: &str) -> Result<Decimal, NumberError> {
        if text.starts_with('-') && text.len() > 1 && Decimal::parse(&text[1..]).is_ok() {
            return Err(NumberError::Negative);
        }
        let (int_text, frac_text) = text.split_once('.').unwrap_or((text, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_text.len() + frac_text.len() == 0 || !all_digits(int_text) || !all_digits(frac_text)
        {
            return Err(NumberError::Malformed);
        }
        let mut int: u128 = 0;
        for b in int_text.bytes() {
            int = int
                .checked_mul(10)
                .and_then(|v| v.checked_add(u128::from(b - b'0')))
                .ok_or(NumberError::TooLarge)?;
        }
        let (mut frac, mut frac_len) = (0u128, 0u32);
        for b in frac_text.bytes().take(MAX_FRAC_DIGITS as usize) {
            frac = frac * 10 + u128::from(b - b'0');
            frac_len += 1;
        }
        Ok(Decimal {
            int,
            frac,
            frac_len,
        })
    }

    /// `self × scale`, rounded half up to an integer; `None` on overflow.
    pub(super) fn scaled(self, scale: u128) -> Option<u128> {
        let whole = self.int.checked_mul(scale)?;
        let denominator = 10u128.pow(self.frac_len);
        let part = (self.frac * scale + denominator / 2) / denominator;
        whole.checked_add(part)
    }
}

/// Splits `"40 ms"` into `("40", "ms")`.
pub(super) fn split_unit(text: &str) -> (&str, &str) {
    let text = text.trim();
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(end);
    (number, unit.trim_start())
}

/// Parses a number, mapping sign and overflow errors to their messages
/// and anything malformed to `malformed()`.
pub(super) fn number_or(
    number: &str,
    text: &str,
    what: &'static str,
    example: &'static str,
    malformed: impl FnOnce() -> UnitError,
) -> Result<Decimal, UnitError> {
    Decimal::parse(number).map_err(|e| match e {
        NumberError::Malformed => malformed(),
        NumberError::Negative => UnitError::Negative {
            text: text.to_owned(),
            what,
            example,
        },
        NumberError::TooLarge => UnitError::TooLarge {
            text: text.to_owned(),
            what,
        },
    })
}
