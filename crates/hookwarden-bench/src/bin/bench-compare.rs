//! Compares two running receivers (`--a` and `--b`, say a bare handler and the same
//! handler behind hookwarden) under the same load, interleaved: each round sends a
//! batch of unique, validly signed 1 KiB Standard Webhooks deliveries to A, then a
//! batch to B (B first on odd rounds), over C keep-alive connections per server, and
//! times each batch. A virtual machine's speed drifts by tens of percent within a
//! minute; batches a few tens of milliseconds apart see the same drift, so the ratio
//! per round is steady where back-to-back runs are not. Prints every round's B/A
//! rate ratio and their median.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hookwarden_bench::{Delivery, arg, signed_deliveries};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Prepared = Arc<Vec<Delivery>>;

async fn connect(addr: &str, n: usize) -> Result<Vec<SendRequest<Full<Bytes>>>, BoxError> {
    let mut senders = Vec::with_capacity(n);
    for _ in 0..n {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        senders.push(send);
    }
    Ok(senders)
}

/// Send `prepared[range]` over `senders` (request i on connection i % n); the time it
/// took, and the senders back. Every response must be 200.
async fn batch(
    senders: Vec<SendRequest<Full<Bytes>>>,
    prepared: &Prepared,
    range: std::ops::Range<usize>,
    host: &str,
) -> Result<(Duration, Vec<SendRequest<Full<Bytes>>>), BoxError> {
    let n = senders.len();
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for (c, mut send) in senders.into_iter().enumerate() {
        let (prepared, range, host) = (Arc::clone(prepared), range.clone(), host.to_owned());
        tasks.push(tokio::spawn(async move {
            for i in range.skip(c).step_by(n) {
                let (headers, body) = &prepared[i];
                let mut req = Request::post("/hooks").header("host", &host);
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                send.ready().await?;
                let res = send
                    .send_request(req.body(Full::new(body.clone()))?)
                    .await?;
                let status = res.status();
                res.into_body().collect().await?;
                if status != 200 {
                    return Err(format!("status {status}").into());
                }
            }
            Ok::<_, BoxError>(send)
        }));
    }
    let mut back = Vec::with_capacity(n);
    for t in tasks {
        back.push(t.await??);
    }
    Ok((start.elapsed(), back))
}

fn main() -> Result<(), BoxError> {
    let a = arg("--a").ok_or("--a ADDR required (the reference, e.g. the bare handler)")?;
    let b = arg("--b").ok_or("--b ADDR required (the one compared with A)")?;
    let rounds: usize = arg("--rounds").map_or(Ok(40), |n| n.parse())?;
    let per_batch: usize = arg("--batch").map_or(Ok(4000), |n| n.parse())?;
    let connections: usize = arg("--connections").map_or(Ok(32), |n| n.parse())?;
    // One unique delivery per request and round; A and B (separate processes, separate
    // dedup stores) are each sent every delivery once.
    let total = rounds * per_batch;
    let prepared: Prepared = Arc::new(signed_deliveries(total, 1024)?);

    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?
        .block_on(async move {
            let mut to_a = connect(&a, connections).await?;
            let mut to_b = connect(&b, connections).await?;
            let mut ratios = Vec::with_capacity(rounds);
            let (mut time_a, mut time_b) = (Duration::ZERO, Duration::ZERO);
            for round in 0..rounds {
                let range = round * per_batch..(round + 1) * per_batch;
                let (ta, tb);
                if round % 2 == 0 {
                    (ta, to_a) = batch(to_a, &prepared, range.clone(), &a).await?;
                    (tb, to_b) = batch(to_b, &prepared, range, &b).await?;
                } else {
                    (tb, to_b) = batch(to_b, &prepared, range.clone(), &b).await?;
                    (ta, to_a) = batch(to_a, &prepared, range, &a).await?;
                }
                time_a += ta;
                time_b += tb;
                // Rate ratio B / A = time A / time B for the same number of requests.
                let ratio = ta.as_secs_f64() / tb.as_secs_f64();
                println!(
                    "round {:>3}: A {:>8.1} ms, B {:>8.1} ms, B/A rate {ratio:.3}",
                    round + 1,
                    ta.as_secs_f64() * 1e3,
                    tb.as_secs_f64() * 1e3
                );
                ratios.push(ratio);
            }
            ratios.sort_by(f64::total_cmp);
            let median = ratios[ratios.len() / 2];
            let q1 = ratios[ratios.len() / 4];
            let q3 = ratios[ratios.len() * 3 / 4];
            #[allow(clippy::cast_precision_loss)]
            let per = |t: Duration| total as f64 / t.as_secs_f64();
            println!(
                "requests per server={total} (rounds={rounds} x batch={per_batch}) connections={connections}\n\
                 A {:.0} req/s, B {:.0} req/s overall; B/A rate per round: median {median:.3} (quartiles {q1:.3}-{q3:.3})",
                per(time_a),
                per(time_b)
            );
            Ok(())
        })
}
