//! Sequences of claim / complete / release / advance-time / purge on a `MemoryStore`
//! with a `ManualTime`, checked against a plain `HashMap` model. With room for every
//! key the model is exact; with a small bound, evictions make it an upper bound (a
//! completed key may come back as New, never an in-flight one while its lease runs).
#![no_main]

use std::collections::HashMap;
use std::time::Duration;

use arbitrary::Arbitrary;
use hookwarden_core::dedup::{
    Claim, ClaimToken, DedupKey, DedupStore, ManualTime, MemoryStore, StoreErrorKind,
};
use hookwarden_fuzz::now_or_never;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    Claim {
        key: u8,
        lease_ms: u16,
    },
    Complete {
        key: u8,
        token: u8,
        retention_ms: u16,
    },
    Release {
        key: u8,
        token: u8,
    },
    ReleaseDetached {
        key: u8,
        token: u8,
    },
    Advance {
        ms: u16,
    },
    Purge,
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// 0: room for every key (exact model); else the bound.
    bound: u8,
    ops: Vec<Op>,
}

const KEYS: u8 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    InFlight(u128),
    Completed,
}

fn ms(n: u16) -> Duration {
    Duration::from_millis(u64::from(n))
}

fn key(k: u8) -> DedupKey {
    DedupKey::new("fuzz", &format!("k{}", k % KEYS))
}

fuzz_target!(|input: Input| {
    let bound = match input.bound % 8 {
        0 => 1_000,
        b => usize::from(b),
    };
    let exact = bound >= usize::from(KEYS);
    let time = ManualTime::new();
    let Ok(store) = MemoryStore::builder()
        .with_max_entries(bound)
        .with_time(time.clone())
        .build()
    else {
        panic!("store does not build");
    };
    // key -> (slot, expires at, in ns)
    let mut model: HashMap<u8, (Slot, u64)> = HashMap::new();
    let mut tokens: Vec<(u8, ClaimToken)> = Vec::new();
    let now = |t: &ManualTime| u64::try_from(t.now().as_nanos()).unwrap_or(u64::MAX);
    let token_for = |tokens: &[(u8, ClaimToken)], k: u8, t: u8| -> ClaimToken {
        // Mostly a token issued for this key; sometimes any token, or a fresh one.
        let own: Vec<&ClaimToken> = tokens
            .iter()
            .filter(|(kk, _)| *kk == k)
            .map(|(_, t)| t)
            .collect();
        match t % 4 {
            0 | 1 if !own.is_empty() => own[usize::from(t) % own.len()].clone(),
            2 if !tokens.is_empty() => tokens[usize::from(t) % tokens.len()].1.clone(),
            _ => ClaimToken::from_u128(u128::from(t) << 64 | 7),
        }
    };
    for op in input.ops.into_iter().take(200) {
        let t = now(&time);
        match op {
            Op::Claim { key: k, lease_ms } => {
                let k = k % KEYS;
                let lease = ms(lease_ms);
                let got = now_or_never(store.claim(&key(k), lease))
                    .expect("memory store is ready at once");
                let live = model.get(&k).filter(|(_, exp)| t < *exp).map(|(s, _)| *s);
                let live_inflight = model
                    .values()
                    .filter(|(s, exp)| matches!(s, Slot::InFlight(_)) && t < *exp)
                    .count();
                let expires = t + u64::try_from(lease.as_nanos()).unwrap_or(u64::MAX).max(1);
                match (got, live) {
                    (Ok(Claim::New(tok)), None) => {
                        model.insert(k, (Slot::InFlight(tok.as_u128()), expires));
                        tokens.push((k, tok));
                    }
                    (Ok(Claim::New(tok)), Some(Slot::Completed)) if !exact => {
                        // Evicted to make room.
                        assert!(
                            store.evictions() > 0,
                            "completed key came back without an eviction"
                        );
                        model.insert(k, (Slot::InFlight(tok.as_u128()), expires));
                        tokens.push((k, tok));
                    }
                    (Ok(Claim::InFlight), Some(Slot::InFlight(_))) => {}
                    (Ok(Claim::Completed), Some(Slot::Completed)) => {}
                    (Err(e), None | Some(Slot::Completed))
                        if !exact && e.kind() == StoreErrorKind::Full =>
                    {
                        assert!(
                            live_inflight >= bound,
                            "Full with {live_inflight} live claims, bound {bound}"
                        );
                    }
                    (got, live) => {
                        panic!("claim k{k} at {t}: store {got:?}, model {live:?} ({model:?})")
                    }
                }
            }
            Op::Complete {
                key: k,
                token,
                retention_ms,
            } => {
                let k = k % KEYS;
                let tok = token_for(&tokens, k, token);
                let retention = ms(retention_ms);
                let got = now_or_never(store.complete(&key(k), &tok, retention))
                    .expect("ready")
                    .expect("no error");
                let holds = matches!(model.get(&k), Some((Slot::InFlight(x), exp)) if *x == tok.as_u128() && t < *exp);
                if exact {
                    assert_eq!(got, holds, "complete k{k}");
                } else {
                    assert!(!got || holds, "complete k{k} succeeded without the claim");
                }
                if got {
                    let expires = t + u64::try_from(retention.as_nanos())
                        .unwrap_or(u64::MAX)
                        .max(1);
                    model.insert(k, (Slot::Completed, expires));
                }
            }
            Op::Release { key: k, token } | Op::ReleaseDetached { key: k, token } => {
                let detached = matches!(op, Op::ReleaseDetached { .. });
                let k = k % KEYS;
                let tok = token_for(&tokens, k, token);
                let (holds, held_expired) = match model.get(&k) {
                    Some((Slot::InFlight(x), exp)) if *x == tok.as_u128() => (t < *exp, t >= *exp),
                    _ => (false, false),
                };
                if detached {
                    store.release_detached(key(k), tok);
                } else {
                    let got = now_or_never(store.release(&key(k), &tok))
                        .expect("ready")
                        .expect("no error");
                    if exact {
                        assert_eq!(got, holds, "release k{k}");
                    } else {
                        assert!(!got || holds, "release k{k} succeeded without the claim");
                    }
                }
                if holds || held_expired {
                    model.remove(&k);
                }
            }
            Op::Advance { ms: n } => time.advance(ms(n)),
            Op::Purge => {
                let removed = store.purge_expired();
                let expired = model.values().filter(|(_, exp)| t >= *exp).count();
                if exact {
                    assert!(
                        removed <= expired,
                        "purge at {t} removed {removed}: {model:?}"
                    );
                }
                model.retain(|_, (_, exp)| t < *exp);
                if exact {
                    assert_eq!(
                        store.len(),
                        model.len(),
                        "len after purge at {t}: {model:?}"
                    );
                }
            }
        }
        if exact {
            // Expired entries may have been reaped by the store already.
            let t = now(&time);
            let live = model.values().filter(|(_, exp)| t < *exp).count();
            let len = store.len();
            assert!(
                live <= len && len <= model.len(),
                "len {len} at {t}: {model:?}"
            );
            assert_eq!(store.evictions(), 0);
        } else {
            assert!(store.len() <= bound);
        }
    }
});
