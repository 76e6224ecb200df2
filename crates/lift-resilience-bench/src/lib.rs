//! Benchmarks of `lift-resilience`, side by side with tower's own layers, in `benches/`.
//!
//! They live in their own package so that `lift-resilience`'s dev-dependency on tokio's
//! `test-util` (paused-clock tests) is not unified into the benchmark build: with it, every
//! `tokio::time::Instant::now()` goes through the pausable clock. Run them with
//! `cargo bench -p lift-resilience-bench`.
