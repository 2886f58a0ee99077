//! The RTSP loss ladder end to end through the command line: its bounds
//! hold, and the same seed gives byte-identical summaries and captures.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_streamsim");
const SCENARIO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/rtsp-transports.toml"
);

fn run(out: &Path) {
    let status = Command::new("timeout")
        .args(["300", BIN, "run", SCENARIO, "--headless", "--pcap", "--out"])
        .arg(out)
        .output()
        .expect("streamsim runs");
    let err = String::from_utf8_lossy(&status.stderr);
    assert_eq!(status.status.code(), Some(0), "{err}");
}

#[test]
fn the_rtsp_ladder_holds_its_bounds_and_repeats_byte_for_byte() {
    let dir = std::env::temp_dir().join(format!("streamsim-rtsp-{}", std::process::id()));
    let (a, b) = (dir.join("a"), dir.join("b"));
    run(&a);
    run(&b);
    let read = |d: &Path, f: &str| std::fs::read(d.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    assert_eq!(read(&a, "summary.json"), read(&b, "summary.json"));
    let mut pcaps = 0;
    for entry in std::fs::read_dir(&a).expect("the report exists") {
        let name = entry
            .expect("a listing")
            .file_name()
            .into_string()
            .expect("UTF-8 names");
        if name.ends_with(".pcap") {
            assert_eq!(read(&a, &name), read(&b, &name), "{name}");
            pcaps += 1;
        }
    }
    assert!(pcaps >= 12, "{pcaps} captures");
    let summary = String::from_utf8(read(&a, "summary.json")).expect("JSON is UTF-8");
    assert!(
        summary.contains("session.nack-5.rtx_in_time"),
        "the RTSP metrics are reported"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
