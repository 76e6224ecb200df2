use http::HeaderName;

/// Priority of a call. Lower priorities are shed first; critical traffic last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// Shed first (batch, prefetch, analytics).
    Low = 0,
    /// Ordinary traffic.
    Normal = 1,
    /// Important traffic.
    High = 2,
    /// Shed last; never shed at random.
    Critical = 3,
}

impl Priority {
    /// Parse `critical|high|normal|low` (any case) or `0`–`3` (0 = critical).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Some(if s.eq_ignore_ascii_case("critical") || s == "0" {
            Priority::Critical
        } else if s.eq_ignore_ascii_case("high") || s == "1" {
            Priority::High
        } else if s.eq_ignore_ascii_case("normal") || s == "2" {
            Priority::Normal
        } else if s.eq_ignore_ascii_case("low") || s == "3" {
            Priority::Low
        } else {
            return None;
        })
    }
}

/// Where a call's priority comes from.
pub trait PriorityFn<Req>: Clone + Send + Sync + 'static {
    /// The priority of `req`; `None` when no priority applies (then only the plain limit
    /// counts).
    fn priority(&self, req: &Req) -> Option<Priority>;
}

/// No priorities (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPriority;

impl<Req> PriorityFn<Req> for NoPriority {
    #[inline]
    fn priority(&self, _req: &Req) -> Option<Priority> {
        None
    }
}

/// Priority from a closure `Fn(&Req) -> Priority`.
#[derive(Debug, Clone, Copy)]
pub struct PriorityFrom<F>(pub F);

impl<Req, F> PriorityFn<Req> for PriorityFrom<F>
where
    F: Fn(&Req) -> Priority + Clone + Send + Sync + 'static,
{
    #[inline]
    fn priority(&self, req: &Req) -> Option<Priority> {
        Some((self.0)(req))
    }
}

/// Priority from a request header (default `x-priority`), see [`Priority::parse`]; a missing
/// or unreadable header means [`Priority::Normal`].
#[derive(Debug, Clone)]
pub struct HeaderPriority(pub HeaderName);

impl Default for HeaderPriority {
    fn default() -> Self {
        Self(HeaderName::from_static("x-priority"))
    }
}

impl<B> PriorityFn<http::Request<B>> for HeaderPriority {
    fn priority(&self, req: &http::Request<B>) -> Option<Priority> {
        Some(
            req.headers()
                .get(&self.0)
                .and_then(|v| v.to_str().ok())
                .and_then(Priority::parse)
                .unwrap_or(Priority::Normal),
        )
    }
}
