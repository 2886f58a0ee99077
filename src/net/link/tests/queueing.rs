//! Deterministic tests of the queue and timing: rate, overhead, limits,
//! bufferbloat, Mahimahi traces, outages and scheduled changes.

use std::sync::Arc;
use std::time::Duration;

use super::super::{
    DropCause, LinkChange, LinkConfig, LinkModel, Rate, ScheduledChange, Trace, Verdict,
};
use super::{assert_close, cfg, ms, run};

/// Offers `count` packets of `len` bytes at `now`, returning the verdicts.
fn burst(model: &mut LinkModel, now: Duration, count: usize, len: usize) -> Vec<Verdict> {
    let mut out = Vec::new();
    for _ in 0..count {
        model.offer(now, len, &mut out);
    }
    out
}

fn delivered(verdicts: &[Verdict]) -> Vec<Duration> {
    verdicts.iter().filter_map(Verdict::delivery_time).collect()
}

#[test]
fn backlog_drains_at_rate() {
    // 8 Mbit/s = 1 byte/us: a 1000-byte packet takes exactly 1 ms.
    let mut model = LinkModel::new(cfg("rate 8mbit limit unlimited"), 1);
    let times = delivered(&burst(&mut model, Duration::ZERO, 50, 1000));
    let expected: Vec<Duration> = (1..=50).map(ms).collect();
    assert_eq!(times, expected);
    assert_eq!(model.queue_len(Duration::ZERO), (50, 50_000));
    assert_eq!(model.queue_len(Duration::from_micros(10_500)), (40, 40_000));
    assert_eq!(model.queue_len(ms(50)), (0, 0));
    // Queueing delay = backlog / rate: the 50th packet waited 49 ms + 1 ms.
    let max = model.stats().queue_delay_us.max();
    assert!((50_000..50_050).contains(&max), "max sojourn {max} us");
}

#[test]
fn overhead_counts_on_the_wire() {
    let mut model = LinkModel::new(cfg("rate 8mbit 20 limit unlimited"), 1);
    let times = delivered(&burst(&mut model, Duration::ZERO, 3, 1000));
    let us = |x| Duration::from_micros(x);
    assert_eq!(times, vec![us(1020), us(2040), us(3060)]);
}

#[test]
fn throughput_equals_rate_when_overdriven() {
    // 2x overload: 1000-byte packets every 0.5 ms into 8 Mbit/s, limit 100.
    let (runs, model) = run(
        cfg("rate 8mbit limit 100"),
        1,
        20_000,
        Duration::from_micros(500),
        1000,
    );
    let times: Vec<Duration> = runs
        .iter()
        .filter_map(|(_, v)| v[0].delivery_time())
        .collect();
    let span = (*times.last().unwrap() - times[0]).as_secs_f64();
    let bytes = (times.len() - 1) as f64 * 1000.0;
    assert_close("throughput B/s", bytes / span, 1e6, 1e6 * 1e-3);
    let s = model.stats();
    assert_close("queue drops", s.dropped_queue as f64 / 20_000.0, 0.5, 0.01);
    // Bufferbloat: the queue fills to the limit, 100 packets of 1 ms each.
    let max_ms = s.queue_delay_us.max() as f64 / 1e3;
    assert_close("max queue delay ms", max_ms, 100.0, 1.0);
}

#[test]
fn bufferbloat_grows_with_overload() {
    let (runs, _) = run(cfg("rate 8mbit"), 1, 4000, Duration::from_micros(500), 1000);
    let sojourn = |i: usize| {
        let (now, v) = &runs[i];
        (v[0].delivery_time().unwrap() - *now).as_secs_f64() * 1e3
    };
    // Arrivals at 2 kpkt/s, service 1 kpkt/s: the delay after t grows as t/2
    // until the default 1000-packet limit caps it at ~1 s.
    assert_close("delay at 0.5 s", sojourn(1000), 501.0, 1.0);
    assert_close("delay at 1.5 s", sojourn(3000), 1000.0, 2.0);
}

#[test]
fn byte_and_time_limits() {
    let mut model = LinkModel::new(cfg("rate 8mbit limit unlimited queue_bytes 10000"), 1);
    let v = burst(&mut model, Duration::ZERO, 50, 1000);
    assert_eq!(delivered(&v).len(), 10);
    assert_eq!(model.stats().dropped_queue, 40);
    assert_eq!(model.queue_len(Duration::ZERO), (10, 10_000));
    // Packet k waits k ms before transmission; waits up to 20 ms are admitted.
    let mut model = LinkModel::new(cfg("rate 8mbit limit unlimited queue_time 20ms"), 1);
    let v = burst(&mut model, Duration::ZERO, 50, 1000);
    assert_eq!(delivered(&v).len(), 21);
    assert!(v[21..].iter().all(|v| *v
        == Verdict::Drop {
            cause: DropCause::Queue
        }));
    let mut model = LinkModel::new(cfg("rate 8mbit limit 7"), 1);
    assert_eq!(
        delivered(&burst(&mut model, Duration::ZERO, 50, 1000)).len(),
        7
    );
}

fn trace_config(times: &[u64], limit: &str) -> LinkConfig {
    let text: String = times.iter().map(|t| format!("{t}\n")).collect();
    LinkConfig {
        trace: Some(Arc::new(Trace::parse(&text).unwrap())),
        rate: Some(Rate {
            bits_per_sec: 1000,
            overhead: 0,
        }), // ignored: trace wins
        ..cfg(limit)
    }
}

