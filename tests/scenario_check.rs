//! The command line end to end: `run`, `validate` and `check` on small
//! scenario files, their exit codes, reports, JUnit output, baselines, and
//! the byte-identity of reports across runs with the same seed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_streamsim");

/// A fresh, empty directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streamsim-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn streamsim(args: &[&str], cwd: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the streamsim binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A 5 s scenario: TCP bulk and a UDP stream over a lossy 4 Mbit/s link.
fn scenario(name: &str, loss: &str, expect: &str) -> String {
    format!(
        r#"name = "{name}"
duration = "5s"
seed = 3

[network]
delay = "20ms"
rate = "4mbit"
queue = {{ packets = 40 }}

[network.down]
loss = "{loss}"

[[session]]
protocol = "tcp-bulk"
name = "bulk"

[[session]]
protocol = "udp-cbr"
name = "video"
bitrate = "500kbit"

[expect]
{expect}
"#
    )
}

const HOLDS: &str = r#""session.bulk.goodput" = ">= 100kbit"
"link.down.loss_rate" = "<= 50%""#;
const FAILS: &str = r#""session.bulk.goodput" = ">= 1gbit"
"link.down.loss_rate" = "<= 50%""#;

fn write(dir: &Path, file: &str, contents: &str) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn run_writes_a_report_and_same_seed_gives_identical_bytes() {
    let dir = scratch("identical");
    write(&dir, "a.toml", &scenario("ident", "2%", HOLDS));
    for out in ["one", "two"] {
        let o = streamsim(&["run", "a.toml", "--headless", "--out", out], &dir);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
    }
    for file in [
        "summary.json",
        "summary.md",
        "events.jsonl",
        "throughput.svg",
        "delay-cdf.svg",
        "queue.svg",
    ] {
        let a = std::fs::read(dir.join("one").join(file)).unwrap();
        let b = std::fs::read(dir.join("two").join(file)).unwrap();
        assert!(!a.is_empty(), "{file} is empty");
        assert!(a == b, "{file} differs between two runs with the same seed");
    }
    let o = streamsim(
        &[
            "run",
            "a.toml",
            "--headless",
            "--seed",
            "4",
            "--out",
            "three",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(0));
    let a = std::fs::read(dir.join("one/summary.json")).unwrap();
    let c = std::fs::read(dir.join("three/summary.json")).unwrap();
    assert_ne!(a, c, "another seed gives another summary");

    let summary: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(summary["schema_version"], 2);
    assert_eq!(summary["seed"], 3);
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["scenario"]["name"], "ident");
    assert_eq!(summary["scenario"]["sha256"].as_str().unwrap().len(), 64);
    let goodput = summary["metrics"]["session.bulk.goodput"]["value"]
        .as_f64()
        .unwrap();
    assert!(goodput > 1e5 && goodput < 4e6, "goodput {goodput}");
    let events = text(&std::fs::read(dir.join("one/events.jsonl")).unwrap());
    assert!(
        events
            .lines()
            .any(|l| l.contains(r#""type":"packet_drop""#)),
        "drops are logged"
    );
    assert!(
        events
            .lines()
            .any(|l| l.contains(r#""type":"retransmission""#)),
        "retransmissions are logged"
    );
    assert!(events
        .lines()
        .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn default_report_dir_and_json_output() {
    let dir = scratch("json");
    write(&dir, "a.toml", &scenario("jsonrun", "1%", HOLDS));
    let o = streamsim(&["run", "a.toml", "--json"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let printed: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is the summary");
    let written = std::fs::read(dir.join("reports/jsonrun/seed-3/summary.json")).unwrap();
    assert_eq!(o.stdout, written, "--json prints exactly summary.json");
    assert_eq!(printed["scenario"]["name"], "jsonrun");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_exit_codes() {
    let dir = scratch("codes");
    let good = write(&dir, "good.toml", &scenario("good", "1%", HOLDS));
    let bad = write(&dir, "bad.toml", &scenario("bad", "1%", FAILS));
    let invalid = write(&dir, "invalid.toml", "name = \"x\"\nduraton = \"5s\"\n");
    let code = |paths: &[&Path]| {
        let mut args = vec!["check".to_owned(), "--out".to_owned(), "out".to_owned()];
        args.extend(paths.iter().map(|p| p.display().to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = streamsim(&args, &dir);
        (o.status.code(), text(&o.stdout))
    };
    let (c, out) = code(&[&good]);
    assert_eq!(c, Some(0), "{out}");
    let (c, out) = code(&[&good, &bad]);
    assert_eq!(c, Some(1), "{out}");
    assert!(
        out.contains("session.bulk.goodput: expected >= 1gbit, actual "),
        "the failed bound is printed with both values:\n{out}"
    );
    let (c, out) = code(&[&good, &bad, &invalid]);
    assert_eq!(c, Some(2), "{out}");
    assert!(out.contains("INVALID"), "{out}");
    assert!(
        out.contains("duraton"),
        "the invalid file's error is shown:\n{out}"
    );
    let o = streamsim(&["check", "out-of-nowhere"], &dir);
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn validate_reports_errors_with_exit_2() {
    let dir = scratch("validate");
    write(&dir, "good.toml", &scenario("good", "1%", HOLDS));
    write(
        &dir,
        "typo.toml",
        "name = \"typo\"\nduration = \"5s\"\n\n[network]\ndealy = \"20ms\"\n",
    );
    let o = streamsim(&["validate", "good.toml"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = streamsim(&["validate", "good.toml", "typo.toml"], &dir);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("typo.toml:5:1:"), "{err}");
    assert!(err.contains("did you mean `delay`?"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn junit_has_one_testcase_per_expectation() {
    let dir = scratch("junit");
    write(&dir, "good.toml", &scenario("good", "1%", HOLDS));
    write(&dir, "bad.toml", &scenario("bad", "1%", FAILS));
    write(&dir, "invalid.toml", "name = 3\n");
    let o = streamsim(
        &["check", ".", "--out", "out", "--junit", "junit/result.xml"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
    let xml = std::fs::read_to_string(dir.join("junit/result.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("JUnit output is XML");
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 3, "{xml}");
    let cases = |suite: &str| -> Vec<roxmltree::Node> {
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase") && n.attribute("classname") == Some(suite))
            .collect()
    };
    // One case per expectation, and one saying whether the run completed.
    let good = cases("good");
    assert_eq!(good.len(), 3, "{xml}");
    assert!(good
        .iter()
        .all(|c| c.children().all(|k| !k.has_tag_name("failure"))));
    let bad = cases("bad");
    assert_eq!(bad.len(), 3);
    let failures: Vec<_> = bad
        .iter()
        .flat_map(|c| c.children().filter(|k| k.has_tag_name("failure")))
        .collect();
    assert_eq!(failures.len(), 1, "{xml}");
    let message = failures[0].attribute("message").unwrap();
    assert!(
        message.contains("session.bulk.goodput >= 1gbit"),
        "{message}"
    );
    let errors = doc
        .descendants()
        .filter(|n| n.has_tag_name("error"))
        .count();
    assert_eq!(errors, 1, "the invalid file is one error:\n{xml}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn baseline_flags_metrics_that_moved() {
    let dir = scratch("baseline");
    let file = write(&dir, "s.toml", &scenario("drift", "1%", HOLDS));
    let o = streamsim(&["check", "s.toml", "--out", "base"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert!(dir.join("base/drift/seed-3/summary.json").is_file());
    let o = streamsim(
        &["check", "s.toml", "--out", "now", "--baseline", "base"],
        &dir,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "unchanged scenario matches its baseline: {}",
        text(&o.stdout)
    );
    // Same name and seed, more loss: goodput and loss move far beyond 5%.
    std::fs::write(&file, scenario("drift", "5%", HOLDS)).unwrap();
    let o = streamsim(
        &[
            "check",
            "s.toml",
            "--out",
            "now",
            "--baseline",
            "base",
            "--tolerance",
            "5",
            "--junit",
            "j.xml",
        ],
        &dir,
    );
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("baseline: link.down.loss_rate moved "),
        "{out}"
    );
    assert!(
        out.contains("baseline: session.bulk.goodput moved "),
        "{out}"
    );
    let xml = std::fs::read_to_string(dir.join("j.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let baseline_case = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("testcase")
                && n.attribute("name")
                    .is_some_and(|a| a.starts_with("baseline"))
        })
        .expect("a baseline testcase");
    assert!(
        baseline_case.children().any(|k| k.has_tag_name("failure")),
        "{xml}"
    );
    // A scenario with no baseline is an error, not a pass.
    write(&dir, "other.toml", &scenario("other", "1%", HOLDS));
    let o = streamsim(
        &["check", "other.toml", "--out", "now", "--baseline", "base"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
    assert!(
        text(&o.stdout).contains("no baseline for scenario \"other\""),
        "{}",
        text(&o.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn interrupted_run_writes_an_incomplete_report() {
    let dir = scratch("interrupt");
    let long = scenario("long", "1%", HOLDS).replace("duration = \"5s\"", "duration = \"2h\"");
    write(&dir, "long.toml", &long);
    let mut child = Command::new(BIN)
        .args(["run", "long.toml", "--headless", "--out", "out"])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["complete"], false);
    let elapsed = summary["elapsed_s"].as_f64().unwrap();
    assert!(elapsed > 0.0 && elapsed < 7200.0, "{elapsed}");
    let md = std::fs::read_to_string(dir.join("out/summary.md")).unwrap();
    assert!(md.contains("INCOMPLETE"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}
