//! Soak runs: RSS sampled every [`EVERY`] invocations, and its growth after the warm-up.

/// Invocations between two RSS samples.
pub const EVERY: usize = 10_000;

/// The sample growth is measured from: the first after the warm-up.
pub const WARM_UP: usize = 20_000;

/// Growth in % of the last point's value over the value at `x` = [`WARM_UP`] (or the first
/// point after it; the first point when none is that far). `None` with fewer than two points.
pub fn growth_pct(points: &[(f64, f64)]) -> Option<f64> {
    let base = points.iter().find(|(x, _)| *x >= WARM_UP as f64).or(points.first())?;
    let last = points.last()?;
    (points.len() >= 2 && base.1 > 0.0).then(|| (last.1 - base.1) / base.1 * 100.0)
}

/// The results of a soak: its RSS series and, with enough points, `rss_growth_pct`.
pub fn results(group: &str, subject: &str, points: Vec<(f64, f64)>) -> crate::Results {
    let mut results = crate::Results::default();
    if let Some(g) = growth_pct(&points) {
        results.push(group, subject, "rss_growth_pct", g);
    }
    results.series.push(crate::Series {
        group: group.to_owned(),
        subject: subject.to_owned(),
        points,
    });
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_is_from_the_sample_after_the_warm_up_to_the_last() {
        let points = [
            (10_000.0, 50.0),
            (20_000.0, 100.0),
            (30_000.0, 101.0),
            (40_000.0, 103.0),
        ];
        assert_eq!(growth_pct(&points), Some(3.0));
        assert_eq!(growth_pct(&points[..1]), None);
        assert_eq!(
            growth_pct(&[(10_000.0, 100.0), (15_000.0, 90.0)]),
            Some(-10.0),
            "short run: from the first"
        );
    }
}
