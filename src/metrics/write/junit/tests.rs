use roxmltree::{Document, Node};

use super::*;
use crate::metrics::check::CheckOutcome;
use crate::metrics::write::testdata::{diff, failing_summary, ran, summary};

fn attr_of<'a>(node: Node<'a, '_>, name: &str) -> &'a str {
    node.attribute(name)
        .unwrap_or_else(|| panic!("<{}> has no {name}", node.tag_name().name()))
}

fn elements<'a, 'i>(node: Node<'a, 'i>, tag: &'a str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(move |n| n.has_tag_name(tag))
}

/// `(name, failure or error tag, message)` of every case of suite `index`.
fn cases(doc: &Document, index: usize) -> Vec<(String, Option<(String, String)>)> {
    let suite = elements(doc.root_element(), "testsuite")
        .nth(index)
        .unwrap();
    elements(suite, "testcase")
        .map(|case| {
            assert_eq!(attr_of(case, "classname"), attr_of(suite, "name"));
            let problem = case.children().find(|n| n.is_element()).map(|p| {
                (
                    p.tag_name().name().to_owned(),
                    attr_of(p, "message").to_owned(),
                )
            });
            (attr_of(case, "name").to_owned(), problem)
        })
        .collect()
}

fn totals<'a>(doc: &'a Document) -> [&'a str; 3] {
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    [
        attr_of(root, "tests"),
        attr_of(root, "failures"),
        attr_of(root, "errors"),
    ]
}

#[test]
fn a_passing_scenario() {
    let xml = junit_xml(&[ran("bulk", summary())], 5.0);
    let doc = Document::parse(&xml).unwrap();
    assert_eq!(totals(&doc), ["3", "0", "0"]);
    let suite = elements(doc.root_element(), "testsuite").next().unwrap();
    assert_eq!(attr_of(suite, "name"), "bulk");
    assert_eq!(attr_of(suite, "file"), "scenarios/bulk.toml");
    assert_eq!(attr_of(suite, "time"), "1.250");
    assert_eq!(attr_of(doc.root_element(), "time"), "1.250");
    let names: Vec<String> = cases(&doc, 0)
        .into_iter()
        .map(|(n, p)| {
            assert!(p.is_none());
            n
        })
        .collect();
    assert_eq!(
        names,
        [
            "session.bulk.goodput >= 4mbit",
            "link.down.delay_p50 < 50ms",
            "run complete"
        ]
    );
}

#[test]
fn failing_bounds_and_an_interrupted_run() {
    let mut interrupted = summary();
    interrupted.complete = false;
    interrupted.elapsed_s = 4.2;
    let xml = junit_xml(&[ran("a", failing_summary()), ran("b", interrupted)], 5.0);
    let doc = Document::parse(&xml).unwrap();
    assert_eq!(totals(&doc), ["6", "2", "0"]);
    assert_eq!(attr_of(doc.root_element(), "time"), "2.500");
    let failure = |msg: &str| Some(("failure".to_owned(), msg.to_owned()));
    assert_eq!(
        cases(&doc, 0)[0],
        (
            "session.bulk.goodput >= 5mbit".to_owned(),
            failure("expected session.bulk.goodput >= 5mbit, got 4.512 Mbit/s")
        )
    );
    assert_eq!(
        cases(&doc, 1)[2],
        (
            "run complete".to_owned(),
            failure("run interrupted at 4.200 s of 10.000 s")
        )
    );
    let types: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .map(|n| attr_of(n, "type"))
        .collect();
    assert_eq!(types, ["bound", "incomplete"]);
}

#[test]
fn a_baseline_that_moved() {
    let mut result = ran("bulk", summary());
    let CheckOutcome::Ran { baseline, .. } = &mut result.outcome else {
        unreachable!()
    };
    *baseline = Some(vec![
        diff("session.bulk.goodput", Some(4e6), Some(4.1e6), true),
        diff("link.down.throughput", Some(5e6), Some(4e6), false),
        diff("link.up.throughput", None, Some(1e3), false),
        diff("link.side.throughput", Some(1e3), None, false),
    ]);
    let passing = {
        let mut r = result.clone();
        let CheckOutcome::Ran {
            baseline: Some(d), ..
        } = &mut r.outcome
        else {
            unreachable!()
        };
        d.retain(|d| d.pass);
        r
    };
    let xml = junit_xml(&[result, passing], 2.5);
    let doc = Document::parse(&xml).unwrap();
    assert_eq!(totals(&doc), ["8", "1", "0"]);
    let (name, problem) = cases(&doc, 0).pop().unwrap();
    assert_eq!(name, "baseline ±2.5%");
    let expected = [
        "link.down.throughput: 5.000 Mbit/s → 4.000 Mbit/s (-20.0%)",
        "link.up.throughput: absent → 1.000 kbit/s (new metric)",
        "link.side.throughput: 1.000 kbit/s → absent (metric disappeared)",
    ];
    assert_eq!(
        problem,
        Some((
            "failure".to_owned(),
            format!("3 of 4 metrics moved beyond ±2.5%: {}", expected.join("; "))
        ))
    );
    let body = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(body, expected.join("\n"));
    assert_eq!(
        cases(&doc, 1).pop().unwrap(),
        ("baseline ±2.5%".to_owned(), None)
    );
}

