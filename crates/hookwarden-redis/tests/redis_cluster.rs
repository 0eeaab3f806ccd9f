//! RedisStore on a real three-node Redis Cluster (feature `cluster`): keys spread over
//! every node's slots, claims decided exactly once, across two store instances.
#![cfg(feature = "cluster")]
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::time::Duration;

use hookwarden_core::dedup::{Claim, DedupKey, DedupStore};
use hookwarden_redis::RedisStore;

const LEASE: Duration = Duration::from_secs(60);
const KEEP: Duration = Duration::from_secs(3600);

async fn store(urls: &[String]) -> RedisStore {
    RedisStore::cluster_builder(urls)
        .unwrap()
        .with_prefix(support::unique_prefix("cluster"))
        .connect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_is_claimed_once_and_completed_on_whichever_node_owns_it() {
    let Some(cluster) = support::own_cluster(3) else {
        return;
    };
    let urls = cluster.urls();
    // Two replicas of a service, each connected through a different node.
    let a = store(&urls[..1]).await;
    let b = RedisStore::cluster_builder(&urls[2..])
        .unwrap()
        .with_prefix(a.prefix())
        .connect()
        .await
        .unwrap();
    a.ping().await.unwrap();
    // 60 keys: their slots fall on all three nodes (a single-node connection gets
    // MOVED for two thirds of them).
    for i in 0..60 {
        let key = DedupKey::new("test", &format!("evt_{i}"));
        let Claim::New(token) = a.claim(&key, LEASE).await.unwrap() else {
            panic!("evt_{i}: not new");
        };
        assert_eq!(
            b.claim(&key, LEASE).await.unwrap(),
            Claim::InFlight,
            "evt_{i}"
        );
        assert!(a.complete(&key, &token, KEEP).await.unwrap(), "evt_{i}");
        assert_eq!(
            b.claim(&key, LEASE).await.unwrap(),
            Claim::Completed,
            "evt_{i}"
        );
    }
    // The same keys through a plain single-node store: the other nodes' slots answer
    // MOVED, which is what the cluster connection follows.
    let single = RedisStore::builder(&urls[0])
        .unwrap()
        .with_prefix(a.prefix())
        .connect()
        .await
        .unwrap();
    let mut moved = 0;
    for i in 0..60 {
        let key = DedupKey::new("test", &format!("evt_{i}"));
        match single.claim(&key, LEASE).await {
            Ok(claim) => assert_eq!(claim, Claim::Completed, "evt_{i}"),
            Err(e) => {
                assert!(e.to_string().contains("Moved"), "{e}");
                moved += 1;
            }
        }
    }
    assert!(
        (20..60).contains(&moved),
        "{moved} of 60 keys on other nodes"
    );
    // A released claim is new again, from the other instance.
    let key = DedupKey::new("test", "evt_released");
    let Claim::New(token) = b.claim(&key, LEASE).await.unwrap() else {
        panic!("not new");
    };
    assert!(b.release(&key, &token).await.unwrap());
    assert!(matches!(a.claim(&key, LEASE).await.unwrap(), Claim::New(_)));
}

#[tokio::test]
async fn cluster_urls_are_checked_without_echoing_them() {
    let err = RedisStore::cluster_builder(["redis://127.0.0.1:7000", "http://user:hunter2@x"])
        .unwrap_err();
    assert!(err.to_string().contains("cluster node 1"), "{err}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let none: [&str; 0] = [];
    assert_eq!(
        RedisStore::cluster_builder(none)
            .map(|_| ())
            .unwrap_err()
            .message(),
        "a Redis Cluster needs at least one node URL"
    );
    let err = RedisStore::cluster_builder(["redis://127.0.0.1:7000"])
        .unwrap()
        .connect_lazy()
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        err.message(),
        "a Redis Cluster store connects at start-up: use connect()"
    );
}
