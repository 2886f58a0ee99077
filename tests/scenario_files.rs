//! Scenario files as a user writes them: for every class of mistake, the
//! exact text the user sees; for valid files, the exact `Scenario`.
//!
//! Relative paths resolve against `tests/`, so `../fixtures/...` names the
//! committed fixtures the way a scenario in a sibling directory would.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use streamsim::metrics::Unit;
use streamsim::net::link::{
    Chance, Delay, Distribution, LinkChange, LinkConfig, LossModel, Outage, QueueLimits, Rate,
    Reorder, ScheduledChange, Trace,
};
use streamsim::net::tcp::CongestionKind;
use streamsim::net::{HostTcp, TcpProfile};
use streamsim::proto::{OptionValue, Options};
use streamsim::scenario::{
    load, parse_str, Comparison, Diagnostics, Expectation, MediaSpec, Scenario, SessionSpec,
};

const TRACE: &str = "tests/../fixtures/traces/step-8-2mbit.trace";
const CLIP: &str = "tests/../fixtures/clip.mp4";

fn parse(text: &str) -> Result<Scenario, Diagnostics> {
    parse_str("t.toml", text, Path::new("tests"))
}

/// Asserts that `text` is rejected with exactly `expected`.
#[track_caller]
fn rejects(text: &str, expected: &str) {
    match parse(text) {
        Ok(s) => panic!("accepted: {s:#?}"),
        Err(d) => {
            let shown = d.to_string();
            assert!(
                shown == expected,
                "shown:\n{shown}\n\nexpected:\n{expected}"
            );
        }
    }
}

#[track_caller]
fn accepts(text: &str) -> Scenario {
    parse(text).unwrap_or_else(|d| panic!("rejected:\n{d}"))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

// ---- unknown keys ----------------------------------------------------------

#[test]
fn unknown_top_level_key_with_suggestion() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\nseeed = 3\n",
        "t.toml:3:1: unknown key `seeed` at the top level; did you mean `seed`?
   3 | seeed = 3
     | ^^^^^

1 error in t.toml",
    );
}

#[test]
fn unknown_network_key_with_suggestion() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[network]\ndealy = \"25ms\"\n",
        "t.toml:4:1: unknown key `dealy` in [network]; did you mean `delay`?
   4 | dealy = \"25ms\"
     | ^^^^^

1 error in t.toml",
    );
}

#[test]
fn unknown_direction_key_with_suggestion() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[network.down]\nrat = \"5mbit\"\n",
        "t.toml:4:1: unknown key `rat` in [network.down]; did you mean `rate`?
   4 | rat = \"5mbit\"
     | ^^^

1 error in t.toml",
    );
}

#[test]
fn unknown_session_key_with_suggestion() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[[session]]\nprotocol = \"tcp-bulk\"\nstrat = \"1s\"\n",
        "t.toml:5:1: unknown key `strat` in [[session]]; did you mean `start`?
   5 | strat = \"1s\"
     | ^^^^^

1 error in t.toml",
    );
}

#[test]
fn unknown_schedule_key_with_suggestion() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[[schedule]]\nat = \"5s\"\nloss = \"5%\"\ndirektion = \"up\"\n",
        "t.toml:6:1: unknown key `direktion` in [[schedule]]; did you mean `direction`?
   6 | direktion = \"up\"
     | ^^^^^^^^^

1 error in t.toml",
    );
}

#[test]
fn unknown_loss_table_key_with_suggestion() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[network]\nloss = { model = \"random\", rate = \"1%\", corelation = \"25%\" }\n",
        "t.toml:4:41: unknown key `corelation` in the `loss` table in [network]; did you mean `correlation`?
   4 | loss = { model = \"random\", rate = \"1%\", corelation = \"25%\" }
     |                                         ^^^^^^^^^^

1 error in t.toml",
    );
}

#[test]
fn unknown_key_without_a_close_one_lists_the_keys() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[tcp]\nwindow = \"1MiB\"\n",
        "t.toml:4:1: unknown key `window` in [tcp]; expected one of: profile, congestion, buffer, rx_buffer, tx_buffer, ack_delay, nagle, hystart, prr, timestamps, sack, rack, min_rto, max_rto, initial_window, ack_every, time_wait, mss
   4 | window = \"1MiB\"
     | ^^^^^^

1 error in t.toml",
    );
}

#[test]
fn a_key_of_another_table_says_where_it_belongs() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[network.up]\nmtu = 1400\n",
        "t.toml:4:1: `mtu` is the same on every link; set it once in [network]
   4 | mtu = 1400
     | ^^^

1 error in t.toml",
    );
}

#[test]
fn unknown_enum_values_suggest_the_closest() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[tcp]\ncongestion = \"cubik\"\n[network]\ndistribution = \"paretonormall\"\n",
        "t.toml:4:14: unknown congestion control \"cubik\"; did you mean \"cubic\"?
   4 | congestion = \"cubik\"
     |              ^^^^^^^

t.toml:6:16: unknown distribution \"paretonormall\"; did you mean \"paretonormal\"?
   6 | distribution = \"paretonormall\"
     |                ^^^^^^^^^^^^^^^

2 errors in t.toml",
    );
}

// ---- values ------------------------------------------------------------------

