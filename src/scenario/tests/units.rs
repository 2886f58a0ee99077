//! The unit parsers: every accepted form, and the exact message of every
//! rejected one.

use std::time::Duration;

use crate::metrics::Unit;
use crate::scenario::units::{
    fmt_duration, parse_bitrate, parse_bound, parse_duration, parse_percent, parse_ratio,
    parse_size, percent_of_float,
};
use crate::scenario::Comparison;

fn err<T: std::fmt::Debug>(result: Result<T, crate::scenario::UnitError>) -> String {
    result.expect_err("should be rejected").to_string()
}

#[test]
fn durations_in_every_unit() {
    let cases = [
        ("40ms", Duration::from_millis(40)),
        ("40 ms", Duration::from_millis(40)),
        (" 1.5s ", Duration::from_millis(1500)),
        ("2min", Duration::from_secs(120)),
        ("1h", Duration::from_secs(3600)),
        ("250us", Duration::from_micros(250)),
        ("250µs", Duration::from_micros(250)),
        ("250μs", Duration::from_micros(250)),
        ("7ns", Duration::from_nanos(7)),
        ("0.1ms", Duration::from_micros(100)),
        (".5s", Duration::from_millis(500)),
        ("0s", Duration::ZERO),
        ("1.0000000000000000000000001s", Duration::from_secs(1)),
        ("0.0000000004s", Duration::ZERO),
        ("0.0000000005s", Duration::from_nanos(1)),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_duration(text), Ok(expected), "{text}");
    }
}

#[test]
fn durations_rejected_with_their_messages() {
    let cases = [
        (
            "10 parsecs",
            r#""10 parsecs" is not a duration; write a number and a unit: "40ms", "1.5s", "2min""#,
        ),
        ("40", r#""40" has no unit; add one, e.g. "40ms" or "40s""#),
        (
            "",
            r#""" is not a duration; write a number and a unit: "40ms", "1.5s", "2min""#,
        ),
        (
            "ms",
            r#""ms" is not a duration; write a number and a unit: "40ms", "1.5s", "2min""#,
        ),
        (
            "-5ms",
            r#""-5ms" is negative; write a duration such as "40ms""#,
        ),
        (
            "nan",
            r#""nan" is not a duration; write a number and a unit: "40ms", "1.5s", "2min""#,
        ),
        (
            "inf s",
            r#""inf s" is not a duration; write a number and a unit: "40ms", "1.5s", "2min""#,
        ),
        (
            "1.2.3s",
            r#""1.2.3s" is not a duration; write a number and a unit: "40ms", "1.5s", "2min""#,
        ),
        (
            "40MS",
            r#""40MS" is not a duration; write a number and a unit: "40ms", "1.5s", "2min""#,
        ),
        (
            "+4s",
            r#""+4s" is not a duration; write a number and a unit: "40ms", "1.5s", "2min""#,
        ),
        (
            "99999999999h",
            r#""99999999999h" is too large for a duration"#,
        ),
        (
            "999999999999999999999999999999999999999999h",
            r#""999999999999999999999999999999999999999999h" is too large for a duration"#,
        ),
    ];
    for (text, message) in cases {
        assert_eq!(err(parse_duration(text)), message, "{text}");
    }
}

#[test]
fn bitrates_in_bits_and_bytes() {
    let cases = [
        ("5mbit", 5_000_000),
        ("5Mbit", 5_000_000),
        ("5Mbps", 5_000_000),
        ("5mbps", 5_000_000),
        ("5 Mbit/s", 5_000_000),
        ("5Mb/s", 5_000_000),
        ("5MBit/s", 5_000_000),
        ("500kbit", 500_000),
        ("500Kbps", 500_000),
        ("1.5Gbit", 1_500_000_000),
        ("1.5gbit", 1_500_000_000),
        ("800bit", 800),
        ("800bps", 800),
        ("800 bits/s", 800),
        ("100Bps", 800),
        ("100B/s", 800),
        ("2MBps", 16_000_000),
        ("2MB/s", 16_000_000),
        ("1.2mbit", 1_200_000),
        ("0.0015kbit", 2),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_bitrate(text), Ok(expected), "{text}");
    }
}

