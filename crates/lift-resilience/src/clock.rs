//! One clock read per synchronous pass through the layers' `call`s.
//!
//! `tokio::time::Instant::now()` is a system call or a vDSO clock read (tens of nanoseconds on
//! a virtual machine); a stack of five layers used to read it seven times per call. In `call`,
//! the outermost layer that needs the time reads it once and the layers further in, entered
//! from it synchronously, reuse that reading: what runs between them is their `call` prologue,
//! which costs nanoseconds. Each layer drops the reading when its inner `call` returns. The only
//! code that can see a reading older than "now" is a layer of this crate nested inside the
//! synchronous `call` of another service of the same pass, and then only by the time that
//! `call` itself spent (tower services do their work in the future, not in `call`).
//!
//! Completion times (read in `poll`) are never shared: anything may have run before them.
//! Under tokio's paused clock time does not move inside a synchronous pass, so tests observe
//! exactly what they did before.

use std::cell::Cell;

use tokio::time::Instant;

struct State {
    depth: Cell<u32>,
    now: Cell<Option<Instant>>,
}

thread_local! {
    static PASS: State = const {
        State {
            depth: Cell::new(0),
            now: Cell::new(None),
        }
    };
}

/// Marks a layer's `call` as part of the current pass; the reading is dropped when the
/// outermost pass ends.
pub(crate) struct Pass(());

impl Pass {
    #[inline]
    pub(crate) fn enter() -> Self {
        let _ = PASS.try_with(|p| p.depth.set(p.depth.get() + 1));
        Pass(())
    }
}

impl Drop for Pass {
    #[inline]
    fn drop(&mut self) {
        let _ = PASS.try_with(|p| {
            let d = p.depth.get().saturating_sub(1);
            p.depth.set(d);
            if d == 0 {
                p.now.set(None);
            }
        });
    }
}

/// The current pass's reading, or a fresh one (kept for the rest of the pass if inside one).
#[inline]
pub(crate) fn now() -> Instant {
    PASS.try_with(|p| {
        if let Some(t) = p.now.get() {
            return t;
        }
        let t = Instant::now();
        if p.depth.get() > 0 {
            p.now.set(Some(t));
        }
        t
    })
    .unwrap_or_else(|_| Instant::now())
}

/// Drop the current reading: code not of this crate is about to run (or has run).
#[inline]
pub(crate) fn invalidate() {
    let _ = PASS.try_with(|p| p.now.set(None));
}

/// Run the inner service's `call`, then drop the reading (what ran inside may have taken time).
#[inline]
pub(crate) fn call_inner<T>(f: impl FnOnce() -> T) -> T {
    let t = f();
    invalidate();
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Under tokio's paused clock, time moves only when the test advances it.
    #[tokio::test(start_paused = true)]
    async fn shared_inside_a_pass_only() {
        let step = Duration::from_millis(2);
        let outside = now();
        tokio::time::advance(step).await;
        assert_eq!(now(), outside + step, "outside a pass every read is fresh");
        let t = {
            let _outer = Pass::enter();
            let t = now();
            tokio::time::advance(step).await;
            {
                let _inner = Pass::enter();
                assert_eq!(now(), t, "nested layers reuse the reading");
            }
            assert_eq!(now(), t, "still inside the outer pass");
            invalidate();
            assert_eq!(now(), t + step, "invalidated: fresh read");
            t + step
        };
        tokio::time::advance(step).await;
        assert_eq!(now(), t + step, "pass ended: fresh read");
    }
}
