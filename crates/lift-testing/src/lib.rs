//! lift-testing
