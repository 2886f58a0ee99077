use std::time::Duration;

use roxmltree::Document;

use super::*;

fn series(label: &str, bin_ms: u64, values: &[f64]) -> Series {
    Series {
        label: label.to_owned(),
        bin: Duration::from_millis(bin_ms),
        values: values.to_vec(),
    }
}

fn cdf(label: &str, points: &[(f64, f64)]) -> Cdf {
    Cdf {
        label: label.to_owned(),
        points: points.to_vec(),
    }
}

fn two_links() -> PlotData {
    PlotData {
        throughput_bps: vec![
            series("down", 100, &[0.0, 2.4e6, 4.7e6, 4.8e6, 4.6e6]),
            series("up", 100, &[0.0, 1.2e5, 1.3e5, 1.1e5, 1.2e5]),
        ],
        delay_ms_cdf: vec![
            cdf(
                "down",
                &[(20.0, 0.25), (26.0, 0.5), (40.0, 0.9), (61.5, 1.0)],
            ),
            cdf("up", &[(20.0, 0.5), (21.0, 1.0)]),
        ],
        queue_bytes: vec![
            series("down", 100, &[0.0, 12_000.0, 48_000.0, 64_000.0, 30_000.0]),
            series("up", 100, &[0.0, 0.0, 1500.0, 0.0, 0.0]),
        ],
        ..PlotData::default()
    }
}

/// Parses every plot, checks the file names, and returns `(file, svg)`.
fn render_checked(data: &PlotData, title: &str) -> Vec<(&'static str, String)> {
    let out = plots(data, title).unwrap();
    let names: Vec<&str> = out.iter().map(|(name, _)| *name).collect();
    assert_eq!(names[..3], ["throughput.svg", "delay-cdf.svg", "queue.svg"]);
    for (name, svg) in &out {
        let doc = Document::parse(svg).unwrap_or_else(|e| panic!("{name}: {e}\n{svg}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg", "{name}");
        for bad in ["NaN", "inf"] {
            assert!(!svg.contains(bad), "{name} contains {bad}:\n{svg}");
        }
    }
    out
}

/// The text of every `<text>` element.
fn texts(svg: &str) -> Vec<String> {
    let doc = Document::parse(svg).unwrap();
    let texts = doc.descendants().filter(|n| n.has_tag_name("text"));
    texts
        .map(|n| n.text().unwrap_or("").trim().to_owned())
        .collect()
}

/// Point lists of every `<polyline>` drawn in a series colour (the grid,
/// axes and ticks are thinner and grey or black), legend keys (20 px
/// horizontal strokes) left out.
fn lines(svg: &str) -> Vec<String> {
    let doc = Document::parse(svg).unwrap();
    let colours: Vec<String> = PALETTE
        .iter()
        .map(|c| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2))
        .collect();
    doc.descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .filter(|n| n.attribute("stroke-width") == Some("2"))
        .filter(|n| colours.iter().any(|c| n.attribute("stroke") == Some(c)))
        .map(|n| n.attribute("points").unwrap().trim().to_owned())
        .filter(|points| !is_legend_key(points))
        .collect()
}

fn is_legend_key(points: &str) -> bool {
    let xy: Vec<(i32, i32)> = points
        .split(' ')
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect();
    matches!(xy.as_slice(), [(x0, y0), (x1, y1)] if y0 == y1 && x1 - x0 == 20)
}

#[test]
fn captions_axes_and_legends() {
    let out = render_checked(&two_links(), "bulk <5mbit> & \"more\"");
    let t = texts(&out[0].1);
    assert!(
        t.contains(&"bulk <5mbit> & \"more\": throughput".to_owned()),
        "{t:?}"
    );
    for want in ["time (s)", "throughput (Mbit/s)", "down", "up", "0", "5"] {
        assert!(t.contains(&want.to_owned()), "{want} missing from {t:?}");
    }
    assert_eq!(lines(&out[0].1).len(), 2);
    let t = texts(&out[1].1);
    for want in [
        "one-way delay (ms)",
        "fraction of packets",
        "0.0",
        "1.0",
        "80",
    ] {
        assert!(t.contains(&want.to_owned()), "{want} missing from {t:?}");
    }
    let t = texts(&out[2].1);
    for want in ["queue occupancy (KiB)", "80"] {
        assert!(t.contains(&want.to_owned()), "{want} missing from {t:?}");
    }
}

#[test]
fn one_series_is_named_in_the_caption_without_a_legend() {
    let mut data = two_links();
    data.throughput_bps.truncate(1);
    let svg = &render_checked(&data, "x")[0].1;
    let t = texts(svg);
    assert!(t.contains(&"x: throughput (down)".to_owned()), "{t:?}");
    assert!(!t.contains(&"down".to_owned()), "{t:?}");
}

