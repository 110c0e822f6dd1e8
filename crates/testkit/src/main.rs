//! `pgrelocate-testkit`: prefetches the pinned PostgreSQL builds (CI runs it before the tests).

use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use clap::{Parser, Subcommand};
use pgrelocate_testkit::cluster::reap_abandoned;
use pgrelocate_testkit::fetch::{fetch, Fetched};
use pgrelocate_testkit::versions::{pinned, PinnedBuild, PINNED};
use pgrelocate_testkit::{cache, Installation};

/// PostgreSQL builds for pgrelocate's tests.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Downloads pinned builds into the cache (all of them when no major is named).
    Fetch {
        /// Every pinned major.
        #[arg(long, conflicts_with = "majors")]
        all: bool,
        /// Majors to fetch, e.g. `10 15 18`.
        majors: Vec<u32>,
    },
    /// Stops and removes throwaway clusters left by test processes that were killed.
    Reap,
    /// Prints the bin directory of a major's pinned build, fetching it if needed.
    BinDir {
        /// The major, e.g. `16`.
        major: u32,
    },
}

/// Builds fetched at once: downloads overlap, unpacking is bounded by the 2 cores.
const PARALLEL_FETCHES: usize = 3;

fn main() -> ExitCode {
    match Args::parse().command {
        Cmd::Fetch { all: _, majors } => fetch_builds(&majors),
        Cmd::Reap => match reap_abandoned() {
            Ok(reaped) => {
                for dir in &reaped {
                    println!("reaped {}", dir.display());
                }
                println!("{} abandoned cluster(s) reaped", reaped.len());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Cmd::BinDir { major } => match Installation::embedded(major) {
            Ok(installation) => {
                println!("{}", installation.bin_dir().display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

fn fetch_builds(majors: &[u32]) -> ExitCode {
    let mut builds: Vec<&'static PinnedBuild> = Vec::new();
    if majors.is_empty() {
        builds.extend(PINNED);
    } else {
        for &major in majors {
            match pinned(major) {
                Some(build) => builds.push(build),
                None => {
                    eprintln!("error: PostgreSQL {major} is not pinned (supported: 10 to 18)");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    println!("cache: {}", cache::postgres_root().display());
    let started = Instant::now();
    let queue = Mutex::new(builds.into_iter());
    let failures = Mutex::new(0usize);
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL_FETCHES {
            scope.spawn(|| loop {
                let Some(build) = queue.lock().unwrap_or_else(|e| e.into_inner()).next() else {
                    break;
                };
                let t = Instant::now();
                let name = format!("PostgreSQL {} ({})", build.major, build.npm_version);
                match fetch(build) {
                    Ok(Fetched::Cached(dir)) => println!("{name}: cached in {}", dir.display()),
                    Ok(Fetched::Installed(dir)) => println!(
                        "{name}: fetched in {:.1} s into {}",
                        t.elapsed().as_secs_f64(),
                        dir.display()
                    ),
                    Err(e) => {
                        eprintln!("{name}: error: {e}");
                        *failures.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                    }
                }
            });
        }
    });
    let failures = *failures.lock().unwrap_or_else(|e| e.into_inner());
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