#[test]
fn invalid_and_failed_scenarios_are_errors() {
    let invalid = CheckedScenario {
        file: "bad.toml".to_owned(),
        name: "bad".to_owned(),
        outcome: CheckOutcome::Invalid {
            message: "bad.toml:3:1: unknown key `foo`\nbad.toml:7:5: duration must be > 0"
                .to_owned(),
        },
    };
    let failed = CheckedScenario {
        file: "x.toml".to_owned(),
        name: "x".to_owned(),
        outcome: CheckOutcome::Error {
            message: "baseline unreadable".to_owned(),
        },
    };
    let xml = junit_xml(&[invalid, failed], 5.0);
    let doc = Document::parse(&xml).unwrap();
    assert_eq!(totals(&doc), ["2", "0", "2"]);
    let message = "bad.toml:3:1: unknown key `foo`\nbad.toml:7:5: duration must be > 0";
    assert_eq!(
        cases(&doc, 0),
        [(
            "scenario".to_owned(),
            Some(("error".to_owned(), message.to_owned()))
        )]
    );
    let error = doc.descendants().find(|n| n.has_tag_name("error")).unwrap();
    assert_eq!(attr_of(error, "type"), "invalid");
    assert_eq!(error.text(), Some(message));
    assert_eq!(
        cases(&doc, 1)[0].1,
        Some(("error".to_owned(), "baseline unreadable".to_owned()))
    );
    for suite in elements(doc.root_element(), "testsuite") {
        assert_eq!(attr_of(suite, "errors"), "1");
        assert_eq!(attr_of(suite, "time"), "0.000");
    }
}

#[test]
fn hostile_strings_survive_the_round_trip() {
    let hostile = "<a href=\"x\">&amp;'</a> ]]> \t\r\n\u{0}\u{1b}\u{7f}\u{FFFE} é😀";
    // What a parser gives back: forbidden characters replaced.
    let clean = "<a href=\"x\">&amp;'</a> ]]> \t\r\n\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD} é😀";
    let mut s = failing_summary();
    s.expectations[0].metric = hostile.to_owned();
    let mut result = ran(hostile, s);
    result.file = hostile.to_owned();
    let invalid = CheckedScenario {
        file: hostile.to_owned(),
        name: hostile.to_owned(),
        outcome: CheckOutcome::Invalid {
            message: hostile.to_owned(),
        },
    };
    let xml = junit_xml(&[result, invalid], f64::NAN);
    let doc = Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let suite = elements(doc.root_element(), "testsuite").next().unwrap();
    assert_eq!(attr_of(suite, "name"), clean);
    assert_eq!(attr_of(suite, "file"), clean);
    let first = &cases(&doc, 0)[0];
    assert_eq!(first.0, format!("{clean} >= 5mbit"));
    assert_eq!(
        first.1.as_ref().unwrap().1,
        format!("expected {clean} >= 5mbit, got 4.512 Mbit/s")
    );
    let error = doc.descendants().find(|n| n.has_tag_name("error")).unwrap();
    assert_eq!(attr_of(error, "message"), clean);
    assert_eq!(error.text(), Some(clean));
}

#[test]
fn no_scenarios_is_an_empty_document() {
    let xml = junit_xml(&[], 5.0);
    let doc = Document::parse(&xml).unwrap();
    assert_eq!(totals(&doc), ["0", "0", "0"]);
    assert_eq!(
        doc.root_element()
            .children()
            .filter(|n| n.is_element())
            .count(),
        0
    );
}

#[test]
fn equal_results_give_equal_bytes() {
    let results = [ran("a", failing_summary()), ran("b", summary())];
    assert_eq!(junit_xml(&results, 5.0), junit_xml(&results.clone(), 5.0));
}