#[test]
fn bitrates_rejected_with_their_messages() {
    let not = |t: &str| {
        format!(
            r#""{t}" is not a bitrate; write a number and a unit: "5mbit", "500kbit", "1.5Gbit", "2MB/s""#
        )
    };
    let cases = [
        (
            "5",
            r#""5" has no unit; add one, e.g. "5mbit" or "5kbit""#.to_owned(),
        ),
        (
            "0mbit",
            r#""0mbit" is zero; a bitrate must be above 0, e.g. "500kbit""#.to_owned(),
        ),
        (
            "0.0001bit",
            r#""0.0001bit" is zero; a bitrate must be above 0, e.g. "500kbit""#.to_owned(),
        ),
        (
            "-1mbit",
            r#""-1mbit" is negative; write a bitrate such as "5mbit""#.to_owned(),
        ),
        ("5M", not("5M")),
        ("5MB", not("5MB")),
        ("5 furlongs", not("5 furlongs")),
        ("5kibit", not("5kibit")),
        ("mbit", not("mbit")),
        (
            "99999999999999Gbit",
            r#""99999999999999Gbit" is too large for a bitrate"#.to_owned(),
        ),
    ];
    for (text, message) in cases {
        assert_eq!(err(parse_bitrate(text)), message, "{text}");
    }
}

#[test]
fn sizes_in_bytes() {
    let cases = [
        ("1316", 1316),
        ("1316B", 1316),
        ("1316 bytes", 1316),
        ("64KiB", 65_536),
        ("64kib", 65_536),
        ("64KB", 64_000),
        ("64kB", 64_000),
        ("1MB", 1_000_000),
        ("1MiB", 1 << 20),
        ("1.5MB", 1_500_000),
        ("2GB", 2_000_000_000),
        ("4GiB", 4 << 30),
        ("0.5KiB", 512),
        ("0", 0),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_size(text), Ok(expected), "{text}");
    }
}

