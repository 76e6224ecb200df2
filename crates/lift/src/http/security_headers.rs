//! [`SecurityHeaders`]: the response headers every browser-facing API should send, set with
//! [`App::security_headers`](crate::App::security_headers).
//!
//! Added at the edge to every HTTP response the function gives — handler answers, Lift's error
//! answers (400 for an undecodable event, 404, 405, 413, 429, 5xx, panics) and CORS preflights —
//! and never over a header the handler (or a layer) already set: a route that must be framed
//! sets its own `X-Frame-Options`, and that one is sent.
//!
//! ```
//! use lift::{App, SecurityHeaders};
//! use http::HeaderValue;
//!
//! let headers = SecurityHeaders::preset()
//!     .content_security_policy(HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
//! let app = App::new().security_headers(headers);
//! # let _ = app.build();
//! ```

use std::time::Duration;

use http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{HeaderMap, HeaderName, HeaderValue};

/// A set of response headers added when absent. Build it from [`preset`](Self::preset) (or
/// [`none`](Self::none)) and adjust.
#[derive(Clone, Debug)]
pub struct SecurityHeaders {
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// `X-Frame-Options`: who may put the responses in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameOptions {
    /// `DENY`: nobody (the preset).
    Deny,
    /// `SAMEORIGIN`: pages of the same origin only.
    SameOrigin,
}

impl SecurityHeaders {
    /// The preset:
    ///
    /// | header | value |
    /// |---|---|
    /// | `Strict-Transport-Security` | `max-age=31536000; includeSubDomains` (one year) |
    /// | `X-Content-Type-Options` | `nosniff` |
    /// | `X-Frame-Options` | `DENY` |
    /// | `Referrer-Policy` | `strict-origin-when-cross-origin` |
    ///
    /// `Content-Security-Policy` only on request
    /// ([`content_security_policy`](Self::content_security_policy)): a JSON API needs none, and
    /// a wrong one breaks pages.
    pub fn preset() -> Self {
        Self::none()
            .hsts(Duration::from_secs(365 * 24 * 3600), true)
            .set(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"))
            .frame_options(FrameOptions::Deny)
            .referrer_policy(HeaderValue::from_static("strict-origin-when-cross-origin"))
    }

    /// No header at all; add the ones wanted.
    pub fn none() -> Self {
        Self { headers: Vec::new() }
    }

    /// `Strict-Transport-Security: max-age=<secs>[; includeSubDomains]`.
    pub fn hsts(self, max_age: Duration, include_subdomains: bool) -> Self {
        let mut value = format!("max-age={}", max_age.as_secs());
        if include_subdomains {
            value.push_str("; includeSubDomains");
        }
        // Digits, letters, `=`, `;` and spaces only: always a valid header value.
        match HeaderValue::from_str(&value) {
            Ok(v) => self.set(STRICT_TRANSPORT_SECURITY, v),
            Err(_) => self,
        }
    }

    /// `X-Frame-Options`.
    pub fn frame_options(self, options: FrameOptions) -> Self {
        let value = match options {
            FrameOptions::Deny => "DENY",
            FrameOptions::SameOrigin => "SAMEORIGIN",
        };
        self.set(X_FRAME_OPTIONS, HeaderValue::from_static(value))
    }

    /// `Referrer-Policy` (`no-referrer`, `strict-origin-when-cross-origin`, ...).
    pub fn referrer_policy(self, policy: HeaderValue) -> Self {
        self.set(REFERRER_POLICY, policy)
    }

    /// `Content-Security-Policy`, e.g. `default-src 'none'; frame-ancestors 'none'` for an API
    /// (`frame-ancestors` is the modern form of `X-Frame-Options`).
    pub fn content_security_policy(self, policy: HeaderValue) -> Self {
        self.set(CONTENT_SECURITY_POLICY, policy)
    }

    /// Adds `name: value`, or replaces the value this set had for `name`.
    pub fn set(mut self, name: HeaderName, value: HeaderValue) -> Self {
        match self.headers.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.headers.push((name, value)),
        }
        self
    }

    /// Drops `name` from the set (e.g. HSTS for an API served over plain HTTP behind a proxy).
    pub fn without(mut self, name: &HeaderName) -> Self {
        self.headers.retain(|(n, _)| n != name);
        self
    }

    /// The headers in this set, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
        self.headers.iter().map(|(n, v)| (n, v))
    }

    /// Adds every header of the set that `headers` does not have yet. (A few hash look-ups; the
    /// values are shared bytes, not copied.)
    pub fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.headers {
            if let http::header::Entry::Vacant(slot) = headers.entry(name) {
                slot.insert(value.clone());
            }
        }
    }
}

impl Default for SecurityHeaders {
    /// The [`preset`](Self::preset).
    fn default() -> Self {
        Self::preset()
    }
}
