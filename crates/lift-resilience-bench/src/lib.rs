//! Benchmarks of `lift-resilience` live in `benches/`.
