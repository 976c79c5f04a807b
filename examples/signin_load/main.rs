//! Load driver: complete sign-ins through an app served by the `bench_server` example and the
//! development provider, each simulated browser with its own cookie jar, checking that `/me`
//! names exactly the user it approved as. Exits non-zero on any error or leak.
//!
//! ```text
//! cargo run --release --example signin_load -- --target http://127.0.0.1:8090/ \
//!     --count 2000 --concurrency 64 [--users 64] [--pid APP_PID] [--handshakes-only] \
//!     [--provider NAME]
//! ```
//!
//! `--provider NAME` signs in at `/auth/NAME` (default `dev`); any app whose `/me` answers
//! `{"user": …}` or an account with `identities[].username` can be driven (the example server,
//! the hand-written peer of BENCHMARKS.md).
//!
//! Prints sign-ins per second, errors, leaks and the p50/p99 latency; with `--pid`, also the
//! app process's CPU time per sign-in (utime + stime from `/proc/PID/stat`) and its `VmRSS`.
//! `--handshakes-only` starts handshakes (`GET /auth/dev`) and never completes them.

mod driver;

use std::process::ExitCode;

use url::Url;

fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args();
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
    }
    None
}

fn number(name: &str, default: usize) -> Result<usize, String> {
    arg(name).map_or(Ok(default), |n| {
        n.parse().map_err(|e| format!("{name} {n:?}: {e}"))
    })
}

fn options() -> Result<(driver::Options, Option<u32>), String> {
    let target = arg("--target").unwrap_or_else(|| "http://127.0.0.1:8090/".to_owned());
    let target = Url::parse(&target).map_err(|e| format!("--target {target:?}: {e}"))?;
    let pid = arg("--pid")
        .map(|p| p.parse().map_err(|e| format!("--pid {p:?}: {e}")))
        .transpose()?;
    Ok((
        driver::Options {
            target,
            count: number("--count", 1000)?,
            concurrency: number("--concurrency", 8)?,
            users: number("--users", 64)?,
            handshakes_only: std::env::args().any(|a| a == "--handshakes-only"),
            provider: arg("--provider").unwrap_or_else(|| "dev".to_owned()),
        },
        pid,
    ))
}

#[actix_rt::main]
async fn main() -> ExitCode {
    let (options, pid) = match options() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("signin_load: {message}");
            return ExitCode::from(2);
        }
    };
    let before = pid.and_then(driver::cpu_time);
    let rss_before = pid.and_then(driver::vm_rss);
    let report = driver::run(&options).await;
    let what = if options.handshakes_only {
        "handshakes"
    } else {
        "sign-ins"
    };
    println!("{what} at concurrency {}: {report}", options.concurrency);
    if let (Some(pid), Some(before), Some(after)) = (pid, before, pid.and_then(driver::cpu_time)) {
        let cpu = after.saturating_sub(before);
        let mib = |bytes: Option<u64>| bytes.map_or(f64::NAN, |b| b as f64 / 1048576.0);
        println!(
            "app pid {pid}: CPU {:.2} s = {:.3} ms per {}; VmRSS {:.1} MiB (before {:.1} MiB)",
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1e3 / report.completed.max(1) as f64,
            what.trim_end_matches('s'),
            mib(driver::vm_rss(pid)),
            mib(rss_before),
        );
    }
    if report.is_clean() && report.completed == options.count {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
