//! No input panics the parser: truncations, byte flips, deep nesting and
//! huge numbers all come back as `Ok` or `Err`.

use std::path::Path;

use crate::scenario::parse_str;

/// A scenario that touches every part of the schema.
const VALID: &str = r#"name = "robust"
description = "every key"
seed = 7
duration = "60s"
tick = "2ms"

[topology]
hosts = ["origin", "edge", "viewer"]

[tcp]
congestion = "reno"
buffer = "4MiB"
ack_delay = "off"
nagle = true

[network]
mtu = 1400
netem = "delay 20ms 5ms 25% loss 1% rate 10mbit 14 limit 50 outage 1s 2s"
delay = "25ms"
distribution = "normal"
no_reorder = true
duplicate = { rate = "0.1%", correlation = "10%" }
corrupt = 0.0005
queue = { packets = 100, bytes = "64KiB", time = "100ms" }

[network.down]
loss = { model = "gilbert-elliott", p = "1%", r = "30%" }

[[link]]
name = "backbone"
between = ["origin", "edge"]
reorder = { rate = "25%", correlation = "50%", gap = 5 }
rate_overhead = 20

[link.down]
trace = "../fixtures/traces/step-8-2mbit.trace"

[[link]]
between = ["edge", "viewer"]
loss = { model = "4-state", p13 = "2%" }

[[schedule]]
at = "20s"
link = "backbone"
direction = "down"
rate = "5mbit"
outage = "2s"

[[session]]
protocol = "tcp-bulk"
server = "origin"
bytes = "10MB"

[[session]]
protocol = "udp-cbr"
server = "edge"
clients = ["viewer"]
bitrate = "1.5mbit"

[media]
file = "../fixtures/clip.mp4"

[expect]
session.tcp-bulk.goodput = ">= 1.2mbit"
"link.backbone.down.delay_p99" = ["> 20ms", "< 1s"]
"#;

fn parse(text: &str) {
    let _ = parse_str("fuzz.toml", text, Path::new("tests"));
}

/// xorshift64*: a fixed-seed generator, enough to pick bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn the_valid_scenario_is_valid() {
    if let Err(e) = parse_str("fuzz.toml", VALID, Path::new("tests")) {
        panic!("{e}");
    }
}

#[test]
fn every_truncation_returns() {
    for (end, _) in VALID.char_indices() {
        parse(&VALID[..end]);
    }
}

#[test]
fn byte_flips_return() {
    let interesting = b"[]{}\"'=.,#\n\t -_%0123456789abcmsx\xc2\xb5\xff";
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    for _ in 0..3000 {
        let mut bytes = VALID.as_bytes().to_vec();
        for _ in 0..=rng.below(4) {
            let at = rng.below(bytes.len());
            bytes[at] = if rng.below(4) == 0 {
                rng.next() as u8
            } else {
                interesting[rng.below(interesting.len())]
            };
        }
        parse(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn line_swaps_and_drops_return() {
    let lines: Vec<&str> = VALID.lines().collect();
    let mut rng = Rng(42);
    for _ in 0..1000 {
        let mut mangled = lines.clone();
        let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
        mangled.swap(a, b);
        mangled.remove(rng.below(mangled.len()));
        parse(&mangled.join("\n"));
    }
}

#[test]
fn deep_nesting_returns() {
    let depth = 100_000;
    parse(&format!("a = {}{}", "[".repeat(depth), "]".repeat(depth)));
    parse(&format!(
        "a = {}1{}",
        "{ b = ".repeat(depth),
        " }".repeat(depth)
    ));
    let dotted = vec!["k"; depth].join(".");
    parse(&format!("[expect]\n{dotted} = \">= 1\"\n"));
    parse(&format!("[{dotted}]\nx = 1\n"));
    parse(&format!(
        "name = \"x\"\nduration = \"1s\"\n[expect.{dotted}]\nz = \"< 1\"\n"
    ));
}

#[test]
fn huge_and_odd_numbers_return() {
    let values = [
        "99999999999999999999999999",
        "-9223372036854775808",
        "9223372036854775807",
        "1e999",
        "-inf",
        "nan",
        "0x7fffffffffffffff",
        "\"99999999999999999999999999999999999999999h\"",
        "\"1e999s\"",
        "\"0.000000000000000000000000000000001s\"",
        "\"18446744073709551616ns\"",
        "\"18446744073709551615ns\"",
        "\"340282366920938463463374607431768211456bit\"",
        "\"99999999999999999999999%\"",
        "\"µµµ\"",
        "\">= 99999999999999999999999999999999999999999Gbit\"",
        "1979-05-27T07:32:00Z",
    ];
    let keys = [
        "seed",
        "duration",
        "tick",
        "mtu",
        "delay",
        "rate",
        "loss",
        "rate_overhead",
        "port",
        "bytes",
        "payload",
        "clients",
        "at",
        "outage",
        "gap",
        "packets",
        "buffer",
    ];
    for value in values {
        for key in keys {
            parse(&format!(
                "name = \"x\"\nduration = \"10s\"\n{key} = {value}\n"
            ));
            parse(&format!(
                "name = \"x\"\nduration = \"10s\"\n[network]\n{key} = {value}\n\
                 [[schedule]]\nat = \"1s\"\n{key} = {value}\n\
                 [[session]]\nprotocol = \"udp-cbr\"\n{key} = {value}\n\
                 [topology]\n{key} = {value}\n[expect]\n\"link.down.delay_max\" = {value}\n"
            ));
        }
    }
}
