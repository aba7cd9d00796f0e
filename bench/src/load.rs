//! Latency figures: many connections sending signed GETs for a bounded time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::api::{Api, client};

#[derive(Debug, Clone, Copy, Default)]
pub struct Load {
    pub requests: usize,
    pub errors: usize,
    seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Load {
    pub fn rps(&self) -> f64 {
        if self.seconds > 0.0 { self.requests as f64 / self.seconds } else { 0.0 }
    }
}

/// The value at fraction `q` of sorted latencies (nearest rank).
fn percentile(sorted_micros: &[u32], q: f64) -> f64 {
    if sorted_micros.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted_micros.len() as f64).ceil() as usize).clamp(1, sorted_micros.len());
    sorted_micros[rank - 1] as f64 / 1000.0
}

/// `connections` tasks, each with its own keep-alive client, send signed GETs of the paths
/// `path(task, i)` for `duration` or until `max_requests` were sent in all; with several
/// `apis` (replicas), each task's requests go round-robin over them.
pub async fn load(
    apis: &[Arc<Api>],
    connections: usize,
    duration: Duration,
    max_requests: usize,
    path: Arc<dyn Fn(usize, usize) -> String + Send + Sync>,
) -> Load {
    let sent = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..connections {
        let (apis, sent, errors, path) = (apis.to_vec(), Arc::clone(&sent), Arc::clone(&errors), Arc::clone(&path));
        tasks.spawn(async move {
            let http = client();
            let mut micros = Vec::with_capacity(4096);
            let mut i = 0;
            while started.elapsed() < duration && sent.fetch_add(1, Ordering::Relaxed) < max_requests {
                let api = &apis[(task + i) % apis.len()];
                let request = api.request(&http, Method::GET, &path(task, i), Vec::new());
                let begun = Instant::now();
                let ok = match request.send().await {
                    Ok(response) => response.status() == 200 && response.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    micros.push(begun.elapsed().as_micros().min(u32::MAX as u128) as u32);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                i += 1;
            }
            micros
        });
    }
    let mut all = Vec::new();
    while let Some(done) = tasks.join_next().await {
        all.extend(done.unwrap_or_default());
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort_unstable();
    Load {
        requests: all.len(),
        errors: errors.load(Ordering::Relaxed),
        seconds,
        p50_ms: percentile(&all, 0.50),
        p99_ms: percentile(&all, 0.99),
    }
}

/// A small xorshift, so random picks need no extra crate.
pub fn pick(seed: usize, i: usize, len: usize) -> usize {
    let mut x = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64).wrapping_add(0xD1B5_4A32_D192_ED03);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    (x % len.max(1) as u64) as usize
}