#[test]
fn wrong_type_says_what_was_expected_and_found() {
    rejects(
        "name = \"t\"\nduration = 30\n[network]\nno_reorder = \"yes\"\n",
        "t.toml:2:12: expected a duration string like \"40ms\", found integer 30; add a unit: \"30ms\" or \"30s\"
   2 | duration = 30
     |            ^^

t.toml:4:14: expected true or false, found string \"yes\"
   4 | no_reorder = \"yes\"
     |              ^^^^^

2 errors in t.toml",
    );
}

#[test]
fn bad_unit_value_names_it_and_shows_what_is_accepted() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[network]\ndelay = \"10 parsecs\"\nrate = \"5\"\n",
        "t.toml:4:9: \"10 parsecs\" is not a duration; write a number and a unit: \"40ms\", \"1.5s\", \"2min\"
   4 | delay = \"10 parsecs\"
     |         ^^^^^^^^^^^^

t.toml:5:8: \"5\" has no unit; add one, e.g. \"5mbit\" or \"5kbit\"
   5 | rate = \"5\"
     |        ^^^

2 errors in t.toml",
    );
}

#[test]
fn percentage_out_of_range() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[network]\nloss = \"150%\"\nduplicate = 5\n",
        "t.toml:4:8: \"150%\" is out of range; a percentage is between 0% and 100%
   4 | loss = \"150%\"
     |        ^^^^^^

t.toml:5:13: \"5\" is more than 1; a plain number is a fraction (0.05 is 5%), so write \"5%\" for a percentage
   5 | duplicate = 5
     |             ^

2 errors in t.toml",
    );
}

#[test]
fn missing_required_keys_point_at_their_table() {
    rejects(
        "description = \"no name\"\n[[session]]\nclients = 1\n",
        "t.toml:1:1: missing required key `name` at the top level
   1 | description = \"no name\"
     | ^

t.toml:1:1: missing required key `duration` at the top level
   1 | description = \"no name\"
     | ^

t.toml:2:1: missing required key `protocol` in [[session]]
   2 | [[session]]
     | ^^^^^^^^^^^

3 errors in t.toml",
    );
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[[session]]\nprotocol = \"udp-cbr\"\n",
        "t.toml:3:1: missing required key `bitrate` in [[session]] (udp-cbr sends at it)
   3 | [[session]]
     | ^^^^^^^^^^^

1 error in t.toml",
    );
}

#[test]
fn invalid_names_and_times() {
    rejects(
        "name = \"my run\"\nduration = \"25h\"\ntick = \"1.5ms\"\n",
        "t.toml:1:8: \"my run\" is not a valid `name`: use only letters, digits, `-`, `_` and `.` (not first)
   1 | name = \"my run\"
     |        ^^^^^^^^

t.toml:2:12: `duration` is longer than the longest run (24h)
   2 | duration = \"25h\"
     |            ^^^^^

t.toml:3:8: `tick` must be a whole number of milliseconds, found 1500us
   3 | tick = \"1.5ms\"
     |        ^^^^^^^

3 errors in t.toml",
    );
}

