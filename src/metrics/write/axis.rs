//! A linear plot axis whose range, ticks and labels come from exact
//! arithmetic only.
//!
//! plotters' own `f64` axis places ticks with `powf` and `log`, whose last
//! bit may differ between platforms' math libraries, and a different tick
//! means different SVG bytes. This axis finds its tick step by multiplying
//! and dividing by ten (IEEE-754 basic operations, the same everywhere),
//! places tick `k` at exactly `k × step`, and labels ticks with Rust's
//! formatting at a precision derived from the step.
//!
//! Invariants: `lo < hi`, both finite, both whole multiples of `step`; the
//! step is 1, 2 or 5 × 10ᵉ.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

/// About how many steps an axis is divided into.
const TARGET_STEPS: f64 = 6.0;

/// Spans below this are widened to it, so that steps stay representable.
const MIN_SPAN: f64 = 1e-9;

/// A linear axis from `lo` to `hi` with ticks every `step`.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Axis {
    /// First tick, as a multiple of `step`.
    first: i64,
    /// Last tick, as a multiple of `step`.
    last: i64,
    step: f64,
    /// Digits after the decimal point in tick labels.
    decimals: usize,
}

impl Axis {
    /// The smallest axis with nice ticks that shows every value in
    /// `min..=max`. Non-finite bounds give `0..1`; an empty or inverted
    /// range is widened upwards.
    pub(super) fn covering(min: f64, max: f64) -> Axis {
        let (min, max) = if min.is_finite() && max.is_finite() && (max - min).is_finite() {
            (min, max)
        } else {
            (0.0, 1.0)
        };
        let max = if max > min { max } else { min + 1.0 };
        let span = (max - min).max(MIN_SPAN);
        let (step, decimals) = nice_step(span / TARGET_STEPS);
        // Ticks are counted in i64; spans near f64::MAX saturate, which
        // keeps the axis valid if not tight.
        let first = (min / step).floor() as i64;
        let mut last = (max / step).ceil() as i64;
        if last <= first {
            last = first + 1;
        }
        Axis {
            first,
            last,
            step,
            decimals,
        }
    }

    /// The lower end.
    pub(super) fn lo(&self) -> f64 {
        self.tick(self.first)
    }

    /// The upper end.
    pub(super) fn hi(&self) -> f64 {
        self.tick(self.last)
    }

    fn tick(&self, k: i64) -> f64 {
        // Adding 0.0 turns -0.0 into 0.0, which would print as "-0".
        k as f64 * self.step + 0.0
    }

    /// Every tick, `lo` to `hi`.
    pub(super) fn ticks(&self) -> Vec<f64> {
        (self.first..=self.last).map(|k| self.tick(k)).collect()
    }

    /// A tick label: the value at the step's precision.
    pub(super) fn label(&self, value: f64) -> String {
        format!("{:.*}", self.decimals, value + 0.0)
    }
}

/// The smallest of 1, 2 or 5 × 10ᵉ that is at least `raw` (positive and
/// finite), and the decimals its multiples need (`-e`, at least 0).
fn nice_step(raw: f64) -> (f64, usize) {
    // The largest power of ten not above `raw`.
    let mut decade = 1.0;
    let mut exponent: i32 = 0;
    while decade * 10.0 <= raw {
        decade *= 10.0;
        exponent += 1;
    }
    while decade > raw {
        decade /= 10.0;
        exponent -= 1;
    }
    let (step, exponent) = match raw / decade {
        r if r <= 1.0 => (decade, exponent),
        r if r <= 2.0 => (2.0 * decade, exponent),
        r if r <= 5.0 => (5.0 * decade, exponent),
        _ => (10.0 * decade, exponent + 1),
    };
    (step, usize::try_from(-exponent).unwrap_or(0))
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let (lo, hi) = (self.lo(), self.hi());
        let fraction = (value - lo) / (hi - lo);
        let pixel = f64::from(limit.0) + f64::from(limit.1 - limit.0) * fraction;
        // `as` saturates out-of-range values and maps NaN to 0; callers
        // never pass NaN.
        pixel.round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Only bold grid lines (with labels); light lines would add
        // clutter and bytes.
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        let ticks = self.ticks();
        let max = hint.max_num_points().max(1);
        let every = ticks.len().div_ceil(max);
        ticks.into_iter().step_by(every.max(1)).collect()
    }

    fn range(&self) -> Range<f64> {
        self.lo()..self.hi()
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, value: &f64) -> String {
        self.label(*value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(axis: &Axis) -> Vec<String> {
        axis.ticks().into_iter().map(|t| axis.label(t)).collect()
    }

    #[test]
    fn nice_ranges_and_labels() {
        assert_eq!(
            labels(&Axis::covering(0.0, 4.935)),
            ["0", "1", "2", "3", "4", "5"]
        );
        assert_eq!(
            labels(&Axis::covering(0.0, 1.0)),
            ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
        );
        assert_eq!(
            labels(&Axis::covering(0.0, 26.0)),
            ["0", "5", "10", "15", "20", "25", "30"]
        );
        assert_eq!(
            labels(&Axis::covering(0.0, 0.03)),
            ["0.000", "0.005", "0.010", "0.015", "0.020", "0.025", "0.030"]
        );
        assert_eq!(
            labels(&Axis::covering(-3.0, 3.0)),
            ["-3", "-2", "-1", "0", "1", "2", "3"]
        );
        assert_eq!(
            labels(&Axis::covering(0.0, 1200.0)),
            ["0", "200", "400", "600", "800", "1000", "1200"]
        );
    }

    #[test]
    fn degenerate_ranges_stay_valid() {
        for (min, max) in [
            (0.0, 0.0),
            (5.0, 5.0),
            (3.0, -3.0),
            (f64::NAN, 1.0),
            (0.0, f64::INFINITY),
            (-f64::MAX, f64::MAX),
            (0.0, 1e-300),
            (0.0, 1e300),
        ] {
            let axis = Axis::covering(min, max);
            assert!(
                axis.lo().is_finite() && axis.hi().is_finite(),
                "{min}..{max}"
            );
            assert!(axis.lo() < axis.hi(), "{min}..{max}: {axis:?}");
            let ticks = axis.ticks();
            assert!(
                ticks.len() >= 2 && ticks.len() <= 16,
                "{min}..{max}: {axis:?}"
            );
            assert!(labels(&axis)
                .iter()
                .all(|l| !l.contains("NaN") && !l.contains("inf")));
        }
        assert_eq!(
            labels(&Axis::covering(0.0, 0.0)),
            labels(&Axis::covering(0.0, 1.0))
        );
    }

    #[test]
    fn maps_ends_to_limits() {
        let axis = Axis::covering(0.0, 10.0);
        assert_eq!(axis.map(&0.0, (40, 740)), 40);
        assert_eq!(axis.map(&10.0, (40, 740)), 740);
        assert_eq!(axis.map(&5.0, (400, 20)), 210);
        assert_eq!(axis.map(&f64::MAX, (0, 100)), i32::MAX);
    }
}
