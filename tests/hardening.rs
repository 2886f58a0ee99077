//! Regressions of the hardening issue: each reproduction a careless or
//! hostile user found, and the exact message they now see, before any
//! simulation work.

use std::path::Path;

use streamsim::scenario::{load, parse_str};

/// The diagnostics `validate` prints for `text`.
fn errors(text: &str) -> String {
    match parse_str("t.toml", text, Path::new("tests")) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(d) => d.to_string(),
    }
}

fn rejects(text: &str, expected: &str) {
    assert_eq!(errors(text), expected, "for:\n{text}");
}

#[test]
fn item1_a_run_shorter_than_two_ticks_is_refused() {
    rejects(
        "name = \"a\"\nduration = \"500us\"\n",
        "t.toml:2:12: `duration` (500us) must be at least two ticks (tick 1ms): hosts start one tick in, so a shorter run runs nothing
   2 | duration = \"500us\"
     |            ^^^^^^^

1 error in t.toml",
    );
    rejects(
        "name = \"c\"\nduration = \"1s\"\ntick = \"1s\"\n",
        "t.toml:3:8: `duration` (1s) must be at least two ticks (tick 1s): hosts start one tick in, so a shorter run runs nothing
   3 | tick = \"1s\"
     |        ^^^^

1 error in t.toml",
    );
    rejects(
        "name = \"c\"\nduration = \"5s\"\ntick = \"5s\"\n",
        "t.toml:3:8: `tick` is 5s; at most 1s (timers and packets move in ticks)
   3 | tick = \"5s\"
     |        ^^^^

1 error in t.toml",
    );
}

#[test]
fn item1_a_name_too_long_for_a_directory_is_refused() {
    let text = format!("name = \"{}\"\nduration = \"1s\"\n", "x".repeat(300));
    let shown = "x".repeat(112);
    let carets = "^".repeat(113);
    rejects(
        &text,
        &format!(
            "t.toml:1:8: `name` is 300 characters long; a name has at most 100 (names become file names)
   1 | name = \"{shown}…
     |        {carets}

1 error in t.toml"
        ),
    );
}

#[test]
fn item2_values_that_make_no_physical_sense() {
    rejects(
        "name = \"d\"
duration = \"1s\"
[network]
rate = \"10mbit\"
rate_overhead = -1500
loss = 1
queue = { packets = 4294967295 }
",
        "t.toml:5:17: `rate_overhead` must be between 0 and 1000 bytes per packet, found -1500: a negative overhead would let the link carry more than its rate
   5 | rate_overhead = -1500
     |                 ^^^^^

t.toml:6:8: `loss` = 1 is ambiguous: write \"100%\" for every packet or \"1%\" for one in a hundred
   6 | loss = 1
     |        ^

t.toml:7:21: a queue of 4294967295 packets is more than the 100000 accepted: no router buffers that much (10 Gbit/s × 100 ms is about 83,000 packets), and every queued packet is held in memory
   7 | queue = { packets = 4294967295 }
     |                     ^^^^^^^^^^

3 errors in t.toml",
    );
    rejects(
        "name = \"e\"\nduration = \"1s\"\n[network]\nnetem = \"rate 1kbit 5000\"\n",
        "t.toml:4:9: `rate_overhead` must be between 0 and 1000 bytes per packet, found 5000: more than any link layer's framing (Ethernet adds 38)
   4 | netem = \"rate 1kbit 5000\"
     |         ^^^^^^^^^^^^^^^^^

1 error in t.toml",
    );
}

#[test]
fn item2_tcp_buffers_beyond_what_a_host_holds() {
    rejects(
        "name = \"b\"
duration = \"1s\"
[topology]
clients = 3
[tcp]
buffer = \"1GiB\"
[[session]]
protocol = \"tcp-bulk\"
",
        "t.toml:6:10: `buffer` is larger than the 64MiB accepted (the bandwidth-delay product of 10 Gbit/s over a 50 ms round trip); every buffer is allocated in full
   6 | buffer = \"1GiB\"
     |          ^^^^^^

1 error in t.toml",
    );
    rejects(
        "name = \"b\"
duration = \"1s\"
[topology]
clients = 20
[tcp]
buffer = \"64MiB\"
[[session]]
protocol = \"tcp-bulk\"
",
        "t.toml:7:3: the TCP buffers of this run take 5120 MiB (20 connections × 2 ends × 128 MiB), more than the 2048 MiB accepted; set a smaller `buffer` in [tcp]
   7 | [[session]]
     |   ^^^^^^^

1 error in t.toml",
    );
}

