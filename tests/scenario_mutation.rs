//! Seeded mutation of the example scenarios, in-process.
//!
//! * The reader: at least 100,000 mutated files through `validate` find no
//!   panic, and every error carries `file:line:col`.
//! * Parity: 1,000 mutated files that `validate` accepts all run (with
//!   `run --duration 1s`) to a verdict, never to an invalid-input error.
//!
//! Mutations are the mistakes and attacks of the reproductions: values
//! swapped for extreme or mistyped ones, units changed, keys added from
//! every part of the schema, bytes inserted, deleted or flipped, lines
//! duplicated, dropped or swapped. A fixed seed makes every run test the
//! same files.

use std::path::Path;
use std::time::{Duration, Instant};

use streamsim::rng::SplitMix64;
use streamsim::runner::{run_scenario, RunOptions};
use streamsim::scenario::parse_str;

/// The scenarios mutated: every example file and every whole scenario of
/// the READMEs.
fn sources() -> Vec<String> {
    let mut out: Vec<String> = [
        include_str!("../scenarios/outage-recovery.toml"),
        include_str!("../scenarios/tcp-loss-ladder.toml"),
        include_str!("../scenarios/udp-bursty-loss.toml"),
    ]
    .map(str::to_owned)
    .to_vec();
    for markdown in [
        include_str!("../README.md"),
        include_str!("../scenarios/README.md"),
    ] {
        for block in markdown.split("```toml\n").skip(1) {
            let block = block.split("```").next().unwrap_or("");
            if block.contains("name = ") && block.contains("duration = ") {
                out.push(block.replace("los = ", "loss = "));
            }
        }
    }
    out
}

/// Values that stress the reader: wrong types, edges of every range,
/// mistyped units, huge and empty values.
const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "0.5",
    "1.0",
    "1e308",
    "-0.0",
    "nan",
    "inf",
    "4294967295",
    "18446744073709551616",
    "9223372036854775807",
    "true",
    "[]",
    "{}",
    "\"\"",
    "\" \"",
    "\"0\"",
    "\"1\"",
    "\"0s\"",
    "\"1ns\"",
    "\"500us\"",
    "\"1ms\"",
    "\"999ms\"",
    "\"2s\"",
    "\"24h\"",
    "\"25h\"",
    "\"1e9s\"",
    "\"-5ms\"",
    "\"5\"",
    "\"0%\"",
    "\"100%\"",
    "\"101%\"",
    "\"1%\"",
    "\"-1%\"",
    "\"0kbit\"",
    "\"1bit\"",
    "\"1kbit\"",
    "\"100gbit\"",
    "\"5MBps\"",
    "\"64KiB\"",
    "\"1GiB\"",
    "\"0B\"",
    "\"unlimited\"",
    "\"off\"",
    "\"reno\"",
    "\"server\"",
    "\"client\"",
    "\"down\"",
    "\"tcp-bulk\"",
    "\"udp-cbr\"",
    "\"x y\"",
    "\"../x\"",
    "\"/dev/zero\"",
    "\"../fixtures/traces/step-8-2mbit.trace\"",
    "\"../fixtures/clip.mp4\"",
    "[\"server\", \"client\"]",
    "[\"server\", \"server\"]",
    "{ packets = 0 }",
    "{ packets = 100001 }",
    "{ bytes = \"1KiB\", time = \"1ms\" }",
    "{ rate = \"1%\", gap = 0 }",
    "{ model = \"gilbert-elliott\", p = \"50%\" }",
    "{ model = \"4-state\", p13 = \"100%\" }",
    "\"delay 10ms 10ms 100% distribution pareto loss 50% rate 1kbit 1000 limit 1\"",
    "\"outage 0s 1s\"",
    "\"rate 1kbit -1\"",
];

/// Whole lines added anywhere: keys of every part of the schema.
const LINES: &[&str] = &[
    "tick = \"2ms\"",
    "tick = \"1s\"",
    "seed = 18446744073709551615",
    "duration = \"1ms\"",
    "[network]\nrate = \"1kbit\"",
    "[network.down]\nqueue = { packets = 1 }\nrate = \"10mbit\"",
    "[network.up]\nloss = \"100%\"",
    "[network]\nmtu = 576",
    "[tcp]\nbuffer = \"64MiB\"",
    "[tcp]\nack_delay = \"off\"\nnagle = true",
    "[topology]\nclients = 3",
    "[[session]]\nprotocol = \"udp-cbr\"\nbitrate = \"1mbit\"",
    "[[session]]\nprotocol = \"tcp-bulk\"\nbytes = \"10KB\"",
    "[[session]]\nprotocol = \"udp-cbr\"\nbitrate = \"1kbit\"\nstart = \"900ms\"",
    "[[schedule]]\nat = \"500ms\"\nloss = \"50%\"",
    "[[schedule]]\nat = \"0s\"\noutage = \"10s\"",
    "[expect]\n\"link.down.delivered\" = \">= 1\"",
    "[media]\nfile = \"../fixtures/clip.mp4\"",
    "[[link]]\nbetween = [\"server\", \"client\"]",
];

/// Characters inserted into the text.
const CHARS: &[char] = &[
    '"', '\'', '[', ']', '{', '}', '=', ',', '.', '#', '\n', '\t', '\\', 'é', '\u{0}', '\u{7f}',
    '0', '9', '-', '%', ' ',
];

