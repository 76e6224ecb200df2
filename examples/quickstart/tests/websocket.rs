//! The quick start's WebSocket contract (filled in below).
