//! Tracing to stderr: warnings by default, more with each `-v`, or `RUST_LOG` when set.

use tracing_subscriber::EnvFilter;

/// Installs the stderr subscriber for `-v` counted `verbose` times.
pub fn init(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,pgrelocate_engine=info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(verbose >= 2)
        .try_init();
}
