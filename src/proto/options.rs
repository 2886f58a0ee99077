//! A protocol's session options, declared as data.
//!
//! A protocol lists the keys its `[[session]]` tables may hold as
//! [`OptionDef`]s: a name, a kind (which fixes the units a user writes:
//! `"40ms"`, `"5Mbps"`, `"64KiB"`), whether it is required, and one line of
//! help. The scenario reader reads every declared key generically, with
//! file:line:column on every error, and hands the protocol typed
//! [`Options`]; the protocol's own check then judges combinations (a payload
//! that does not fit the MTU, a rate too high to simulate) and names the key
//! at fault in an [`OptionError`], which the reader places in the file.
//!
//! So the protocol layer never sees TOML, and the scenario layer never sees
//! a protocol's meaning: adding a protocol adds no code to either.

use std::collections::BTreeMap;
use std::time::Duration;

/// What a key holds, and so how it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionKind {
    /// A duration: `"40ms"`, `"2s"`.
    Duration,
    /// A bit rate: `"5Mbps"`, `"800kbit"` (bit/s).
    Bitrate,
    /// A size: `"1316"`, `"64KiB"` (bytes).
    Size,
    /// An integer within bounds (inclusive).
    Integer {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// `true` or `false`.
    Bool,
    /// One of a fixed list of words.
    Choice(&'static [&'static str]),
}

/// One key a protocol's sessions may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionDef {
    /// The key, as written in the file.
    pub key: &'static str,
    /// Its kind.
    pub kind: OptionKind,
    /// A session without it is an error.
    pub required: bool,
    /// One line for the docs and error messages (what it does, its default).
    pub help: &'static str,
}

/// A value read for a key.
#[derive(Clone, Debug, PartialEq)]
pub enum OptionValue {
    /// [`OptionKind::Duration`].
    Duration(Duration),
    /// [`OptionKind::Bitrate`], bit/s.
    Bitrate(u64),
    /// [`OptionKind::Size`], bytes.
    Size(u64),
    /// [`OptionKind::Integer`].
    Integer(i64),
    /// [`OptionKind::Bool`].
    Bool(bool),
    /// [`OptionKind::Choice`]: the word chosen.
    Choice(&'static str),
}

/// The options a session was given, by key (only keys written in the file).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options(BTreeMap<&'static str, OptionValue>);

impl Options {
    /// No options.
    pub fn new() -> Options {
        Options::default()
    }

    /// Sets `key` (builder style, for sessions made in code).
    pub fn with(mut self, key: &'static str, value: OptionValue) -> Options {
        self.0.insert(key, value);
        self
    }

    /// Sets `key`.
    pub fn insert(&mut self, key: &'static str, value: OptionValue) {
        self.0.insert(key, value);
    }

    /// The keys given, in order.
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.keys().copied()
    }

    /// The value of `key`, when written.
    pub fn get(&self, key: &str) -> Option<&OptionValue> {
        self.0.get(key)
    }

    /// A duration key.
    pub fn duration(&self, key: &str) -> Option<Duration> {
        match self.get(key)? {
            OptionValue::Duration(d) => Some(*d),
            _ => None,
        }
    }

    /// A bit rate key, bit/s.
    pub fn bitrate(&self, key: &str) -> Option<u64> {
        match self.get(key)? {
            OptionValue::Bitrate(v) => Some(*v),
            _ => None,
        }
    }

    /// A size key, bytes.
    pub fn size(&self, key: &str) -> Option<u64> {
        match self.get(key)? {
            OptionValue::Size(v) => Some(*v),
            _ => None,
        }
    }

    /// An integer key.
    pub fn integer(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            OptionValue::Integer(v) => Some(*v),
            _ => None,
        }
    }

    /// A boolean key.
    pub fn boolean(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            OptionValue::Bool(v) => Some(*v),
            _ => None,
        }
    }

    /// A choice key.
    pub fn choice(&self, key: &str) -> Option<&'static str> {
        match self.get(key)? {
            OptionValue::Choice(v) => Some(v),
            _ => None,
        }
    }
}

/// What a protocol's check knows about the rest of the scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckContext {
    /// The interfaces' MTU, bytes.
    pub mtu: usize,
    /// The run's duration, when valid.
    pub run: Option<Duration>,
    /// Whether the scenario has a `[media]` source.
    pub has_media: bool,
}

/// A protocol's objection to a session's options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError {
    /// The key at fault (the session's header when `None`).
    pub key: Option<&'static str>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl OptionError {
    /// An error about `key`.
    pub fn at(key: &'static str, message: impl Into<String>) -> OptionError {
        OptionError {
            key: Some(key),
            message: message.into(),
        }
    }

    /// An error about the session as a whole.
    pub fn session(message: impl Into<String>) -> OptionError {
        OptionError {
            key: None,
            message: message.into(),
        }
    }
}