#[test]
fn trace_capacity_follows_trace() {
    // 5 opportunities per 20 ms period, at offsets 2, 2, 2, 9 and 20 ms.
    let config = trace_config(&[2, 2, 2, 9, 20], "limit 1000");
    let (runs, _) = run(config, 1, 40_000, Duration::from_micros(250), 1500);
    let times: Vec<Duration> = runs
        .iter()
        .filter_map(|(_, v)| v[0].delivery_time())
        .collect();
    assert!(times
        .iter()
        .all(|t| [0, 2, 9].contains(&(t.as_millis() % 20))));
    // In [1 s, 9 s) the backlog never empties: exactly 400 periods x 5.
    let window = times
        .iter()
        .filter(|t| (ms(1000)..ms(9000)).contains(t))
        .count();
    assert_eq!(window, 400 * 5);
    println!(
        "trace: {} packets of 1500 B in 8 s = 400 periods x 5 opportunities",
        window
    );
}

#[test]
fn trace_shares_and_spans_opportunities() {
    let config = trace_config(&(1..=10).collect::<Vec<_>>(), "limit unlimited");
    let mut model = LinkModel::new(config, 1);
    let small = delivered(&burst(&mut model, Duration::ZERO, 6, 500));
    assert_eq!(small, vec![ms(1), ms(1), ms(1), ms(2), ms(2), ms(2)]);
    // 2000 B fill opportunity 3 and 500 B of 4; the next 2000 B take the
    // remaining 1000 B of 4 and 1000 B of 5.
    let spanning = delivered(&burst(&mut model, Duration::ZERO, 2, 2000));
    assert_eq!(spanning, vec![ms(4), ms(5)]);
    // An idle link wastes opportunities: arrival at 20.5 ms leaves at 21 ms.
    let late = delivered(&burst(&mut model, Duration::from_micros(20_500), 1, 100));
    assert_eq!(late, vec![ms(21)]);
    // The trace wraps with period 10 ms: offsets repeat.
    let wrapped = delivered(&burst(&mut model, ms(95), 1, 100));
    assert_eq!(wrapped, vec![ms(96)]);
}

#[test]
fn outage_drops_exactly_its_window() {
    let (runs, model) = run(cfg("delay 10ms outage 1s 2s"), 1, 3000, ms(1), 100);
    for (now, v) in &runs {
        let inside = (ms(1000)..ms(2000)).contains(now);
        assert_eq!(
            v[0] == Verdict::Drop {
                cause: DropCause::Outage
            },
            inside,
            "at {now:?}"
        );
    }
    assert_eq!(model.stats().dropped_outage, 1000);
}

#[test]
fn scheduled_change_takes_effect_on_time() {
    let change: LinkChange = "delay 50ms rate 80mbit".parse().unwrap();
    let config = LinkConfig {
        schedule: vec![ScheduledChange {
            at: ms(1000),
            change: change.clone(),
        }],
        ..cfg("delay 10ms")
    };
    let (runs, model) = run(config, 1, 2000, ms(1), 1000);
    for (now, v) in &runs {
        let after = *now >= ms(1000);
        let extra = if after {
            ms(50) + Duration::from_micros(100)
        } else {
            ms(10)
        };
        assert_eq!(v[0].delivery_time(), Some(*now + extra), "at {now:?}");
    }
    let mut expected = cfg("delay 10ms");
    change.apply_to(&mut expected);
    assert_eq!(model.config().delay, expected.delay);
    assert_eq!(model.config().rate, expected.rate);
    assert_eq!(model.config().queue, expected.queue);
}

#[test]
fn scheduled_trace_starts_at_change_time() {
    let trace = Arc::new(Trace::from_millis(vec![5, 10]).unwrap());
    let change = LinkChange {
        trace: Some(Some(trace)),
        ..LinkChange::default()
    };
    let config = LinkConfig {
        schedule: vec![ScheduledChange {
            at: ms(1003),
            change,
        }],
        ..LinkConfig::default()
    };
    let mut model = LinkModel::new(config, 1);
    assert_eq!(
        delivered(&burst(&mut model, ms(1000), 1, 100)),
        vec![ms(1000)]
    );
    assert_eq!(
        delivered(&burst(&mut model, ms(1004), 1, 100)),
        vec![ms(1008)]
    );
}

#[test]
fn stats_at_the_end_count_only_what_arrived() {
    // 1 Mbit/s: a 1250-byte packet takes 10 ms; then 50 ms on the wire.
    let mut model = LinkModel::new(cfg("delay 50ms rate 1mbit"), 1);
    burst(&mut model, Duration::ZERO, 10, 1250);
    let s = model.stats_at(ms(35));
    assert_eq!(
        (s.delivered, s.in_flight_at_end, s.in_queue_at_end),
        (0, 3, 7)
    );
    assert!(s.delay_us.is_empty() && s.queue_delay_us.is_empty());
    let s = model.stats_at(ms(75));
    assert_eq!(
        (s.delivered, s.in_flight_at_end, s.in_queue_at_end),
        (2, 5, 3)
    );
    assert_eq!(s.delivered_bytes, 2500);
    assert!(s.delay_us.equivalent(s.delay_us.max(), 70_000));
    // Arrivals are settled at later offers; the verdict view still counts
    // every copy as delivered.
    burst(&mut model, ms(200), 1, 1250);
    let s = model.stats_at(ms(200));
    assert_eq!(
        (s.delivered, s.in_flight_at_end, s.in_queue_at_end),
        (10, 0, 1)
    );
    assert_eq!(model.stats().delivered, 11);
    let settled = s.delivered + s.dropped() + s.in_flight_at_end + s.in_queue_at_end;
    assert_eq!(settled, s.offered + s.duplicated);
}
