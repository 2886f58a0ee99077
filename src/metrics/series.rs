//! Time series and distributions for plots.

use std::time::Duration;

/// Values in consecutive equal time bins, the first starting at time 0.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// What the series shows (a link id such as `down`, or a session name).
    pub label: String,
    /// Width of each bin.
    pub bin: Duration,
    /// One value per bin, in the plot's unit.
    pub values: Vec<f64>,
}

/// A cumulative distribution: `(value, fraction ≤ value)` points, increasing.
#[derive(Clone, Debug, PartialEq)]
pub struct Cdf {
    /// What the distribution is of (a link id).
    pub label: String,
    /// Points, increasing in both coordinates; fractions end at 1.0.
    pub points: Vec<(f64, f64)>,
}

/// The data behind a run's SVG plots.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlotData {
    /// Delivered bits per second per link direction, by arrival time.
    pub throughput_bps: Vec<Series>,
    /// One-way delay of delivered packets per link direction, in milliseconds.
    pub delay_ms_cdf: Vec<Cdf>,
    /// Largest queue occupancy in each bin per link direction, in bytes.
    pub queue_bytes: Vec<Series>,
    /// Glass-to-glass latency of the frames presented in each bin, mean,
    /// per media session client, in milliseconds (NaN: none presented).
    pub latency_ms: Vec<Series>,
    /// Media buffered ahead of the playhead at each bin's end, per media
    /// session client, in milliseconds.
    pub buffer_ms: Vec<Series>,
    /// Congestion window at each bin's end, per TCP connection a session
    /// sends on, in KiB.
    pub cwnd_kib: Vec<Series>,
}
