//! The live media a scenario's sessions stream: one [`MediaFeed`] per run,
//! one [`LiveSource`] per session server.
//!
//! A feed describes the scenario's `[media]` (a file or the synthetic
//! source, looped or not). Each session's server opens its own source from
//! it, started at the same simulated time, so every protocol of a run
//! carries identical access units at identical capture times and their
//! results compare frame for frame. A [`LiveSource`] releases each unit at
//! its capture time on the network's clock, as an encoder's output appears:
//! 30 frames a second, never all at once.

use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use crate::media::file_source::FileSource;
use crate::media::synthetic::{SyntheticAudio, SyntheticConfig, SyntheticSource};
pub use crate::media::CaptureClock;
use crate::media::{AccessUnit, Source, Track};
use crate::net::Net;

/// Where a feed's media comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum MediaOrigin {
    /// A media file (MP4, TS, FLV, … anything FFmpeg demuxes).
    File(PathBuf),
    /// The synthetic H.264 + AAC source.
    Synthetic(SyntheticConfig),
}

/// The scenario's media, from which each session opens its live source.
#[derive(Clone, Debug)]
pub struct MediaFeed {
    origin: MediaOrigin,
    looped: bool,
    /// Run the real decoder over what players present.
    pub decode_check: bool,
    /// The file, read once and shared by every session's source.
    file: Option<Rc<FileSource>>,
}

/// The synthetic source streamed when `[media]` names no file: 640x360 at
/// 30 fps, an IDR every 2 s, 800 kbit/s, with 64 kbit/s stereo AAC.
pub fn default_synthetic() -> SyntheticConfig {
    SyntheticConfig {
        width: 640,
        height: 360,
        fps: (30, 1),
        gop: 60,
        video_bitrate_bps: 800_000,
        i_to_p_ratio: 5.0,
        audio: Some(SyntheticAudio {
            sample_rate: 48_000,
            channels: 2,
            bitrate_bps: 64_000,
        }),
        seed: 1,
    }
}

impl MediaFeed {
    /// A feed of `origin`; the file (if any) is read now.
    pub fn open(
        origin: MediaOrigin,
        looped: bool,
        decode_check: bool,
    ) -> Result<MediaFeed, String> {
        let file = match &origin {
            MediaOrigin::File(path) => Some(Rc::new(
                FileSource::open(path, Duration::ZERO)
                    .map_err(|e| format!("media file {}: {e}", path.display()))?,
            )),
            MediaOrigin::Synthetic(config) => {
                SyntheticSource::new(config, Duration::ZERO).map_err(|e| e.to_string())?;
                None
            }
        };
        Ok(MediaFeed {
            origin,
            looped,
            decode_check,
            file,
        })
    }

    /// Where the media comes from.
    pub fn origin(&self) -> &MediaOrigin {
        &self.origin
    }

    /// A live source whose first capture is at `start`.
    pub fn source(&self, start: Duration) -> LiveSource {
        let (inner, period): (Box<dyn Source>, Option<Duration>) = match (&self.file, &self.origin)
        {
            (Some(file), _) => {
                let f = file.restarted(start);
                let period = f.period();
                (Box::new(f), Some(period))
            }
            (None, MediaOrigin::Synthetic(config)) => (
                Box::new(
                    SyntheticSource::new(config, start)
                        .expect("the configuration was checked when the feed was opened"),
                ),
                None,
            ),
            (None, MediaOrigin::File(_)) => unreachable!("a file feed holds its file"),
        };
        let end = match (self.looped, period) {
            (false, Some(p)) => Some(start + p),
            _ => None,
        };
        LiveSource {
            inner,
            end,
            released: 0,
        }
    }

    /// How a receiver maps a unit's pts back to its capture time, for the
    /// sources this feed opens at `start`.
    pub fn capture_clock(&self, start: Duration) -> CaptureClock {
        CaptureClock {
            start,
            zero: self
                .file
                .as_ref()
                .map_or((0, 1), |f| f.capture_clock().zero),
        }
    }

    /// The tracks every source of this feed produces.
    pub fn tracks(&self) -> Vec<Track> {
        match (&self.file, &self.origin) {
            (Some(file), _) => file.tracks().to_vec(),
            _ => self.source(Duration::ZERO).tracks().to_vec(),
        }
    }

    /// One pass of the file's access units (the decode check's reference),
    /// when the media is a file.
    pub fn reference(&self) -> Option<&[AccessUnit]> {
        self.file.as_deref().map(FileSource::access_units)
    }
}

/// A session's live source: access units released at their capture time.
pub struct LiveSource {
    inner: Box<dyn Source>,
    /// When a source that does not loop ends.
    end: Option<Duration>,
    /// Units released so far.
    released: u64,
}

impl LiveSource {
    /// The tracks it produces.
    pub fn tracks(&self) -> &[Track] {
        self.inner.tracks()
    }

    /// When the next unit is released; `None` when the source ended.
    pub fn next_release(&self) -> Option<Duration> {
        let at = self.inner.next_release()?;
        match self.end {
            Some(end) if at >= end => None,
            _ => Some(at),
        }
    }

    /// The next unit released at or before `now` (sans-IO).
    pub fn poll_next(&mut self, now: Duration) -> Option<AccessUnit> {
        self.next_release()?;
        let unit = self.inner.poll_next(now)?;
        self.released += 1;
        Some(unit)
    }

    /// How many units it released so far.
    pub fn released(&self) -> u64 {
        self.released
    }

    /// Waits on `net`'s clock for the next unit; `None` when the source
    /// ended.
    pub async fn next<N: Net>(&mut self, net: &N) -> Option<AccessUnit> {
        loop {
            let at = self.next_release()?;
            net.sleep_until(at).await;
            if let Some(unit) = self.poll_next(net.now()) {
                return Some(unit);
            }
        }
    }
}
