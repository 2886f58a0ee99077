//! The `streamsim` binary: parse the command line, run the library.

fn main() {
    match streamsim::cli::main() {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(2);
        }
    }
}
