//! Errors of the link module: netem-string parse errors and trace parse errors.
//!
//! Invariant: every variant carries enough context (the offending word or
//! line and its 1-based position) to fix the input without re-reading it.

/// An error from parsing a netem-style string or a Mahimahi trace.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    /// A word that is not a keyword where a keyword is expected.
    #[error("unknown netem keyword {word:?} at word {position}{}", hint(.suggestion))]
    UnknownKeyword {
        /// The offending word.
        word: String,
        /// 1-based index of the word in the string.
        position: usize,
        /// The closest known keyword, if one is close enough.
        suggestion: Option<&'static str>,
    },
    /// A keyword whose mandatory value is missing (end of string).
    #[error("missing value after {keyword:?} at word {position}: expected {expected}")]
    MissingValue {
        /// The keyword lacking its value.
        keyword: String,
        /// 1-based index of the keyword.
        position: usize,
        /// What the value should look like.
        expected: &'static str,
    },
    /// A value that does not parse or is out of range.
    #[error("invalid value {value:?} for {keyword:?} at word {position}: expected {expected}")]
    InvalidValue {
        /// The keyword the value belongs to.
        keyword: String,
        /// The offending value.
        value: String,
        /// 1-based index of the value.
        position: usize,
        /// What the value should look like.
        expected: &'static str,
    },
    /// A keyword that is valid alone but not in this combination.
    #[error("{keyword:?} at word {position} {reason}")]
    Conflict {
        /// The keyword in conflict.
        keyword: String,
        /// 1-based index of the keyword.
        position: usize,
        /// Why the combination is rejected.
        reason: &'static str,
    },
    /// A trace line that is not a non-negative integer number of milliseconds.
    #[error("trace line {line}: invalid timestamp {text:?}: expected whole milliseconds")]
    TraceLine {
        /// 1-based line number.
        line: usize,
        /// The offending line, trimmed.
        text: String,
    },
    /// A trace timestamp smaller than the one before it.
    #[error("trace line {line}: timestamp {value} ms is earlier than the previous {previous} ms")]
    TraceOrder {
        /// 1-based line number.
        line: usize,
        /// The offending timestamp in ms.
        value: u64,
        /// The previous timestamp in ms.
        previous: u64,
    },
    /// A trace without any timestamp.
    #[error("trace has no delivery opportunities")]
    TraceEmpty,
    /// A trace whose last timestamp (its period) is zero.
    #[error("trace period is zero: the last timestamp must be positive")]
    TraceZeroPeriod,
}

fn hint(suggestion: &Option<&'static str>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean {s:?}?)"),
        None => String::new(),
    }
}
