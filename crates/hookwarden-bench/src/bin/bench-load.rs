//! Sends N unique, validly signed 1 KiB Standard Webhooks deliveries over C keep-alive
//! HTTP/1.1 connections and prints the throughput and the status counts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use hookwarden_bench::{arg, signed_deliveries};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = arg("--addr").unwrap_or_else(|| "127.0.0.1:3900".into());
    let requests: usize = arg("--requests").map_or(Ok(200_000), |n| n.parse())?;
    let connections: usize = arg("--connections").map_or(Ok(32), |n| n.parse())?;
    let size: usize = arg("--size").map_or(Ok(1024), |n| n.parse())?;
    let prepared = Arc::new(signed_deliveries(requests, size).map_err(|e| e.to_string())?);

    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?.block_on(async move {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..connections {
            let (prepared, addr) = (prepared.clone(), addr.clone());
            tasks.push(tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(&addr).await?;
                stream.set_nodelay(true)?;
                let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
                tokio::spawn(conn);
                let mut counts: BTreeMap<u16, usize> = BTreeMap::new();
                for (headers, body) in prepared.iter().skip(c).step_by(connections) {
                    let mut req = Request::post("/hooks").header("host", &addr);
                    for (k, v) in headers {
                        req = req.header(k, v);
                    }
                    send.ready().await?;
                    let res = send.send_request(req.body(Full::new(body.clone()))?).await?;
                    *counts.entry(res.status().as_u16()).or_default() += 1;
                    res.into_body().collect().await?;
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(counts)
            }));
        }
        let mut counts: BTreeMap<u16, usize> = BTreeMap::new();
        for t in tasks {
            for (status, n) in t.await?.map_err(|e| e.to_string())? {
                *counts.entry(status).or_default() += n;
            }
        }
        let elapsed = start.elapsed();
        #[allow(clippy::cast_precision_loss)]
        let rate = requests as f64 / elapsed.as_secs_f64();
        println!("requests={requests} connections={connections} size={size} elapsed={elapsed:.2?} rate={rate:.0}/s statuses={counts:?}");
        Ok(())
    })
}
