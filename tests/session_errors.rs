//! A session whose host cannot do its part fails visibly: the error is in
//! the summary and the event log, and the run does not pass — never a run
//! of zeros.

use std::path::Path;

use streamsim::runner::{run_scenario, RunOptions};
use streamsim::scenario::parse_str;

#[test]
fn a_server_that_cannot_listen_fails_its_session() {
    let text = r#"
name = "clash"
duration = "2s"
[[session]]
name = "a"
protocol = "tcp-bulk"
[[session]]
name = "b"
protocol = "tcp-bulk"
"#;
    let mut scenario = parse_str("t.toml", text, Path::new(".")).unwrap_or_else(|d| panic!("{d}"));
    // Validation keeps ports apart; a scenario built in code may not.
    scenario.sessions[1].port = scenario.sessions[0].port;
    let out = run_scenario(&scenario, "", &RunOptions::default(), |_| {}, || false).unwrap();
    let b = &out.summary.sessions["b"];
    assert_eq!(b.errors.len(), 1, "{b:?}");
    assert!(
        b.errors[0].starts_with("server: cannot listen on port 5001"),
        "{}",
        b.errors[0]
    );
    assert!(out.summary.sessions["a"].errors.is_empty());
    assert!(!out.summary.passed(), "a failed session fails the run");
    let logged = serde_json::to_string(&out.events).unwrap();
    assert!(logged.contains("\"type\":\"session_error\""), "{logged}");
}
