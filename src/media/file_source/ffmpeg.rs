//! FFmpeg initialisation for the whole crate: the library is initialised
//! once, and its log is silenced, because FFmpeg otherwise prints to the
//! user's terminal from library code (the decode check's concealment
//! messages, a demuxer's complaints). What goes wrong reaches the caller as
//! an error or a verdict instead.

use std::sync::OnceLock;

use ffmpeg_next as ff;

/// Initialises FFmpeg and sets its log level to quiet, once per process;
/// every later call returns the first call's result.
pub(crate) fn init() -> Result<(), ff::Error> {
    static INIT: OnceLock<Result<(), ff::Error>> = OnceLock::new();
    *INIT.get_or_init(|| {
        ff::init()?;
        ff::util::log::set_level(ff::util::log::Level::Quiet);
        Ok(())
    })
}
