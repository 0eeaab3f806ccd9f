//! A small, fast version of the `load-fault` program (2,000 requests per run): the
//! axum and actix receivers with the in-memory store (every check strict), then with
//! a private Redis killed and restarted midway. The Redis part is skipped with a
//! printed reason when `redis-server` is missing, unless `HOOKWARDEN_REQUIRE_REDIS=1`.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use hookwarden_bench::load_fault::{Config, Framework, RedisServer, Store, run_one, summary};

/// The runs measure the process's resident memory: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn config() -> Config {
    Config {
        requests: 2_000,
        // Runs of this size grow the process by 2–6 MiB (both frameworks' runtimes
        // started included); a leak of every 1 KiB body would add 2 MiB more.
        rss_growth_limit: 24 << 20,
        ..Config::default()
    }
}

#[test]
fn memory_store_runs_have_no_violation() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    for framework in [Framework::Axum, Framework::Actix] {
        rows.push(run_one(&rt, framework, Store::Memory, None, &config()).expect("run"));
    }
    println!("{}", summary(&rows));
    for row in &rows {
        assert!(
            row.violations.is_empty(),
            "{}: {:?}",
            row.name,
            row.violations
        );
        assert_eq!(row.exactly_once, row.uniques);
    }
}

#[test]
fn redis_restart_keeps_statuses_and_runs_every_delivery() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let server = RedisServer::start().expect("redis-server starts");
    let mut server = match server {
        Ok(s) => s,
        Err(reason) => {
            assert!(
                std::env::var("HOOKWARDEN_REQUIRE_REDIS").is_err_and(|_| true)
                    || std::env::var("HOOKWARDEN_REQUIRE_REDIS").is_ok_and(|v| v != "1"),
                "HOOKWARDEN_REQUIRE_REDIS=1 but {reason}"
            );
            eprintln!("skipped: {reason}");
            return;
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let config = Config {
        outage: Duration::from_millis(1000),
        ..config()
    };
    let mut rows = Vec::new();
    for framework in [Framework::Axum, Framework::Actix] {
        rows.push(run_one(&rt, framework, Store::Redis, Some(&mut server), &config).expect("run"));
    }
    println!("{}", summary(&rows));
    for row in &rows {
        // The outage (1 s) is shorter than the store's completion retry (3 s by
        // default): a completion that fails while Redis is down is retried until it
        // lands, so no delivery runs twice and every check is strict.
        assert!(
            row.violations.is_empty(),
            "{}: {:?}",
            row.name,
            row.violations
        );
    }
}