#[test]
fn item8_a_device_as_trace_or_scenario_is_refused() {
    rejects(
        "name = \"z\"\nduration = \"1s\"\n[network]\ntrace = \"/dev/zero\"\n",
        "t.toml:4:9: trace file \"/dev/zero\" is not a regular file (a device, FIFO or socket)
   4 | trace = \"/dev/zero\"
     |         ^^^^^^^^^^^

1 error in t.toml",
    );
    let d = load(Path::new("/dev/zero")).unwrap_err();
    assert_eq!(
        d.to_string(),
        "/dev/zero: the scenario file is not a regular file (a device, FIFO or socket)\n\n1 error in /dev/zero"
    );
}

#[test]
fn item8_invalid_utf8_has_a_place() {
    let dir = std::env::temp_dir().join(format!("streamsim-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("u.toml");
    std::fs::write(
        &file,
        b"name = \"u\"\nduration = \"1s\"\ndescription = \"caf\xe9 ok\"\n",
    )
    .unwrap();
    let d = load(&file).unwrap_err().to_string();
    let shown = file.display();
    assert_eq!(
        d,
        format!(
            "{shown}:3:19: invalid UTF-8 (byte 0xe9); a scenario file is UTF-8 text
   3 | description = \"caf\u{fffd} ok\"
     |                   ^

1 error in {shown}"
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn item8_a_huge_invalid_value_gives_a_short_message() {
    let value = "x".repeat(10_000_000);
    let text = format!("name = \"v\"\nduration = \"1s\"\n[network]\nloss = \"{value}\"\n");
    let d = errors(&text);
    assert!(d.len() < 1000, "{} bytes of errors", d.len());
    let word = "x".repeat(59);
    let line = "x".repeat(112);
    let carets = "^".repeat(113);
    assert_eq!(
        d,
        format!(
            "t.toml:4:8: \"{word}…\" is not a percentage; write \"1%\", \"0.5%\" or a fraction such as 0.01
   4 | loss = \"{line}…
     |        {carets}

1 error in t.toml"
        )
    );
}

/// Runs `text` in-process and returns its metrics.
fn run_metrics(text: &str) -> std::collections::BTreeMap<String, f64> {
    let scenario = parse_str("t.toml", text, Path::new("tests")).expect("valid");
    let options = streamsim::runner::RunOptions::default();
    let output = streamsim::runner::run_scenario(&scenario, "", &options, |_| {}, || false)
        .expect("the run completes");
    output
        .summary
        .metrics
        .into_iter()
        .map(|(k, m)| (k, m.value))
        .collect()
}

#[test]
fn item3_link_metrics_count_what_arrived_by_the_end() {
    // 100 Mbit/s offered to a 1 Mbit/s link for 2 s: about 185 packets get
    // through; the rest wait in the queue when the run ends.
    let m = run_metrics(
        "name = \"l1\"
duration = \"2s\"
[network.down]
rate = \"1mbit\"
queue = { packets = 100000 }
[[session]]
protocol = \"udp-cbr\"
bitrate = \"100mbit\"
stop = \"2s\"
",
    );
    let get = |k: &str| m[&format!("link.down.{k}")];
    assert_eq!(
        (get("offered"), get("delivered"), get("in_queue_at_end")),
        (18978.0, 185.0, 18793.0)
    );
    assert_eq!(get("in_flight_at_end"), 0.0);
    assert_eq!(get("delivered"), m["session.udp-cbr.received"]);
    // Delays of delivered packets only: at most the 2 s run.
    assert!(get("delay_max") < 2.0, "{}", get("delay_max"));
    // A 1 kbit/s link: one 1028-byte packet gets through in 10 s, eight
    // wait, and nothing was dropped.
    let m = run_metrics(
        "name = \"l2\"
duration = \"10s\"
[network.down]
rate = \"1kbit\"
delay = \"10ms\"
[[session]]
protocol = \"udp-cbr\"
bitrate = \"8kbit\"
payload = 1000
stop = \"9s\"
",
    );
    let get = |k: &str| m[&format!("link.down.{k}")];
    assert_eq!(
        (get("offered"), get("delivered"), get("in_queue_at_end")),
        (9.0, 1.0, 8.0)
    );
    assert_eq!((get("dropped"), get("loss_rate")), (0.0, 0.0));
}

/// CPU time this thread has used (Linux: `/proc/thread-self/stat`, in
/// clock ticks of 10 ms).
fn thread_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("Linux /proc");
    // Fields after the command name (which may hold spaces): utime and
    // stime are the 14th and 15th fields of the line.
    let rest = &stat[stat.rfind(')').expect("a command name") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// The ```toml blocks of `markdown` that are whole scenarios.
fn toml_examples(markdown: &str) -> Vec<String> {
    markdown
        .split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .filter(|block| block.contains("name = ") && block.contains("duration = "))
        .map(|block| block.replace("los = ", "loss = "))
        .collect()
}

#[test]
fn item4_every_readme_example_runs_in_under_a_second() {
    let mut examples = toml_examples(include_str!("../README.md"));
    examples.extend(toml_examples(include_str!("../scenarios/README.md")));
    assert_eq!(examples.len(), 3);
    for text in &examples {
        let started = thread_cpu_seconds();
        let m = run_metrics(text);
        let cpu = thread_cpu_seconds() - started;
        // Measured: 0.09 s, 0.38 s (the smallest scenario, a 10 s TCP
        // download over the default 100 Mbit/s LAN link) and 0.08 s. CPU
        // time, so that other work on the machine does not count.
        eprintln!("{cpu:.3} s: {}", text.lines().next().unwrap_or(""));
        assert!(cpu < 1.0, "{cpu:.2} s for:\n{text}");
        if let Some(goodput) = m.get("session.tcp-bulk.goodput") {
            assert!(*goodput < 100e6, "{goodput} bit/s over a LAN");
        }
    }
}

const BIN: &str = env!("CARGO_BIN_EXE_streamsim");

/// A fresh, empty directory for one test.
fn scratch(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("streamsim-h-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn streamsim(args: &[&str], cwd: &Path) -> std::process::Output {
    std::process::Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the streamsim binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scenario of `duration` with a small UDP stream.
fn small(name: &str, duration: &str) -> String {
    format!(
        "name = \"{name}\"\nduration = \"{duration}\"\n[network]\nrate = \"2mbit\"\n\
         [[session]]\nprotocol = \"udp-cbr\"\nbitrate = \"500kbit\"\n"
    )
}

#[test]
fn item5_junit_never_replaces_a_link_or_a_fifo() {
    let dir = scratch("junit");
    std::fs::write(dir.join("a.toml"), small("a", "2s")).unwrap();
    std::fs::write(dir.join("precious"), "keep").unwrap();
    std::os::unix::fs::symlink(dir.join("precious"), dir.join("link.xml")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(dir.join("fifo.xml"))
        .status()
        .unwrap();
    assert!(fifo.success());
    for (path, what) in [
        ("link.xml", "a symbolic link"),
        ("fifo.xml", "not a regular file (a device, FIFO or socket)"),
    ] {
        let o = streamsim(&["check", "a.toml", "--out", "out", "--junit", path], &dir);
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(
            text(&o.stderr),
            format!(
                "error: --junit: {path} is {what}; refusing to replace it (remove it or choose another path)\n"
            )
        );
        // Refused before anything ran.
        assert!(!dir.join("out").exists());
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("precious")).unwrap(),
        "keep"
    );
    assert!(std::fs::symlink_metadata(dir.join("link.xml"))
        .unwrap()
        .file_type()
        .is_symlink());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn item5_check_finds_duplicate_names_first_and_skips_directory_links() {
    let dir = scratch("dup");
    std::fs::create_dir_all(dir.join("d/sub")).unwrap();
    std::fs::write(dir.join("d/a.toml"), small("same", "2s")).unwrap();
    std::fs::write(dir.join("d/sub/b.toml"), small("same", "3s")).unwrap();
    // Two links back up: followed, they would run the files forever.
    std::os::unix::fs::symlink("..", dir.join("d/sub/up")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("d/self")).unwrap();
    let o = streamsim(&["check", "d", "--out", "out"], &dir);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("PASS    d/a.toml (same: 0 expectations, 2.0 s simulated in "));
    assert_eq!(
        lines[1],
        "ERROR   d/sub/b.toml (same): scenario name \"same\" is also used by d/a.toml; reports and baselines are kept by name, so each scenario needs its own"
    );
    assert_eq!(
        lines[2],
        "2 scenarios: 1 passed, 0 failed, 1 invalid or not run"
    );
    // The report under the name is the first file's, never overwritten.
    let summary = std::fs::read_to_string(dir.join("out/same/seed-1/summary.json")).unwrap();
    assert!(summary.contains("\"duration_s\": 2.0"), "{summary}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn item6_sigterm_and_sighup_write_an_incomplete_report() {
    let dir = scratch("term");
    std::fs::write(dir.join("long.toml"), small("long", "2h")).unwrap();
    for signal in ["-TERM", "-HUP"] {
        let out = format!("out{signal}");
        std::fs::create_dir_all(dir.join(&out)).unwrap();
        // A temporary file left by a process that is gone.
        let stale = dir.join(&out).join(".capture.pcap.tmp-999999999");
        std::fs::write(&stale, "stale").unwrap();
        let mut child = std::process::Command::new(BIN)
            .args(["run", "long.toml", "--headless", "--pcap", "--out", &out])
            .current_dir(&dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1000));
        let killed = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        assert_eq!(child.wait().unwrap().code(), Some(130), "{signal}");
        let summary = std::fs::read_to_string(dir.join(&out).join("summary.json")).unwrap();
        assert!(
            summary.contains("\"complete\": false"),
            "{signal}: {summary}"
        );
        assert!(dir.join(&out).join("capture.pcap").exists());
        assert!(
            !stale.exists(),
            "{signal}: the stale temporary file is removed"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn item10_demo_and_bench_seconds_are_bounded() {
    let dir = scratch("seconds");
    for command in ["demo", "bench"] {
        for seconds in ["18446744073709551615", "86401", "0"] {
            let o = streamsim(&[command, "--seconds", seconds], &dir);
            assert_eq!(o.status.code(), Some(2), "{command} {seconds}");
            assert_eq!(
                text(&o.stderr),
                format!("error: --seconds {seconds}: must be between 1 and 86400 (24 h, the longest run)\n")
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn item9_baselines_are_checked_not_trusted() {
    let dir = scratch("baseline");
    std::fs::write(dir.join("b.toml"), small("b", "2s")).unwrap();
    let o = streamsim(&["check", "b.toml", "--out", "base"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let path = dir.join("base/b/seed-1/summary.json");
    let original: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let shown = "base/b/seed-1/summary.json";
    type Edit<'a> = &'a dyn Fn(&mut serde_json::Value);
    let cases: [(&str, Edit, String); 4] = [
        (
            "seed",
            &|v| v["seed"] = 2.into(),
            format!("baseline {shown} cannot be compared: it was run with seed 2, not 1"),
        ),
        (
            "name",
            &|v| v["scenario"]["name"] = "other".into(),
            format!("baseline {shown} cannot be compared: it is of scenario \"other\", not \"b\""),
        ),
        (
            "value",
            &|v| v["metrics"]["link.down.loss_rate"]["value"] = 7.into(),
            format!("baseline {shown} cannot be compared: link.down.loss_rate is 7 ratio, a value no run produces"),
        ),
        (
            "unit",
            &|v| v["metrics"]["link.down.offered"]["unit"] = "B".into(),
            "baseline metric link.down.offered is in B, the run's in count: not comparable"
                .to_owned(),
        ),
    ];
    for (what, edit, message) in cases {
        let mut changed = original.clone();
        edit(&mut changed);
        std::fs::write(&path, serde_json::to_vec(&changed).unwrap()).unwrap();
        let o = streamsim(
            &["check", "b.toml", "--out", "out", "--baseline", "base"],
            &dir,
        );
        assert_eq!(o.status.code(), Some(2), "{what}");
        let first = text(&o.stdout).lines().next().unwrap_or("").to_owned();
        assert_eq!(first, format!("ERROR   b.toml (b): {message}"), "{what}");
    }
    // From 0, a move is not "+inf%".
    let mut changed = original.clone();
    changed["metrics"]["link.down.offered"]["value"] = 0.into();
    std::fs::write(&path, serde_json::to_vec(&changed).unwrap()).unwrap();
    let o = streamsim(
        &["check", "b.toml", "--out", "out", "--baseline", "base"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    assert!(
        out.contains("        baseline: link.down.offered moved 0 → 95 (from 0, tolerance ±5%)"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn item7_captures_stream_to_disk_with_the_same_bytes() {
    let dir = scratch("stream");
    let scenario = parse_str("t.toml", &small("cap", "3s"), Path::new("tests")).unwrap();
    let run = |capture_dir: Option<std::path::PathBuf>| {
        let options = streamsim::runner::RunOptions {
            capture: Some(streamsim::net::pcap::CaptureFormat::Pcap),
            capture_dir,
            ..Default::default()
        };
        streamsim::runner::run_scenario(&scenario, "", &options, |_| {}, || false).unwrap()
    };
    let in_memory = run(None);
    let streamed = run(Some(dir.clone()));
    assert!(streamed.captures.is_empty(), "nothing held in memory");
    assert_eq!(streamed.capture_files.len(), 2);
    // While the report is not written, the captures are temporary files.
    let temp = &streamed.capture_files[0].1;
    let name = temp.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(name, format!(".capture.pcap.tmp-{}", std::process::id()));
    streamsim::runner::write_report(&dir, &streamed).unwrap();
    assert!(!temp.exists());
    for (i, (host, bytes)) in in_memory.captures.iter().enumerate() {
        let file = if i == 0 {
            "capture.pcap".to_owned()
        } else {
            format!("capture-{host}.pcap")
        };
        assert_eq!(&std::fs::read(dir.join(&file)).unwrap(), bytes, "{file}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_duration_leaves_out_what_a_shorter_run_cannot_hold() {
    let dir = scratch("shorter");
    let late = format!(
        "{}start = \"5s\"\n[expect]\n\"session.udp-cbr.received\" = \">= 1\"\n",
        small("late", "10s")
    );
    std::fs::write(dir.join("late.toml"), late).unwrap();
    let o = streamsim(
        &[
            "run",
            "late.toml",
            "--duration",
            "1s",
            "--quiet",
            "--out",
            "out",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(1), "the session's bound fails");
    assert_eq!(
        text(&o.stderr),
        "warning: --duration 1s: session \"udp-cbr\" starts at 5s, after the end: it does not run\n"
    );
    let o = streamsim(
        &["run", "late.toml", "--duration", "1ms", "--out", "out"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stderr),
        "error: --duration 1ms: must be at least two ticks (tick 1ms): hosts start one tick in\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn item6_a_second_signal_leaves_no_temporary_file() {
    let dir = scratch("twice");
    std::fs::write(dir.join("long.toml"), small("long", "2h")).unwrap();
    let mut child = std::process::Command::new(BIN)
        .args(["run", "long.toml", "--headless", "--pcap", "--out", "out"])
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1000));
    // The captures stream to temporary files while the run goes on.
    let temps = || -> Vec<String> {
        std::fs::read_dir(dir.join("out"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect()
    };
    assert_eq!(temps().len(), 2, "{:?}", temps());
    for _ in 0..2 {
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert_eq!(temps(), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(&dir);
}