#[test]
fn link_settings_that_contradict_or_do_not_parse() {
    rejects(
        "name = \"t\"
duration = \"30s\"
[network]
netem = \"delay 20ms lose 1%\"
rate = \"5mbit\"
trace = \"../fixtures/traces/step-8-2mbit.trace\"
queue = { packets = 0, size = \"64KiB\" }
loss = { model = \"gilbert\", p = \"1%\" }
",
        "t.toml:4:9: invalid netem string: unknown netem keyword \"lose\" at word 3 (did you mean \"loss\"?)
   4 | netem = \"delay 20ms lose 1%\"
     |         ^^^^^^^^^^^^^^^^^^^^

t.toml:6:1: `rate` and `trace` both set the capacity; keep one (a trace replaces the rate)
   6 | trace = \"../fixtures/traces/step-8-2mbit.trace\"
     | ^^^^^

t.toml:7:21: `packets` must be between 1 and 4294967295, found 0
   7 | queue = { packets = 0, size = \"64KiB\" }
     |                     ^

t.toml:7:24: unknown key `size` in the `queue` table in [network]; expected one of: packets, bytes, time
   7 | queue = { packets = 0, size = \"64KiB\" }
     |                        ^^^^

t.toml:8:18: unknown loss model \"gilbert\"; expected one of: random, gilbert-elliott, 4-state
   8 | loss = { model = \"gilbert\", p = \"1%\" }
     |                  ^^^^^^^^^

5 errors in t.toml",
    );
}

// ---- sessions and topology -----------------------------------------------------

#[test]
fn unknown_protocol_suggests_and_lists_what_runs() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[[session]]\nprotocol = \"tcp-bluk\"\n[[session]]\nprotocol = \"hls\"\n",
        "t.toml:4:12: unknown protocol \"tcp-bluk\" (this version runs: udp-ts, rtsp, tcp-bulk, udp-cbr); did you mean \"tcp-bulk\"?
   4 | protocol = \"tcp-bluk\"
     |            ^^^^^^^^^^

t.toml:6:12: unknown protocol \"hls\" (this version runs: udp-ts, rtsp, tcp-bulk, udp-cbr)
   6 | protocol = \"hls\"
     |            ^^^^^

2 errors in t.toml",
    );
}

const HOSTS: &str = "name = \"t\"
duration = \"30s\"
[topology]
hosts = [\"origin\", \"edge\", \"viewer\"]
[[link]]
between = [\"origin\", \"edge\"]
[[link]]
between = [\"edge\", \"viewer\"]
";

#[test]
fn unknown_host() {
    rejects(
        &format!("{HOSTS}[[session]]\nprotocol = \"tcp-bulk\"\nserver = \"orign\"\nclients = [\"edge\", \"phone\"]\n"),
        "t.toml:11:10: unknown host \"orign\"; did you mean \"origin\"?
  11 | server = \"orign\"
     |          ^^^^^^^

1 error in t.toml",
    );
    rejects(
        &format!("{HOSTS}[[session]]\nprotocol = \"tcp-bulk\"\nserver = \"origin\"\nclients = [\"edge\", \"phone\"]\n"),
        "t.toml:12:20: unknown host \"phone\"; the hosts are: origin, edge, viewer
  12 | clients = [\"edge\", \"phone\"]
     |                    ^^^^^^^

1 error in t.toml",
    );
}

#[test]
fn client_not_linked_to_its_server() {
    rejects(
        &format!("{HOSTS}[[session]]\nprotocol = \"tcp-bulk\"\nserver = \"origin\"\nclients = [\"viewer\"]\n"),
        "t.toml:12:12: client \"viewer\" is not linked to server \"origin\"; add a [[link]] with between = [\"origin\", \"viewer\"]
  12 | clients = [\"viewer\"]
     |            ^^^^^^^^

1 error in t.toml",
    );
}

#[test]
fn duplicate_names() {
    rejects(
        "name = \"t\"
duration = \"30s\"
[topology]
hosts = [\"a\", \"b\", \"a\"]
[[link]]
name = \"ab\"
between = [\"a\", \"b\"]
[[link]]
name = \"ab\"
between = [\"b\", \"a\"]
[[session]]
protocol = \"tcp-bulk\"
server = \"a\"
name = \"bulk\"
[[session]]
protocol = \"tcp-bulk\"
server = \"a\"
name = \"bulk\"
",
        "t.toml:4:20: duplicate host name \"a\" (first on line 4)
   4 | hosts = [\"a\", \"b\", \"a\"]
     |                    ^^^

t.toml:9:8: duplicate link name \"ab\" (first on line 7)
   9 | name = \"ab\"
     |        ^^^^

t.toml:18:8: duplicate session name \"bulk\" (first on line 14)
  18 | name = \"bulk\"
     |        ^^^^^^

3 errors in t.toml",
    );
}

#[test]
fn topology_cross_checks() {
    rejects(
        "name = \"t\"
duration = \"30s\"
[topology]
clients = 2
hosts = [\"a\", \"b\"]
[[link]]
between = [\"a\", \"b\"]
[[link]]
between = [\"b\", \"a\"]
[[link]]
between = [\"a\", \"a\"]
",
        "t.toml:4:1: `clients` and `hosts` cannot both be given: with `hosts`, [[link]] entries say which host is a client
   4 | clients = 2
     | ^^^^^^^

t.toml:9:11: \"b\" and \"a\" are already linked (line 7); give each pair of hosts one link
   9 | between = [\"b\", \"a\"]
     |           ^^^^^^^^^^

t.toml:11:11: `between` links \"a\" to itself; name two different hosts
  11 | between = [\"a\", \"a\"]
     |           ^^^^^^^^^^

3 errors in t.toml",
    );
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[[link]]\nbetween = [\"server\", \"client\"]\n",
        "t.toml:3:1: [[link]] needs `hosts` in [topology]; without `hosts`, links are implicit (one per client)
   3 | [[link]]
     | ^^^^^^^^

1 error in t.toml",
    );
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[topology]\nhosts = [\"a\", \"b\"]\n",
        "t.toml:4:1: with `hosts`, declare the links with [[link]] entries (between = [\"server-side\", \"client-side\"])
   4 | hosts = [\"a\", \"b\"]
     | ^^^^^

1 error in t.toml",
    );
}

#[test]
fn session_cross_checks() {
    rejects(
        "name = \"t\"
duration = \"30s\"
[[session]]
protocol = \"tcp-bulk\"
start = \"10s\"
stop = \"5s\"
port = 7000
bitrate = \"1mbit\"
[[session]]
protocol = \"udp-cbr\"
bitrate = \"1mbit\"
port = 7000
payload = \"1500B\"
stop = \"31s\"
",
        "t.toml:6:8: `stop` is 5s, not after `start` (10s)
   6 | stop = \"5s\"
     |        ^^^^

t.toml:8:1: `bitrate` applies to udp-cbr sessions only
   8 | bitrate = \"1mbit\"
     | ^^^^^^^

t.toml:12:8: port 7000 is already used by session \"tcp-bulk\" (line 7)
  12 | port = 7000
     |        ^^^^

t.toml:13:11: `payload` of 1500 bytes does not fit one packet at mtu 1500 (at most 1472 bytes; packets are not fragmented)
  13 | payload = \"1500B\"
     |           ^^^^^^^

t.toml:14:8: `stop` is 31s, after the end of the run (30s)
  14 | stop = \"31s\"
     |        ^^^^^

5 errors in t.toml",
    );
}

#[test]
fn session_tables_and_defaults_that_do_not_fit() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[session]\nprotocol = \"tcp-bulk\"\n",
        "t.toml:3:1: expected [[session]] (an array of tables), found a table
   3 | [session]
     | ^^^^^^^^^

1 error in t.toml",
    );
    rejects(
        &format!("{HOSTS}[[session]]\nprotocol = \"tcp-bulk\"\n[[session]]\nprotocol = \"tcp-bulk\"\nserver = \"edge\"\nclients = 3\n"),
        "t.toml:9:1: this session has no `server` and there is no host named \"server\"; set `server` to one of: origin, edge, viewer
   9 | [[session]]
     | ^^^^^^^^^^^

t.toml:14:11: `clients` = 3, but only 2 hosts are linked to server \"edge\"
  14 | clients = 3
     |           ^

2 errors in t.toml",
    );
}

#[test]
fn unknown_keys_in_links_and_their_directions() {
    rejects(
        &format!("{HOSTS}bandwidth = \"5mbit\"\n[link.up]\njiter = \"1ms\"\n"),
        "t.toml:9:1: unknown key `bandwidth` in [[link]]; expected one of: between, name, netem, delay, jitter, jitter_correlation, distribution, no_reorder, loss, duplicate, corrupt, reorder, rate, rate_overhead, queue, trace, down, up
   9 | bandwidth = \"5mbit\"
     | ^^^^^^^^^

t.toml:11:1: unknown key `jiter` in [link.up]; did you mean `jitter`?
  11 | jiter = \"1ms\"
     | ^^^^^

2 errors in t.toml",
    );
}

// ---- files ---------------------------------------------------------------------

#[test]
fn missing_trace_file() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[network.down]\ntrace = \"../fixtures/traces/nope.trace\"\n",
        "t.toml:4:9: cannot read trace file \"tests/../fixtures/traces/nope.trace\": No such file or directory (os error 2)
   4 | trace = \"../fixtures/traces/nope.trace\"
     |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^

1 error in t.toml",
    );
}

#[test]
fn a_file_that_is_not_a_trace() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[network]\ntrace = \"../fixtures/README.md\"\n",
        "t.toml:4:9: trace file \"tests/../fixtures/README.md\" is not a Mahimahi trace: trace line 3: invalid timestamp \"Small committed inputs, each reproducible from a committed script.\": expected whole milliseconds
   4 | trace = \"../fixtures/README.md\"
     |         ^^^^^^^^^^^^^^^^^^^^^^^

1 error in t.toml",
    );
}

#[test]
fn missing_media_file() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[media]\nfile = \"../fixtures/nope.mp4\"\n",
        "t.toml:4:8: cannot read media file \"tests/../fixtures/nope.mp4\": No such file or directory (os error 2)
   4 | file = \"../fixtures/nope.mp4\"
     |        ^^^^^^^^^^^^^^^^^^^^^^

1 error in t.toml",
    );
}

// ---- schedule ------------------------------------------------------------------

#[test]
fn schedule_at_or_after_the_end() {
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[[schedule]]\nat = \"30s\"\nloss = \"5%\"\n",
        "t.toml:4:6: `at` is 30s, not before the end of the run (30s); a change must come before it
   4 | at = \"30s\"
     |      ^^^^^

1 error in t.toml",
    );
}

#[test]
fn schedule_cross_checks() {
    rejects(
        &format!("{HOSTS}[[schedule]]\nat = \"5s\"\nlink = \"origin-egde\"\nloss = \"1%\"\n[[schedule]]\nat = \"6s\"\ndirection = \"down\"\n"),
        "t.toml:11:8: no link named \"origin-egde\"; did you mean \"origin-edge\"?
  11 | link = \"origin-egde\"
     |        ^^^^^^^^^^^^^

t.toml:13:1: this [[schedule]] entry changes nothing; add a setting such as loss = \"5%\" or outage = \"2s\"
  13 | [[schedule]]
     | ^^^^^^^^^^^^

2 errors in t.toml",
    );
    rejects(
        "name = \"t\"\nduration = \"30s\"\n[[schedule]]\nat = \"5s\"\nlink = \"backbone\"\nnetem = \"loss 5%\"\n",
        "t.toml:3:1: this [[schedule]] entry changes nothing; add a setting such as loss = \"5%\" or outage = \"2s\"
   3 | [[schedule]]
     | ^^^^^^^^^^^^

t.toml:5:8: no link named \"backbone\"; this scenario has one unnamed link, so leave out `link`
   5 | link = \"backbone\"
     |        ^^^^^^^^^^

t.toml:6:1: `netem` cannot be used in [[schedule]]; write each change as its own key (loss = \"5%\")
   6 | netem = \"loss 5%\"
     | ^^^^^

3 errors in t.toml",
    );
}

// ---- expectations --------------------------------------------------------------

const BULK: &str = "name = \"t\"
duration = \"30s\"
[[session]]
protocol = \"tcp-bulk\"
name = \"bulk\"
[expect]
";

#[test]
fn unknown_metric_with_suggestion() {
    rejects(
        &format!("{BULK}session.bulk.godput = \">= 1mbit\"\n\"link.dwn.loss_rate\" = \"<= 1%\"\n\"session.blk.goodput\" = \">= 1mbit\"\nthroughput = \">= 1mbit\"\n"),
        "t.toml:7:1: unknown metric `session.bulk.godput`: tcp-bulk sessions have no metric \"godput\"; did you mean \"goodput\"?
   7 | session.bulk.godput = \">= 1mbit\"
     | ^^^^^^^^^^^^^^^^^^^

t.toml:8:1: unknown metric `link.dwn.loss_rate`: no link direction is called \"dwn\"; did you mean \"down\"?
   8 | \"link.dwn.loss_rate\" = \"<= 1%\"
     | ^^^^^^^^^^^^^^^^^^^^

t.toml:9:1: unknown metric `session.blk.goodput`: no session is named \"blk\"; did you mean \"bulk\"?
   9 | \"session.blk.goodput\" = \">= 1mbit\"
     | ^^^^^^^^^^^^^^^^^^^^^

t.toml:10:1: unknown metric `throughput`: metric names are `session.<session>.<metric>` or `link.<id>.<metric>`
  10 | throughput = \">= 1mbit\"
     | ^^^^^^^^^^

4 errors in t.toml",
    );
}

#[test]
fn bound_unit_mismatch() {
    rejects(
        &format!("{BULK}\"session.bulk.goodput\" = \">= 40ms\"\n"),
        "t.toml:7:26: `session.bulk.goodput`: \"40ms\" is a duration, but the metric is a bitrate; write a bitrate such as \"5mbit\"
   7 | \"session.bulk.goodput\" = \">= 40ms\"
     |                          ^^^^^^^^^

1 error in t.toml",
    );
}

#[test]
fn bad_bound_operator() {
    rejects(
        &format!("{BULK}\"link.down.delay_p99\" = \"=< 40ms\"\n\"link.up.delay_p99\" = \"40ms\"\n\"link.up.dropped\" = 3\n"),
        "t.toml:7:25: `link.down.delay_p99`: \"=< 40ms\" starts with \"=<\", which is not a comparison; use one of >=, >, <=, <, ==
   7 | \"link.down.delay_p99\" = \"=< 40ms\"
     |                         ^^^^^^^^^

t.toml:8:23: `link.up.delay_p99`: \"40ms\" has no comparison; start with one of >=, >, <=, <, ==, e.g. \">= 40ms\"
   8 | \"link.up.delay_p99\" = \"40ms\"
     |                       ^^^^^^

t.toml:9:21: expected a bound string like \">= 1.2mbit\", found integer 3
   9 | \"link.up.dropped\" = 3
     |                     ^

3 errors in t.toml",
    );
}

// ---- several errors and syntax -------------------------------------------------

#[test]
fn every_error_is_reported_in_position_order() {
    rejects(
        "name = \"t\"
duration = \"30s\"
[[session]]
protocol = \"tcp-bulk\"
bytes = \"ten\"
[network]
jitter = \"5\"
lost = \"1%\"
[tcp]
nagle = 1
",
        "t.toml:5:9: \"ten\" is not a size; write a number of bytes or a number and a unit: \"1316\", \"64KiB\", \"1MB\"
   5 | bytes = \"ten\"
     |         ^^^^^

t.toml:7:10: \"5\" has no unit; add one, e.g. \"5ms\" or \"5s\"
   7 | jitter = \"5\"
     |          ^^^

t.toml:8:1: unknown key `lost` in [network]; did you mean `loss`?
   8 | lost = \"1%\"
     | ^^^^

t.toml:10:9: expected true or false, found integer 1
  10 | nagle = 1
     |         ^

4 errors in t.toml",
    );
}

#[test]
fn toml_syntax_errors_are_all_reported() {
    rejects(
        "name = \"t\nduration = 30s\n[network\ndelay = \"25ms\"\n",
        "t.toml:1:10: invalid TOML: invalid basic string, expected `\"`
   1 | name = \"t
     |          ^

t.toml:2:12: invalid TOML: string values must be quoted, expected literal string
   2 | duration = 30s
     |            ^^^

t.toml:3:9: invalid TOML: unclosed table, expected `]`
   3 | [network
     |         ^

3 errors in t.toml",
    );
    rejects(
        "name = \"t\"\nname = \"u\"\n[tcp]\n[tcp]\n",
        "t.toml:2:1: invalid TOML: duplicate key `name`
   2 | name = \"u\"
     | ^^^^

t.toml:4:2: invalid TOML: duplicate key `tcp`
   4 | [tcp]
     |  ^^^

2 errors in t.toml",
    );
}

#[test]
fn an_unreadable_file_is_one_diagnostic() {
    let err = load(Path::new("tests/no-such-scenario.toml")).expect_err("no such file");
    assert_eq!(
        err.to_string(),
        "tests/no-such-scenario.toml: cannot read the scenario file: No such file or directory (os error 2)

1 error in tests/no-such-scenario.toml"
    );
    assert_eq!((err.0[0].line, err.0[0].column), (0, 0));
    let err = load(Path::new("tests")).expect_err("a directory");
    assert_eq!(
        err.to_string(),
        "tests: the scenario file is a directory\n\n1 error in tests"
    );
}

// ---- valid files ---------------------------------------------------------------

#[test]
fn the_minimal_scenario_takes_the_defaults() {
    let s = accepts("name = \"min\"\nduration = \"10s\"\n[[session]]\nprotocol = \"tcp-bulk\"\n");
    let ideal = LinkConfig {
        queue: QueueLimits {
            packets: Some(1000),
            ..QueueLimits::default()
        },
        // Without `rate`, a link is a LAN.
        rate: Some(Rate {
            bits_per_sec: 100_000_000,
            overhead: 0,
        }),
        ..LinkConfig::default()
    };
    assert_eq!(s.name, "min");
    assert_eq!(
        (s.seed, s.duration, s.tick, s.mtu),
        (1, secs(10), ms(1), 1500)
    );
    assert_eq!(s.tcp, HostTcp::profile(TcpProfile::Linux));
    assert_eq!(s.hosts, ["server", "client"]);
    assert_eq!(s.links.len(), 1);
    let link = &s.links[0];
    assert_eq!(
        (
            link.name.as_str(),
            link.server.as_str(),
            link.client.as_str()
        ),
        ("", "server", "client")
    );
    assert_eq!(
        (link.down_id(), link.up_id()),
        ("down".to_owned(), "up".to_owned())
    );
    assert_eq!((&link.down, &link.up), (&ideal, &ideal));
    assert_eq!(
        s.sessions,
        [SessionSpec {
            name: "tcp-bulk".to_owned(),
            server: "server".to_owned(),
            clients: vec!["client".to_owned()],
            start: Duration::ZERO,
            stop: None,
            port: 5001,
            protocol: "tcp-bulk",
            options: Options::new(),
        }]
    );
    assert_eq!(
        (s.media, s.expect, s.referenced_files),
        (None, vec![], vec![])
    );
}

#[test]
fn clients_n_names_hosts_and_links_after_the_clients() {
    let s = accepts(
        "name = \"fan-out\"
duration = \"10s\"
[topology]
clients = 3
[network.down]
rate = \"5mbit\"
[[schedule]]
at = \"5s\"
link = \"client-2\"
outage = \"1s\"
[[session]]
protocol = \"udp-cbr\"
bitrate = \"1mbit\"
clients = 2
[[session]]
protocol = \"udp-cbr\"
bitrate = \"2mbit\"
[expect]
\"link.client-3.up.throughput\" = \">= 0bit\"
",
    );
    assert_eq!(s.hosts, ["server", "client-1", "client-2", "client-3"]);
    let names: Vec<_> = s
        .links
        .iter()
        .map(|l| (l.name.as_str(), l.client.as_str(), l.down_id()))
        .collect();
    assert_eq!(
        names,
        [
            ("client-1", "client-1", "client-1.down".to_owned()),
            ("client-2", "client-2", "client-2.down".to_owned()),
            ("client-3", "client-3", "client-3.down".to_owned()),
        ]
    );
    for link in &s.links {
        assert_eq!(
            link.down.rate,
            Some(Rate {
                bits_per_sec: 5_000_000,
                overhead: 0
            })
        );
        let lan = Rate {
            bits_per_sec: streamsim::scenario::DEFAULT_RATE,
            overhead: 0,
        };
        assert_eq!(link.up.rate, Some(lan));
        let outages = if link.name == "client-2" {
            vec![Outage {
                start: secs(5),
                end: secs(6),
            }]
        } else {
            vec![]
        };
        assert_eq!((&link.down.outages, &link.up.outages), (&outages, &outages));
    }
    let sessions: Vec<_> = s
        .sessions
        .iter()
        .map(|s| (s.name.as_str(), s.clients.len(), s.port))
        .collect();
    assert_eq!(sessions, [("udp-cbr", 2, 5004), ("udp-cbr-2", 3, 5006)]);
    assert_eq!(s.expect[0].metric, "link.client-3.up.throughput");
}

const FULL: &str = r#"name = "full.v1"
description = "every key"
seed = 42
duration = "60s"
tick = "2ms"

[topology]
hosts = ["origin", "edge", "viewer"]

[tcp]
profile = "ns3"
congestion = "reno"
buffer = "4MiB"
tx_buffer = "1MiB"
ack_delay = "off"
nagle = true
hystart = true
sack = true
rack = false
prr = false
timestamps = false
min_rto = "300ms"
max_rto = "30s"
initial_window = 4
ack_every = 1
mss = 1300
time_wait = "2s"

[network]
mtu = 1400
netem = "delay 20ms 5ms 25% loss 1% rate 10mbit 14 limit 50 outage 1s 2s"
delay = "25ms"
distribution = "normal"
jitter_correlation = "50%"
no_reorder = true
duplicate = { rate = "0.1%", correlation = "10%" }
corrupt = 0.0005
queue = { packets = 100, bytes = "64KiB", time = "100ms" }

[network.down]
loss = { model = "gilbert-elliott", p = "1%", r = "30%" }

[network.up]
rate = "2mbit"

[[link]]
name = "backbone"
between = ["origin", "edge"]
reorder = { rate = "25%", correlation = "50%", gap = 5 }
rate_overhead = 20

[link.down]
trace = "../fixtures/traces/step-8-2mbit.trace"

[[link]]
between = ["edge", "viewer"]
jitter = "1ms"
loss = { model = "4-state", p13 = "2%", p31 = "50%" }

[link.up]
loss = { model = "random", rate = "0.5%", correlation = "25%" }
queue = "unlimited"

[[schedule]]
at = "20s"
link = "backbone"
direction = "down"
rate = "5mbit"

[[schedule]]
at = "10s"
loss = "5%"
jitter = "10ms"

[[schedule]]
at = "40s"
link = "edge-viewer"
outage = "2s"
reorder = "off"

[[session]]
protocol = "tcp-bulk"
server = "origin"
bytes = "10MB"
start = "1s"
stop = "50s"

[[session]]
protocol = "udp-cbr"
name = "cbr"
server = "edge"
clients = ["viewer"]
bitrate = "1.5mbit"
payload = "1200B"
port = 6000

[[session]]
protocol = "tcp-bulk"
server = "edge"
clients = 1

[media]
file = "../fixtures/clip.mp4"
loop = false

[expect]
"session.tcp-bulk.goodput" = ">= 1.2mbit"
session.cbr.loss_rate = "<= 1%"
"link.backbone.down.delay_p99" = [">= 20ms", "< 200ms"]
link.edge-viewer.up.dropped = "== 0"
[expect.session.tcp-bulk-2]
bytes = "> 1MB"
"#;

#[test]
fn the_full_scenario_parses_into_exactly_this() {
    let s = accepts(FULL);
    assert_eq!(
        (s.name.as_str(), s.description.as_str()),
        ("full.v1", "every key")
    );
    assert_eq!(
        (s.seed, s.duration, s.tick, s.mtu),
        (42, secs(60), ms(2), 1400)
    );
    let mut tcp = HostTcp::profile(TcpProfile::Ns3);
    let c = &mut tcp.conn;
    c.congestion = CongestionKind::Reno;
    (c.recv_buffer, c.send_buffer) = (4 << 20, 1 << 20);
    (c.ack_delay, c.nagle, c.hystart, c.sack, c.rack) = (None, true, true, true, false);
    (c.prr, c.timestamps) = (false, false);
    (c.min_rto, c.max_rto) = (ms(300), secs(30));
    (c.initial_window, c.ack_every, c.mss, c.time_wait) = (4, 1, 1300, secs(2));
    assert_eq!(s.tcp, tcp);
    assert_eq!(s.hosts, ["origin", "edge", "viewer"]);
    assert_eq!(
        s.referenced_files,
        [PathBuf::from(TRACE), PathBuf::from(CLIP)]
    );
    assert_eq!(
        s.media,
        Some(MediaSpec {
            file: Some(PathBuf::from(CLIP)),
            looped: false,
            decode_check: false,
        })
    );
    full_links(&s);
    full_sessions(&s);
    full_expectations(&s);
}

fn full_links(s: &Scenario) {
    let trace = Arc::new(Trace::parse(&std::fs::read_to_string(TRACE).unwrap()).unwrap());
    // [network] after its netem string: delay 25ms (key) with jitter 5ms
    // (netem), correlation 50% and normal (keys).
    let delay = |jitter| Delay {
        latency: ms(25),
        jitter,
        correlation: 50.0,
        distribution: Distribution::Normal,
    };
    let base = LinkConfig {
        delay: delay(ms(5)),
        no_reorder: true,
        loss: LossModel::Random {
            percent: 1.0,
            correlation: 0.0,
        },
        duplicate: Chance {
            percent: 0.1,
            correlation: 10.0,
        },
        corrupt: Chance {
            percent: 0.05,
            correlation: 0.0,
        },
        reorder: None,
        rate: Some(Rate {
            bits_per_sec: 10_000_000,
            overhead: 14,
        }),
        trace: None,
        queue: QueueLimits {
            packets: Some(100),
            bytes: Some(65_536),
            time: Some(ms(100)),
        },
        outages: vec![Outage {
            start: secs(1),
            end: secs(2),
        }],
        schedule: vec![],
    };
    let gilbert = LossModel::GilbertElliott {
        p: 1.0,
        r: 30.0,
        one_minus_h: 100.0,
        one_minus_k: 0.0,
    };
    let at_10s = ScheduledChange {
        at: secs(10),
        change: LinkChange {
            delay: Some(delay(ms(10))),
            loss: Some(LossModel::Random {
                percent: 5.0,
                correlation: 0.0,
            }),
            ..LinkChange::default()
        },
    };
    let reorder = Some(Reorder {
        percent: 25.0,
        correlation: 50.0,
        gap: 5,
    });
    let backbone_down = LinkConfig {
        loss: gilbert,
        reorder,
        rate: None,
        trace: Some(trace),
        schedule: vec![
            at_10s.clone(),
            ScheduledChange {
                at: secs(20),
                change: LinkChange {
                    rate: Some(Some(Rate {
                        bits_per_sec: 5_000_000,
                        overhead: 20,
                    })),
                    trace: Some(None),
                    ..LinkChange::default()
                },
            },
        ],
        ..base.clone()
    };
    let backbone_up = LinkConfig {
        reorder,
        rate: Some(Rate {
            bits_per_sec: 2_000_000,
            overhead: 20,
        }),
        schedule: vec![at_10s.clone()],
        ..base.clone()
    };
    let edge_schedule = vec![
        at_10s,
        ScheduledChange {
            at: secs(40),
            change: LinkChange {
                reorder: Some(None),
                ..LinkChange::default()
            },
        },
    ];
    let edge_outages = vec![
        Outage {
            start: secs(1),
            end: secs(2),
        },
        Outage {
            start: secs(40),
            end: secs(42),
        },
    ];
    let four_state = LossModel::FourState {
        p13: 2.0,
        p31: 50.0,
        p32: 0.0,
        p23: 100.0,
        p14: 0.0,
    };
    let edge_down = LinkConfig {
        delay: delay(ms(1)),
        loss: four_state,
        outages: edge_outages.clone(),
        schedule: edge_schedule.clone(),
        ..base.clone()
    };
    let edge_up = LinkConfig {
        delay: delay(ms(1)),
        loss: LossModel::Random {
            percent: 0.5,
            correlation: 25.0,
        },
        rate: Some(Rate {
            bits_per_sec: 2_000_000,
            overhead: 14,
        }),
        queue: QueueLimits::default(),
        outages: edge_outages,
        schedule: edge_schedule,
        ..base
    };
    let [backbone, edge] = s.links.as_slice() else {
        panic!("{:#?}", s.links)
    };
    assert_eq!(
        (
            backbone.name.as_str(),
            backbone.server.as_str(),
            backbone.client.as_str()
        ),
        ("backbone", "origin", "edge")
    );
    assert_eq!(
        (
            edge.name.as_str(),
            edge.server.as_str(),
            edge.client.as_str()
        ),
        ("edge-viewer", "edge", "viewer")
    );
    assert_eq!(backbone.down, backbone_down);
    assert_eq!(backbone.up, backbone_up);
    assert_eq!(edge.down, edge_down);
    assert_eq!(edge.up, edge_up);
}

fn full_sessions(s: &Scenario) {
    let session = |name: &str, server: &str, client: &str, port, (protocol, options)| SessionSpec {
        name: name.to_owned(),
        server: server.to_owned(),
        clients: vec![client.to_owned()],
        start: Duration::ZERO,
        stop: None,
        port,
        protocol,
        options,
    };
    assert_eq!(
        s.sessions,
        [
            SessionSpec {
                start: secs(1),
                stop: Some(secs(50)),
                ..session(
                    "tcp-bulk",
                    "origin",
                    "edge",
                    5001,
                    (
                        "tcp-bulk",
                        Options::new().with("bytes", OptionValue::Size(10_000_000))
                    )
                )
            },
            session(
                "cbr",
                "edge",
                "viewer",
                6000,
                (
                    "udp-cbr",
                    Options::new()
                        .with("bitrate", OptionValue::Bitrate(1_500_000))
                        .with("payload", OptionValue::Size(1200))
                )
            ),
            session(
                "tcp-bulk-2",
                "edge",
                "origin",
                5003,
                ("tcp-bulk", Options::new())
            ),
        ]
    );
}

fn full_expectations(s: &Scenario) {
    let e = |metric: &str, unit, comparison, value, text: &str, location: &str| Expectation {
        metric: metric.to_owned(),
        unit,
        comparison,
        value,
        text: text.to_owned(),
        location: location.to_owned(),
    };
    assert_eq!(
        s.expect,
        [
            e(
                "session.tcp-bulk.goodput",
                Unit::BitsPerSecond,
                Comparison::AtLeast,
                1.2e6,
                ">= 1.2mbit",
                "t.toml:107:1"
            ),
            e(
                "session.cbr.loss_rate",
                Unit::Ratio,
                Comparison::AtMost,
                0.01,
                "<= 1%",
                "t.toml:108:1"
            ),
            e(
                "link.backbone.down.delay_p99",
                Unit::Seconds,
                Comparison::AtLeast,
                0.02,
                ">= 20ms",
                "t.toml:109:1"
            ),
            e(
                "link.backbone.down.delay_p99",
                Unit::Seconds,
                Comparison::Below,
                0.2,
                "< 200ms",
                "t.toml:109:1"
            ),
            e(
                "link.edge-viewer.up.dropped",
                Unit::Count,
                Comparison::Equal,
                0.0,
                "== 0",
                "t.toml:110:1"
            ),
            e(
                "session.tcp-bulk-2.bytes",
                Unit::Bytes,
                Comparison::Above,
                1e6,
                "> 1MB",
                "t.toml:112:1"
            ),
        ]
    );
}

#[test]
fn load_resolves_paths_against_the_file() {
    let dir = std::env::temp_dir().join(format!("streamsim-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = std::fs::canonicalize(TRACE).unwrap();
    std::fs::copy(&trace, dir.join("steps.trace")).unwrap();
    let file = dir.join("run.toml");
    std::fs::write(
        &file,
        "name = \"r\"\nduration = \"5s\"\n[network]\ntrace = \"steps.trace\"\n",
    )
    .unwrap();
    let s = load(&file);
    std::fs::remove_dir_all(&dir).unwrap();
    let s = s.unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.referenced_files, [dir.join("steps.trace")]);
    assert!(s.links[0].down.trace.is_some() && s.links[0].up.trace.is_some());
}
