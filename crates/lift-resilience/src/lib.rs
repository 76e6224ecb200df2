//! lift-resilience
