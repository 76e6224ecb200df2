//! `App::observability` installs Lift's subscriber when none is set, and warns when the one in
//! force has no Lift layer (handlers' lines would not become Lift's JSON lines).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};

use lift::observability::Observability;
use lift::App;
use tracing_subscriber::layer::SubscriberExt;

/// Records the WARN lines it sees.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Warnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() == tracing::Level::WARN {
            let mut text = String::new();
            event.record(&mut |_: &tracing::field::Field, v: &dyn std::fmt::Debug| {
                text.push_str(&format!("{v:?}"));
            });
            self.0.lock().unwrap().push(text);
        }
    }
}

fn observability() -> Observability {
    Observability::builder().build().unwrap()
}

/// One test: the global subscriber is process-wide, and the first case needs none set.
#[test]
fn lifts_subscriber_is_installed_or_a_foreign_one_kept_with_a_warning() {
    // No subscriber: Lift's own is installed.
    assert!(!Observability::in_current_subscriber());
    let _app = App::new().observability(observability());
    assert!(tracing::dispatcher::has_been_set());
    assert!(Observability::in_current_subscriber());

    // A subscriber without Lift's layer is kept, with one warning.
    let warnings = Warnings::default();
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(warnings.clone()));
    let _app = App::new().observability(observability());
    drop(guard);
    let seen = std::mem::take(&mut *warnings.0.lock().unwrap());
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].contains("Observability::layers"), "{seen:?}");

    // One composed with Lift's layers is kept silently.
    let obs = observability();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(obs.layers()).with(warnings.clone()));
    assert!(Observability::in_current_subscriber());
    let _app = App::new().observability(obs);
    assert!(warnings.0.lock().unwrap().is_empty());
}