#[test]
fn sizes_rejected_with_their_messages() {
    let cases = [
        ("1.5B", r#""1.5B" is not a whole number of bytes"#),
        ("1.5", r#""1.5" is not a whole number of bytes"#),
        ("0.1KiB", r#""0.1KiB" is not a whole number of bytes"#),
        (
            "64 parsecs",
            r#""64 parsecs" is not a size; write a number of bytes or a number and a unit: "1316", "64KiB", "1MB""#,
        ),
        (
            "KiB",
            r#""KiB" is not a size; write a number of bytes or a number and a unit: "1316", "64KiB", "1MB""#,
        ),
        (
            "-1KiB",
            r#""-1KiB" is negative; write a size such as "64KiB""#,
        ),
        (
            "99999999999999GiB",
            r#""99999999999999GiB" is too large for a size"#,
        ),
    ];
    for (text, message) in cases {
        assert_eq!(err(parse_size(text)), message, "{text}");
    }
}

#[test]
fn ratios_as_percentages_and_fractions() {
    let cases = [
        ("1%", 0.01),
        ("0.5 %", 0.005),
        ("100%", 1.0),
        ("0%", 0.0),
        ("0.01", 0.01),
        ("1", 1.0),
        ("0", 0.0),
        ("7%", 0.07),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_ratio(text), Ok(expected), "{text}");
    }
    // Percentages for link settings are exactly what was written.
    assert_eq!(parse_percent("7%"), Ok(7.0));
    assert_eq!(parse_percent("0.07"), Ok(7.0));
    assert_eq!(parse_percent("0.1 %"), Ok(0.1));
    assert_eq!(percent_of_float("1e-2"), Ok(1.0));
    assert_eq!(percent_of_float("0.25"), Ok(25.0));
}

#[test]
fn ratios_rejected_with_their_messages() {
    let cases = [
        (
            "150%",
            r#""150%" is out of range; a percentage is between 0% and 100%"#,
        ),
        (
            "-1%",
            r#""-1%" is out of range; a percentage is between 0% and 100%"#,
        ),
        (
            "-0.5",
            r#""-0.5" is out of range; a percentage is between 0% and 100%"#,
        ),
        (
            "5",
            r#""5" is more than 1; a plain number is a fraction (0.05 is 5%), so write "5%" for a percentage"#,
        ),
        (
            "250",
            r#""250" is out of range; a percentage is between 0% and 100%"#,
        ),
        (
            "lots",
            r#""lots" is not a percentage; write "1%", "0.5%" or a fraction such as 0.01"#,
        ),
        (
            "%",
            r#""%" is not a percentage; write "1%", "0.5%" or a fraction such as 0.01"#,
        ),
        (
            "1 %%",
            r#""1 %%" is not a percentage; write "1%", "0.5%" or a fraction such as 0.01"#,
        ),
    ];
    for (text, message) in cases {
        assert_eq!(err(parse_ratio(text)), message, "{text}");
    }
    assert_eq!(
        err(percent_of_float("inf")),
        r#""inf" is not a percentage; write "1%", "0.5%" or a fraction such as 0.01"#
    );
    assert_eq!(
        err(percent_of_float("1e3")),
        r#""1e3" is out of range; a percentage is between 0% and 100%"#
    );
}

#[test]
fn bounds_in_each_unit() {
    let cases = [
        (
            ">= 1.2mbit",
            Unit::BitsPerSecond,
            Comparison::AtLeast,
            1_200_000.0,
        ),
        (
            ">=1.2mbit",
            Unit::BitsPerSecond,
            Comparison::AtLeast,
            1_200_000.0,
        ),
        (">= 0bit", Unit::BitsPerSecond, Comparison::AtLeast, 0.0),
        ("< 60ms", Unit::Seconds, Comparison::Below, 0.06),
        ("<= 1.2%", Unit::Ratio, Comparison::AtMost, 0.012),
        ("<= 0.5", Unit::Ratio, Comparison::AtMost, 0.5),
        ("> 10MB", Unit::Bytes, Comparison::Above, 10_000_000.0),
        ("> 1316", Unit::Bytes, Comparison::Above, 1316.0),
        ("== 0", Unit::Count, Comparison::Equal, 0.0),
        ("  <  2.5 ", Unit::Count, Comparison::Below, 2.5),
    ];
    for (text, unit, comparison, value) in cases {
        assert_eq!(parse_bound(text, unit), Ok((comparison, value)), "{text}");
    }
}

#[test]
fn bounds_rejected_with_their_messages() {
    let cases = [
        (
            "1.2mbit",
            Unit::BitsPerSecond,
            r#""1.2mbit" has no comparison; start with one of >=, >, <=, <, ==, e.g. ">= 1.2mbit""#,
        ),
        (
            "=> 1.2mbit",
            Unit::BitsPerSecond,
            r#""=> 1.2mbit" starts with "=>", which is not a comparison; use one of >=, >, <=, <, =="#,
        ),
        (
            "= 3",
            Unit::Count,
            r#""= 3" starts with "=", which is not a comparison; use one of >=, >, <=, <, =="#,
        ),
        (
            ">=",
            Unit::Seconds,
            r#"">=" has no value after ">="; write e.g. ">= 40ms""#,
        ),
        (
            ">= 5ms",
            Unit::BitsPerSecond,
            r#""5ms" is a duration, but the metric is a bitrate; write a bitrate such as "5mbit""#,
        ),
        (
            "< 5mbit",
            Unit::Seconds,
            r#""5mbit" is a bitrate, but the metric is a duration; write a duration such as "40ms""#,
        ),
        (
            "< 5%",
            Unit::Count,
            r#""5%" is a percentage, but the metric is a count; write a count such as "3""#,
        ),
        (
            "< 5MB",
            Unit::BitsPerSecond,
            r#""5MB" is a size, but the metric is a bitrate; write a bitrate such as "5mbit""#,
        ),
        (
            "> 5ms",
            Unit::Ratio,
            r#""5ms" is a duration, but the metric is a percentage; write a percentage such as "1%""#,
        ),
        (
            "< 5",
            Unit::Seconds,
            r#""5" has no unit; add one, e.g. "5ms" or "5s""#,
        ),
        (
            "< many",
            Unit::Count,
            r#""many" is not a count; write a plain number such as 3"#,
        ),
        (
            "> -1",
            Unit::Count,
            r#""-1" is negative; write a count such as "3""#,
        ),
    ];
    for (text, unit, message) in cases {
        assert_eq!(err(parse_bound(text, unit)), message, "{text}");
    }
}

#[test]
fn durations_print_exactly() {
    let cases = [
        (Duration::ZERO, "0s"),
        (Duration::from_secs(30), "30s"),
        (Duration::from_secs(120), "2min"),
        (Duration::from_secs(7200), "2h"),
        (Duration::from_millis(1500), "1500ms"),
        (Duration::from_nanos(1_000_500), "1000500ns"),
    ];
    for (d, text) in cases {
        assert_eq!(fmt_duration(d), text);
        assert_eq!(parse_duration(text), Ok(d));
    }
}
