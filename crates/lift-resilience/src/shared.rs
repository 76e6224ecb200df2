//! How a layer's services share state, and the builder methods every layer has.
//!
//! The rule, for every layer of this crate: a layer's shared state (partition map, semaphores,
//! breaker windows, in-flight count, adaptive limit) is built **once**, by the first `layer()`
//! call on the layer or any of its clones (or the first inspection that needs it, such as
//! `CircuitBreakerLayer::handle`), from the layer's settings at that moment; every service made
//! by the layer or a clone shares it. A builder method never silently forks or resets it:
//!
//! * before the state exists, a builder method that changes what the state is built from
//!   returns a layer with new settings and its own (still unbuilt) state, so clones taken
//!   earlier keep theirs;
//! * after the state exists, such a method panics, naming itself: it could only drop the state
//!   that services already use or start a second one beside it;
//! * methods that change nothing the state is built from (a rate limit's `name`, `listener`,
//!   `headers`; a breaker's `classifier` and `fallback`; a shedder's `priority`) keep the state.

use std::sync::{Arc, OnceLock};

/// The shared state of a layer, built on first use. Clones share it.
pub(crate) struct LazyState<T>(Arc<OnceLock<Arc<T>>>);

impl<T> Clone for LazyState<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> LazyState<T> {
    pub(crate) fn new() -> Self {
        Self(Arc::new(OnceLock::new()))
    }

    /// The state, built with `make` if this is the first use.
    pub(crate) fn get_or_init(&self, make: impl FnOnce() -> T) -> Arc<T> {
        self.0.get_or_init(|| Arc::new(make())).clone()
    }

    /// The state, if built.
    pub(crate) fn get(&self) -> Option<&Arc<T>> {
        self.0.get()
    }

    /// For a builder method about to change what the state is built from: a new, unbuilt
    /// state. Panics if the state is already built (see the [module docs](self)).
    #[track_caller]
    pub(crate) fn unbuilt(self, method: &str) -> Self {
        assert!(
            self.0.get().is_none(),
            "lift-resilience: `{method}` called on a layer that has already made services; \
             their shared state cannot change now. Configure the layer before its first `layer()`."
        );
        Self::new()
    }
}

/// `name` and `listener` builder methods for a type with a `telemetry: Telemetry` field.
/// `telemetry_builders!()` for a type without shared state; `telemetry_builders!(after)` for a
/// layer whose shared state holds the telemetry: `self.after("name")` then passes the state
/// through [`LazyState::unbuilt`].
macro_rules! telemetry_builders {
    () => {
        /// Name used in events and `tracing` (the default is the layer's kind).
        pub fn name(mut self, name: &str) -> Self {
            self.telemetry = self.telemetry.with_name(name);
            self
        }

        /// Listener for events (the default ignores them).
        pub fn listener(mut self, listener: impl $crate::ResilienceListener) -> Self {
            self.telemetry = self.telemetry.with_listener(::std::sync::Arc::new(listener));
            self
        }
    };
    ($after:ident) => {
        /// Name used in events and `tracing` (the default is the layer's kind).
        ///
        /// # Panics
        ///
        /// If the layer has already made services (see [the rule](crate#shared-state)).
        #[track_caller]
        pub fn name(mut self, name: &str) -> Self {
            self.telemetry = self.telemetry.with_name(name);
            self.$after("name")
        }

        /// Listener for events (the default ignores them).
        ///
        /// # Panics
        ///
        /// If the layer has already made services (see [the rule](crate#shared-state)).
        #[track_caller]
        pub fn listener(mut self, listener: impl $crate::ResilienceListener) -> Self {
            self.telemetry = self.telemetry.with_listener(::std::sync::Arc::new(listener));
            self.$after("listener")
        }
    };
}

pub(crate) use telemetry_builders;