/// A mutated copy of `text`: one to three mutations.
fn mutate(rng: &mut SplitMix64, text: &str) -> String {
    let mut out = text.to_owned();
    for _ in 0..=rng.below(3) {
        out = mutate_once(rng, &out);
    }
    out
}

fn pick<'a, T>(rng: &mut SplitMix64, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len() as u64) as usize]
}

fn mutate_once(rng: &mut SplitMix64, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let i = rng.below(lines.len() as u64) as usize;
    match rng.below(10) {
        // A value swapped: the most common mistake.
        0..=3 => {
            let Some(eq) = lines[i].find(" = ") else {
                let line = *pick(rng, LINES);
                return mutate_once(rng, &format!("{text}\n{line}"));
            };
            let value = *pick(rng, VALUES);
            lines[i] = format!("{}{value}", &lines[i][..eq + 3]);
        }
        // A digit run or a unit changed.
        4 => {
            let line = &lines[i];
            if let Some(at) = line.find(|c: char| c.is_ascii_digit()) {
                let end = line[at..]
                    .find(|c: char| !c.is_ascii_digit())
                    .map_or(line.len(), |e| at + e);
                let digits = *pick(rng, &["0", "1", "3", "999999", "4294967296", "07"]);
                lines[i] = format!("{}{digits}{}", &line[..at], &line[end..]);
            } else {
                let units = [
                    "ms", "us", "s", "h", "min", "kbit", "gbit", "bit", "%", "KiB",
                ];
                let unit = *pick(rng, &units);
                lines[i].push_str(unit);
            }
        }
        5 => lines.insert(i, (*pick(rng, LINES)).to_owned()),
        6 => {
            let copy = lines[i].clone();
            lines.insert(i, copy);
        }
        7 => {
            lines.remove(i);
        }
        8 => {
            let j = rng.below(lines.len() as u64) as usize;
            lines.swap(i, j);
        }
        // A character inserted, deleted or replaced.
        _ => {
            let chars: Vec<char> = text.chars().collect();
            let at = rng.below(chars.len() as u64 + 1) as usize;
            let mut chars = chars;
            match rng.below(3) {
                0 => chars.insert(at, *pick(rng, CHARS)),
                1 if at < chars.len() => {
                    chars.remove(at);
                }
                _ if at < chars.len() => chars[at] = *pick(rng, CHARS),
                _ => chars.push(*pick(rng, CHARS)),
            }
            return chars.into_iter().collect();
        }
    }
    let mut joined = lines.join("\n");
    joined.push('\n');
    joined
}

#[test]
fn mutated_scenarios_never_panic_and_every_error_has_a_place() {
    let sources = sources();
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut rng = SplitMix64::new(9);
    let started = Instant::now();
    let (mut accepted, mut errors) = (0u32, 0u64);
    const FILES: u32 = 100_000;
    for n in 0..FILES {
        let source = pick(&mut rng, &sources).clone();
        let text = mutate(&mut rng, &source);
        match parse_str("m.toml", &text, &base) {
            Ok(_) => accepted += 1,
            Err(diagnostics) => {
                assert!(!diagnostics.is_empty(), "file {n}: an empty error list");
                for d in &diagnostics.0 {
                    errors += 1;
                    assert!(
                        d.line >= 1 && d.column >= 1,
                        "file {n}: no line and column: {d}\n---\n{text}"
                    );
                    let shown = d.to_string();
                    assert!(shown.starts_with(&format!("m.toml:{}:{}: ", d.line, d.column)));
                    assert!(shown.len() < 2_000, "file {n}: {} bytes", shown.len());
                }
            }
        }
    }
    let wall = started.elapsed().as_secs_f64();
    eprintln!("{FILES} mutated files in {wall:.2} s: {accepted} accepted, {errors} errors");
    // Enough of both kinds to mean something.
    assert!(
        accepted > FILES / 20 && accepted < FILES * 19 / 20,
        "{accepted}"
    );
}

#[test]
fn what_validate_accepts_runs_to_a_verdict() {
    let sources = sources();
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut rng = SplitMix64::new(11);
    let started = Instant::now();
    let (mut runs, mut passed, mut slowest) = (0u32, 0u32, (0.0, String::new()));
    while runs < 1_000 {
        let source = pick(&mut rng, &sources).clone();
        let text = mutate(&mut rng, &source);
        let Ok(mut scenario) = parse_str("m.toml", &text, &base) else {
            continue;
        };
        // `run --duration 1s`; a tick of more than half a second needs two.
        let duration = Duration::from_secs(1).max(scenario.tick * 2);
        if let Err(e) = scenario.set_duration(duration) {
            panic!("--duration refused a valid file: {e}\n---\n{text}");
        }
        let one = Instant::now();
        let options = RunOptions::default();
        let output = run_scenario(&scenario, "", &options, |_| {}, || false)
            .unwrap_or_else(|e| panic!("a valid file failed to run: {e}\n---\n{text}"));
        let took = one.elapsed().as_secs_f64();
        if took > slowest.0 {
            slowest = (took, text.clone());
        }
        runs += 1;
        passed += u32::from(output.summary.passed());
    }
    let wall = started.elapsed().as_secs_f64();
    eprintln!(
        "{runs} accepted files run for 1 s in {wall:.2} s ({passed} passed their bounds); \
         slowest {:.2} s:\n{}",
        slowest.0, slowest.1
    );
}
