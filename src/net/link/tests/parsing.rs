//! netem-string tests: every keyword, exact error texts, round trips and
//! robustness against arbitrary input.

use std::time::Duration;

use crate::rng::SplitMix64;

use super::super::{
    Chance, Delay, Distribution, LinkChange, LinkConfig, LinkError, LossModel, Outage, QueueLimits,
    Rate, Reorder, Trace, NETEM_DEFAULT_LIMIT,
};
use super::{cfg, ms};

fn err(text: &str) -> String {
    match text.parse::<LinkConfig>() {
        Ok(c) => panic!("{text:?} should fail, parsed {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_keyword() {
    let c = cfg(
        "delay 40ms 10ms 25% distribution normal loss random 1% 5% duplicate 2% 3% \
                 corrupt 0.5% reorder 25% 50% gap 5 rate 8mbit 20 limit 100 queue_bytes 64kib \
                 queue_time 200ms no_reorder outage 1s 2.5s",
    );
    let expected = LinkConfig {
        delay: Delay {
            latency: ms(40),
            jitter: ms(10),
            correlation: 25.0,
            distribution: Distribution::Normal,
        },
        no_reorder: true,
        loss: LossModel::Random {
            percent: 1.0,
            correlation: 5.0,
        },
        duplicate: Chance {
            percent: 2.0,
            correlation: 3.0,
        },
        corrupt: Chance {
            percent: 0.5,
            correlation: 0.0,
        },
        reorder: Some(Reorder {
            percent: 25.0,
            correlation: 50.0,
            gap: 5,
        }),
        rate: Some(Rate {
            bits_per_sec: 8_000_000,
            overhead: 20,
        }),
        trace: None,
        queue: QueueLimits {
            packets: Some(100),
            bytes: Some(65_536),
            time: Some(ms(200)),
        },
        outages: vec![Outage {
            start: ms(1000),
            end: ms(2500),
        }],
        schedule: Vec::new(),
    };
    assert_eq!(c, expected);
}

#[test]
fn loss_models_and_defaults() {
    assert_eq!(
        cfg("loss 3%").loss,
        LossModel::Random {
            percent: 3.0,
            correlation: 0.0
        }
    );
    assert_eq!(
        cfg("drop 3 25").loss,
        LossModel::Random {
            percent: 3.0,
            correlation: 25.0
        }
    );
    assert_eq!(cfg("loss gemodel 1%").loss, LossModel::gemodel(1.0));
    assert_eq!(
        cfg("loss gemodel 1% 30%").loss,
        LossModel::GilbertElliott {
            p: 1.0,
            r: 30.0,
            one_minus_h: 100.0,
            one_minus_k: 0.0
        }
    );
    assert_eq!(
        cfg("loss gemodel 1% 30% 80% 0.1%").loss,
        LossModel::GilbertElliott {
            p: 1.0,
            r: 30.0,
            one_minus_h: 80.0,
            one_minus_k: 0.1
        }
    );
    assert_eq!(cfg("loss state 2%").loss, LossModel::state(2.0));
    assert_eq!(
        cfg("loss state 2% 40% 10% 20% 1%").loss,
        LossModel::FourState {
            p13: 2.0,
            p31: 40.0,
            p32: 10.0,
            p23: 20.0,
            p14: 1.0
        }
    );
    assert_eq!(LossModel::state(2.0), cfg("loss state 2 98 0 100 0").loss);
}

#[test]
fn units_and_defaults() {
    let rate = |t: &str| cfg(t).rate.unwrap().bits_per_sec;
    assert_eq!(rate("rate 100kbit"), 100_000);
    assert_eq!(rate("rate 1.5mbit"), 1_500_000);
    assert_eq!(rate("rate 1gbit"), 1_000_000_000);
    assert_eq!(rate("rate 1mbps"), 8_000_000); // tc: bps is bytes per second
    assert_eq!(rate("rate 2kbps"), 16_000);
    assert_eq!(rate("rate 1kibit"), 1024);
    assert_eq!(rate("rate 9600"), 9600);
    assert_eq!(cfg("rate 1mbit -14").rate.unwrap().overhead, -14);
    let latency = |t: &str| cfg(t).delay.latency;
    assert_eq!(latency("delay 250us"), Duration::from_micros(250));
    assert_eq!(latency("delay 1.5s"), ms(1500));
    assert_eq!(latency("delay 100"), Duration::from_micros(100)); // tc: bare = us
    assert_eq!(latency("delay 7ns"), Duration::from_nanos(7));
    assert_eq!(cfg("").queue.packets, Some(NETEM_DEFAULT_LIMIT));
    assert_eq!(cfg("limit unlimited").queue.packets, None);
    assert_eq!(cfg("reorder 10%").reorder.unwrap().gap, 1);
    assert_eq!(cfg("delay 1ms").delay.distribution, Distribution::Uniform);
    assert_eq!(cfg("queue_bytes 96000").queue.bytes, Some(96_000));
}

#[test]
fn error_messages() {
    let cases = [
        ("delay 100ms 10ms 25% lsos 1%", "unknown netem keyword \"lsos\" at word 5 (did you mean \"loss\"?)"),
        ("delay 10ms banana", "unknown netem keyword \"banana\" at word 3"),
        ("delay", "missing value after \"delay\" at word 1: expected a time such as 40ms (units ns, us, ms, s)"),
        ("delay 4x0ms", "invalid value \"4x0ms\" for \"delay\" at word 2: expected a time such as 40ms (units ns, us, ms, s)"),
        ("loss 150%", "invalid value \"150%\" for \"loss\" at word 2: expected a percentage between 0% and 100%"),
        ("loss rnadom 1%", "invalid value \"rnadom\" for \"loss\" at word 2: expected random, gemodel, state or a percentage"),
        ("loss gemodel", "missing value after \"gemodel\" at word 2: expected a percentage between 0% and 100%"),
        ("rate 0bit", "invalid value \"0bit\" for \"rate\" at word 2: expected a positive rate such as 8mbit (units bit, kbit, mbit, gbit, bps, kbps, mbps)"),
        ("distribution gauss", "invalid value \"gauss\" for \"distribution\" at word 2: expected uniform, normal, pareto or paretonormal"),
        ("limit lots", "invalid value \"lots\" for \"limit\" at word 2: expected a packet count or \"unlimited\""),
        ("delay 1ms gap 3", "\"gap\" at word 3 requires \"reorder\" (gap specified without reorder probability)"),
        ("outage 2s 1s", "invalid value \"1s\" for \"outage\" at word 3: expected an end time later than the start"),
        ("ratee 1mbit", "unknown netem keyword \"ratee\" at word 1 (did you mean \"rate\"?)"),
    ];
    for (text, message) in cases {
        assert_eq!(err(text), message, "for {text:?}");
    }
}

#[test]
fn trace_errors() {
    let e = |t: &str| Trace::parse(t).unwrap_err().to_string();
    assert_eq!(
        e("1\n2\nabc\n"),
        "trace line 3: invalid timestamp \"abc\": expected whole milliseconds"
    );
    assert_eq!(
        e("5\n3\n"),
        "trace line 2: timestamp 3 ms is earlier than the previous 5 ms"
    );
    assert_eq!(e("\n\n"), "trace has no delivery opportunities");
    assert_eq!(
        e("0\n0\n"),
        "trace period is zero: the last timestamp must be positive"
    );
    assert_eq!(
        Trace::parse("# comment\n1\n\n 4 \n").unwrap().times_ms(),
        &[1, 4]
    );
    assert_eq!(
        Trace::from_millis(vec![3, 1]),
        Err(LinkError::TraceOrder {
            line: 2,
            value: 1,
            previous: 3
        })
    );
}

#[test]
fn round_trips() {
    let texts = [
        "",
        "limit unlimited",
        "delay 40ms 10ms distribution normal loss gemodel 1% 30% rate 8mbit limit 100",
        "delay 100ms 10ms 25% distribution pareto loss random 0.3% 1% duplicate 1% corrupt 0.1% 2%",
        "delay 1500us reorder 25% 50% gap 5 rate 1500kbit -14 queue_bytes 96000 queue_time 200ms",
        "distribution paretonormal loss state 1% 2% 3% 4% 5% no_reorder outage 1s 2s outage 5s 6500ms",
        "delay 0ms 0ms 30% loss random 0% duplicate 0% 10%",
        "delay 1234567ns rate 12345bit 7 limit 0",
    ];
    for text in texts {
        let c = cfg(text);
        let shown = c.to_string();
        assert_eq!(cfg(&shown), c, "{text:?} displayed as {shown:?}");
    }
    assert_eq!(LinkConfig::default().to_string(), "limit unlimited");
    assert_eq!(cfg("limit unlimited"), LinkConfig::default());
    assert_eq!(
        cfg("rate 8mbit delay 40ms 10ms loss gemodel 1% 30%").to_string(),
        "delay 40ms 10ms loss gemodel 1% 30% 100% 0% rate 8mbit limit 1000"
    );
}

#[test]
fn link_change_from_string() {
    let change: LinkChange = "delay 50ms loss 2% queue_time 10ms".parse().unwrap();
    assert_eq!(
        change.delay,
        Some(Delay {
            latency: ms(50),
            ..Delay::default()
        })
    );
    assert_eq!(
        change.loss,
        Some(LossModel::Random {
            percent: 2.0,
            correlation: 0.0
        })
    );
    let queue = QueueLimits {
        packets: Some(NETEM_DEFAULT_LIMIT),
        bytes: None,
        time: Some(ms(10)),
    };
    assert_eq!(change.queue, Some(queue));
    assert_eq!(
        (change.rate, change.reorder, change.trace),
        (None, None, None)
    );
    assert!("outage 1s 2s".parse::<LinkChange>().is_err());
    let full = cfg("delay 5ms rate 1mbit");
    let mut patched = LinkConfig::default();
    LinkChange::replace_with(&full).apply_to(&mut patched);
    assert_eq!(patched, full);
}

#[test]
fn odd_strings_never_panic() {
    let odd = [
        "",
        " ",
        "\t\n",
        "%",
        "%%",
        "-",
        ".",
        "..",
        "1e9",
        "delay -1ms",
        "delay 1e3ms",
        "delay 18446744073709551616s",
        "delay 99999999999999999999999s",
        "rate 1e400mbit",
        "loss",
        "loss random",
        "loss 100% 100%",
        "loss nan",
        "loss inf%",
        "loss -0%",
        "limit -1",
        "gap 99999999999",
        "reorder",
        "rate 1mbit 99999999999",
        "rate 1mbit -",
        "distribution",
        "outage 1s",
        "queue_bytes 1e99",
        "queue_time",
        "délai 10ms",
        "delay 10ms\u{0}",
        "loss gemodel 1% 2% 3% 4% 5%",
        "loss state 1 2 3 4 5 6",
    ];
    for text in odd {
        let _ = text.parse::<LinkConfig>();
        let _ = text.parse::<LinkChange>();
    }
    let vocabulary = [
        "delay",
        "loss",
        "gemodel",
        "state",
        "random",
        "rate",
        "limit",
        "gap",
        "reorder",
        "duplicate",
        "corrupt",
        "distribution",
        "normal",
        "outage",
        "queue_time",
        "queue_bytes",
        "no_reorder",
        "unlimited",
        "10ms",
        "1%",
        "0",
        "-3",
        "8mbit",
        "1.5",
        "%",
        "1e5",
        "x",
        "100%",
        "101%",
        "2s",
        "65kib",
    ];
    let mut rng = SplitMix64::new(1);
    for _ in 0..20_000 {
        let words: Vec<&str> = (0..rng.below(10))
            .map(|_| vocabulary[rng.below(vocabulary.len() as u64) as usize])
            .collect();
        let text = words.join(" ");
        if let Ok(c) = text.parse::<LinkConfig>() {
            assert_eq!(cfg(&c.to_string()), c, "round trip of {text:?}");
        }
    }
}
