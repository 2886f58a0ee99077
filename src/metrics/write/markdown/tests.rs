use super::*;
use crate::metrics::summary::Unit;
use crate::metrics::write::testdata::{expectation, failing_summary, summary};

/// The protocols' tables (the writer is given them by the caller).
const TABLES: super::SessionTables = crate::proto::metric_table;

#[test]
fn a_complete_passing_run_reads_top_to_bottom() {
    let md = summary_markdown(&summary(), TABLES);
    let expected = "\
# bulk-5mbit

TCP bulk over a 5 Mbit/s link

Seed 7 · duration 10.000 s · elapsed 10.000 s · complete · streamsim 0.1.0 · scenario sha256 `0123456789ab`

## Session `bulk` (tcp-bulk)

| metric | value | meaning |
|---|---:|---|
| `goodput` | 4.512 Mbit/s | application bytes read × 8 / time from the session's start to the last client's end of stream (or the end of the run) |
| `bytes` | 5.379 MiB | application bytes the clients read |
| `retransmissions` | 12 | segments the server's TCP retransmitted, as it counted them (smoltcp profile: tshark's count) |
| `retransmission_rate` | 0.310% | retransmissions / segments |

## Link `down`

| metric | value | meaning |
|---|---:|---|
| `offered` | 4000 | packets offered to the link |
| `throughput` | 4.700 Mbit/s | delivered bytes × 8 / elapsed time |
| `delay_p50` | 26.15 ms | one-way delay of delivered copies, median |

## Link `up`

| metric | value | meaning |
|---|---:|---|
| `offered` | 2000 | packets offered to the link |

## Expectations

2 of 2 expectations hold.

| metric | bound | actual | result |
|---|---|---:|---|
| `session.bulk.goodput` | `>= 4mbit` | 4.512 Mbit/s | PASS |
| `link.down.delay_p50` | `< 50ms` | 26.15 ms | PASS |

## Events

1234 events logged.
";
    assert_eq!(md, expected);
}

#[test]
fn failures_interruptions_and_dropped_events_stand_out() {
    let mut s = failing_summary();
    s.complete = false;
    s.elapsed_s = 4.2;
    s.events.dropped = 56;
    s.expectations.push(expectation(
        "session.bulk.startup",
        "< 1s",
        None,
        Unit::Seconds,
        false,
    ));
    let md = summary_markdown(&s, TABLES);
    assert!(
        md.contains("· **INCOMPLETE (interrupted at 4.200 s)** ·"),
        "{md}"
    );
    assert!(md.contains("**2 of 3 FAILED.**"), "{md}");
    assert!(md.contains("| `session.bulk.goodput` | `>= 5mbit` | 4.512 Mbit/s | **FAIL** |"));
    assert!(md.contains("| `session.bulk.startup` | `< 1s` | not measured | **FAIL** |"));
    assert!(md.contains("> **Warning:** 56 more events were dropped at the log cap"));
}

#[test]
fn verdicts() {
    let pass = |p| expectation("m", "b", Some(1.0), Unit::Count, p);
    assert_eq!(verdict(&[]), "The scenario sets no expectations.");
    assert_eq!(verdict(&[pass(true)]), "1 of 1 expectation holds.");
    assert_eq!(
        verdict(&[pass(true), pass(true), pass(true)]),
        "3 of 3 expectations hold."
    );
    assert_eq!(
        verdict(&[pass(true), pass(false), pass(true)]),
        "**1 of 3 FAILED.**"
    );
}

#[test]
fn a_udp_session_gets_udp_meanings_and_unknown_names_go_last() {
    let mut s = summary();
    s.metrics.clear();
    for (name, value, unit) in [
        ("session.video.goodput", 2e6, Unit::BitsPerSecond),
        ("session.video.sent", 100.0, Unit::Count),
        ("session.video.received", 99.0, Unit::Count),
        ("session.video.aaa_new", 1.0, Unit::Count),
        ("link.wan.down.offered", 3.0, Unit::Count),
        ("link.wan.offered", 5.0, Unit::Count),
        ("run.wall", 1.5, Unit::Seconds),
    ] {
        s.metrics.insert(name.to_owned(), Metric { value, unit });
    }
    s.sessions.insert(
        "video".into(),
        crate::metrics::SessionInfo {
            protocol: "udp-cbr".into(),
            server: "server".into(),
            clients: vec!["client".into()],
            errors: Vec::new(),
        },
    );
    let md = summary_markdown(&s, TABLES);
    let video = &md[md.find("## Session `video` (udp-cbr)").unwrap()..];
    let rows: Vec<&str> = video.lines().skip(4).take(4).collect();
    assert_eq!(
        rows,
        [
            "| `sent` | 100 | datagrams the server sent, counted once per client |",
            "| `received` | 99 | datagrams the clients received (duplicates excluded) |",
            "| `goodput` | 2.000 Mbit/s | payload bits received by all clients / time the stream ran |",
            "| `aaa_new` | 1 |  |",
        ]
    );
    assert!(md.contains("## Link `wan`\n"));
    assert!(md.contains("## Link `wan.down`\n"));
    assert!(md.contains("## Other metrics\n\n| metric | value | meaning |\n|---|---:|---|\n| `run.wall` | 1.500 s |  |\n"));
}

#[test]
fn scenario_text_cannot_change_the_structure() {
    let mut s = summary();
    s.scenario.name = "# evil | *name* <b>".to_owned();
    s.scenario.description = "line one\n===\n- item\n12. twelve\n    indented".to_owned();
    s.metrics.insert(
        "session.a|b`c.goodput".to_owned(),
        Metric {
            value: 1.0,
            unit: Unit::BitsPerSecond,
        },
    );
    s.expectations[0].bound = "`>= 1` | x\n".to_owned();
    let md = summary_markdown(&s, TABLES);
    assert!(md.starts_with("# \\# evil \\| \\*name\\* \\<b\\>\n\nline one\n\\===\n\\- item\n12\\. twelve\nindented\n\n"), "{md}");
    assert!(md.contains("## Session ``a|b`c``\n"), "{md}");
    assert!(md.contains("| `` `>= 1` \\| x  `` |"), "{md}");
}

#[test]
fn code_spans_and_escapes() {
    assert_eq!(code("a"), "`a`");
    assert_eq!(code("a`b"), "``a`b``");
    assert_eq!(code("`a``"), "``` `a`` ```");
    assert_eq!(code(""), "` `");
    assert_eq!(code("a\nb\tc"), "`a b c`");
    assert_eq!(cell("a|b"), "a\\|b");
    assert_eq!(text("1 < 2 & [x](y)"), "1 \\< 2 \\& \\[x\\](y)");
}

#[test]
fn catalog_lookup_by_full_name() {
    use crate::metrics::catalog;
    assert_eq!(
        catalog::meaning("link.a.b.dropped"),
        Some("copies dropped, any cause")
    );
    // Session metrics are looked up in their protocol's table.
    assert_eq!(catalog::meaning("session.x.sent"), None);
    assert_eq!(catalog::meaning("goodput"), None);
}

#[test]
fn a_failed_session_says_so_above_its_table() {
    let mut s = summary();
    s.sessions.get_mut("bulk").unwrap().errors =
        vec!["client: connect to server:5001: refused".into()];
    let md = summary_markdown(&s, TABLES);
    assert!(
        md.contains(
            "## Session `bulk` (tcp-bulk)\n\n**Failed:** client: connect to server:5001: refused\n"
        ),
        "{md}"
    );
}
