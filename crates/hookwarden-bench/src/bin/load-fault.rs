//! The load and fault test (see `hookwarden_bench::load_fault`): the axum and actix
//! receivers with the in-memory store, then with Redis killed and restarted midway;
//! mixed traffic at 64 concurrent connections; a summary table; exit 1 on any
//! violation.
//!
//! `load-fault [--requests N] [--connections C] [--outage-ms MS] [--rss-limit-mb MB] [--lease-ms MS]`

use std::process::ExitCode;
use std::time::Duration;

use hookwarden_bench::arg;
use hookwarden_bench::load_fault::{Config, Framework, RedisServer, Store, run_one, summary};

fn main() -> Result<ExitCode, Box<dyn std::error::Error + Send + Sync>> {
    let defaults = Config::default();
    let config = Config {
        requests: arg("--requests").map_or(Ok(defaults.requests), |n| n.parse())?,
        connections: arg("--connections").map_or(Ok(defaults.connections), |n| n.parse())?,
        outage: arg("--outage-ms").map_or(Ok(defaults.outage), |n| {
            n.parse().map(Duration::from_millis)
        })?,
        rss_growth_limit: arg("--rss-limit-mb").map_or(Ok(defaults.rss_growth_limit), |n| {
            n.parse::<u64>().map(|m| m << 20)
        })?,
        lease: arg("--lease-ms")
            .map_or(Ok(defaults.lease), |n| n.parse().map(Duration::from_millis))?,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut rows = Vec::new();
    for framework in [Framework::Axum, Framework::Actix] {
        rows.push(run_one(&rt, framework, Store::Memory, None, &config)?);
    }
    match RedisServer::start()? {
        Ok(mut server) => {
            for framework in [Framework::Axum, Framework::Actix] {
                rows.push(run_one(
                    &rt,
                    framework,
                    Store::Redis,
                    Some(&mut server),
                    &config,
                )?);
            }
        }
        Err(reason) => {
            if std::env::var("HOOKWARDEN_REQUIRE_REDIS").is_ok_and(|v| v == "1") {
                return Err(format!("HOOKWARDEN_REQUIRE_REDIS=1 but {reason}").into());
            }
            println!("Redis runs skipped: {reason}");
        }
    }
    println!("{}", summary(&rows));
    let mut failed = false;
    for row in &rows {
        for v in row.violations.iter().take(20) {
            failed = true;
            println!("VIOLATION {}: {v}", row.name);
        }
    }
    println!(
        "{}",
        if failed {
            "FAILED"
        } else {
            "all checks passed"
        }
    );
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
