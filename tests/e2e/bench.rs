//! Timing figures that are not assertions (ignored in the normal run). Run with:
//! `cargo test --release -p xaa-e2e -- --ignored bench_ --nocapture`

use std::time::Instant;

/// Median time of `xaa_lab::testing::TestLab::builder().start()` over 20 starts.
#[tokio::test]
#[ignore = "a timing figure, not a check: run it on purpose"]
async fn bench_testlab_start() {
    let mut ms = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let lab = xaa_lab::testing::TestLab::builder().start().await.unwrap();
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        drop(lab);
    }
    ms.sort_by(f64::total_cmp);
    println!("TestLab start, 20 runs: median {:.2} ms, min {:.2} ms, max {:.2} ms", ms[10], ms[0], ms[19]);
}