#[test]
fn equal_input_gives_equal_bytes() {
    let a = render_checked(&two_links(), "run");
    let b = render_checked(&two_links().clone(), "run");
    assert_eq!(a, b);
}

#[test]
fn no_data_draws_empty_axes() {
    for data in [
        PlotData::default(),
        PlotData {
            throughput_bps: vec![series("down", 100, &[]), series("up", 0, &[])],
            delay_ms_cdf: vec![cdf("down", &[])],
            queue_bytes: vec![series("down", 100, &[])],
            ..PlotData::default()
        },
    ] {
        for (name, svg) in render_checked(&data, "empty") {
            assert!(lines(&svg).is_empty(), "{name}");
            let t = texts(&svg);
            assert!(t.contains(&"no data".to_owned()), "{name}: {t:?}");
            // The default axis is 0..1.
            assert!(t.contains(&"1.0".to_owned()), "{name}: {t:?}");
        }
    }
}

#[test]
fn all_zero_and_hostile_values_stay_finite() {
    let data = PlotData {
        throughput_bps: vec![
            series("zero", 100, &[0.0; 5]),
            series("odd", 100, &[1e6, f64::NAN, f64::INFINITY, 2e6, -1e5]),
        ],
        delay_ms_cdf: vec![cdf(
            "odd",
            &[(f64::NAN, 0.5), (3.0, f64::INFINITY), (5.0, 1.0)],
        )],
        queue_bytes: vec![series("zero", 100, &[0.0; 3])],
        ..PlotData::default()
    };
    let out = render_checked(&data, "odd\u{0}\u{1b}title\n");
    assert_eq!(lines(&out[0].1).len(), 3, "zero, then odd broken in two");
    assert!(texts(&out[0].1).contains(&"odd  title : throughput".to_owned()));
    assert_eq!(lines(&out[1].1).len(), 1);
    assert_eq!(lines(&out[2].1).len(), 1);
}

#[test]
fn a_single_point_draws_a_visible_line() {
    let data = PlotData {
        throughput_bps: vec![series("down", 1000, &[3e6])],
        delay_ms_cdf: vec![cdf("down", &[(25.0, 1.0)])],
        queue_bytes: vec![series("down", 1000, &[2048.0])],
        ..PlotData::default()
    };
    for (name, svg) in render_checked(&data, "one") {
        let lines = lines(&svg);
        assert_eq!(lines.len(), 1, "{name}");
        let points: Vec<&str> = lines[0].split(' ').collect();
        assert_eq!(points.len(), 2, "{name}: {points:?}");
        assert_ne!(points[0], points[1], "{name}: a line of zero length");
    }
}

#[test]
fn long_labels_are_shortened() {
    assert_eq!(legend_label("short"), "short");
    let long = legend_label(&"x".repeat(100));
    assert_eq!(long.chars().count(), MAX_LABEL_CHARS);
    assert!(long.ends_with('…'));
    assert_eq!(svg_text("a\nb\u{FFFF}"), "a b ");
}

/// The reference plots pin every byte, so a different platform, compiler or
/// plotters version that changes the output fails here rather than in a
/// diff of someone's reports. After an intended change, rerun with
/// `STREAMSIM_BLESS=1` to rewrite them, and look at the new files.
#[test]
fn output_matches_the_reference_files() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/metrics/write/plots/reference");
    let bless = std::env::var_os("STREAMSIM_BLESS").is_some();
    for (name, svg) in render_checked(&two_links(), "bulk-5mbit") {
        let path = dir.join(name);
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &svg).unwrap();
        }
        let stored =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            svg == stored,
            "{name} differs from {}; if intended, rerun with STREAMSIM_BLESS=1",
            path.display()
        );
    }
}

#[test]
fn media_sessions_add_latency_and_buffer_plots_with_gaps() {
    let data = PlotData {
        latency_ms: vec![series(
            "tv",
            100,
            &[f64::NAN, 320.0, 320.0, f64::NAN, 325.0],
        )],
        buffer_ms: vec![series("tv", 100, &[0.0, 180.0, 200.0, 0.0, 190.0])],
        ..PlotData::default()
    };
    let out = render_checked(&data, "media");
    let names: Vec<&str> = out.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "throughput.svg",
            "delay-cdf.svg",
            "queue.svg",
            "latency.svg",
            "buffer.svg"
        ]
    );
    // A bin without a presented frame breaks the latency line in two.
    assert_eq!(lines(&out[3].1).len(), 2);
    assert_eq!(lines(&out[4].1).len(), 1);
    assert!(texts(&out[3].1).contains(&"media: glass-to-glass latency (tv)".to_owned()));
    // A run without media sessions draws no media plots.
    assert_eq!(render_checked(&two_links(), "run").len(), 3);
}
