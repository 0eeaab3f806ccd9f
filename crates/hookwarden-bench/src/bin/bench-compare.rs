//! Compares two running receivers (`--a` and `--b`, say a bare handler and the same
//! handler behind hookwarden) under the same load, interleaved: each round sends a
//! batch of unique, validly signed 1 KiB Standard Webhooks deliveries to A, then a
//! batch to B (B first on odd rounds), over C keep-alive connections per server, and
//! times each batch. A virtual machine's speed drifts by tens of percent within a
//! minute; batches a few tens of milliseconds apart see the same drift, so the ratio
//! per round is steady where back-to-back runs are not. Prints every round's B/A
//! rate ratio and their median.
//!
//! `--client raw` (the default) writes each request from bytes serialized before the
//! run and reads the response with a minimal parser, as wrk does: the client's cost
//! per request is small, so a one-thread server, not the client, is what limits the
//! rate. `--client hyper` sends through hyper's client (builds and checks every
//! request's headers: about as costly as the server, which then is not always the
//! limit; the figures before 2026-12-01 (session 8) used it).

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
/// Each delivery as the bytes of one HTTP/1.1 request.
type Raw = Arc<Vec<Vec<u8>>>;

/// `delivery` as an HTTP/1.1 `POST /hooks` request.
fn serialize((headers, body): &Delivery) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 256);
    out.extend_from_slice(b"POST /hooks HTTP/1.1\r\nhost: 127.0.0.1\r\n");
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// Where one whole response ends in `buf`, if it is there yet; an error unless its
/// status is 200 and it declares its length.
fn response_end(buf: &[u8]) -> Result<Option<usize>, BoxError> {
    let Some(head) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head_text = std::str::from_utf8(&buf[..head])?;
    if !head_text.starts_with("HTTP/1.1 200 ") {
        return Err(format!("response: {}", head_text.lines().next().unwrap_or("")).into());
    }
    let length = head_text
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .ok_or("response without content-length")?;
    let end = head + 4 + length;
    Ok((buf.len() >= end).then_some(end))
}

async fn connect_raw(addr: &str, n: usize) -> Result<Vec<tokio::net::TcpStream>, BoxError> {
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        streams.push(stream);
    }
    Ok(streams)
}

/// [`batch`] for `--client raw`: one request in flight per connection.
async fn batch_raw(
    streams: Vec<tokio::net::TcpStream>,
    raw: &Raw,
    range: std::ops::Range<usize>,
) -> Result<(Duration, Vec<tokio::net::TcpStream>), BoxError> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let n = streams.len();
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for (c, mut stream) in streams.into_iter().enumerate() {
        let (raw, range) = (Arc::clone(raw), range.clone());
        tasks.push(tokio::spawn(async move {
            let mut buf = Vec::with_capacity(4096);
            for i in range.skip(c).step_by(n) {
                stream.write_all(&raw[i]).await?;
                loop {
                    if let Some(end) = response_end(&buf)? {
                        buf.drain(..end);
                        break;
                    }
                    if stream.read_buf(&mut buf).await? == 0 {
                        return Err("connection closed".into());
                    }
                }
            }
            Ok::<_, BoxError>(stream)
        }));
    }
    let mut back = Vec::with_capacity(n);
    for t in tasks {
        back.push(t.await??);
    }
    Ok((start.elapsed(), back))
}

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
    let client = arg("--client").unwrap_or_else(|| "raw".into());
    if client != "raw" && client != "hyper" {
        return Err(format!("unknown client {client}: raw or hyper").into());
    }
    // One unique delivery per request and round; A and B (separate processes, separate
    // dedup stores) are each sent every delivery once.
    let total = rounds * per_batch;
    let prepared: Prepared = Arc::new(signed_deliveries(total, 1024)?);
    let raw: Raw = Arc::new(if client == "raw" {
        prepared.iter().map(serialize).collect()
    } else {
        Vec::new()
    });

    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?
        .block_on(async move {
            let (mut to_a, mut to_b, mut raw_a, mut raw_b) = if client == "raw" {
                let a = connect_raw(&a, connections).await?;
                let b = connect_raw(&b, connections).await?;
                (Vec::new(), Vec::new(), a, b)
            } else {
                let a = connect(&a, connections).await?;
                let b = connect(&b, connections).await?;
                (a, b, Vec::new(), Vec::new())
            };
            let mut ratios = Vec::with_capacity(rounds);
            let (mut time_a, mut time_b) = (Duration::ZERO, Duration::ZERO);
            for round in 0..rounds {
                let range = round * per_batch..(round + 1) * per_batch;
                let (ta, tb);
                if client == "raw" {
                    if round % 2 == 0 {
                        (ta, raw_a) = batch_raw(raw_a, &raw, range.clone()).await?;
                        (tb, raw_b) = batch_raw(raw_b, &raw, range).await?;
                    } else {
                        (tb, raw_b) = batch_raw(raw_b, &raw, range.clone()).await?;
                        (ta, raw_a) = batch_raw(raw_a, &raw, range).await?;
                    }
                } else if round % 2 == 0 {
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
                "requests per server={total} (rounds={rounds} x batch={per_batch}) connections={connections} client={client}\n\
                 A {:.0} req/s, B {:.0} req/s overall; B/A rate per round: median {median:.3} (quartiles {q1:.3}-{q3:.3})",
                per(time_a),
                per(time_b)
            );
            Ok(())
        })
}
