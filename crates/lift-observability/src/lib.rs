//! lift-observability
