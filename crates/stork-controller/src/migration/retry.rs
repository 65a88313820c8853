//! When a Migration whose run failed for a reason that may pass (a cluster unreachable or busy) is tried
//! again, and when it stops being tried: pure, on the attempt count and the time of the first failure.

use std::time::Duration;

use backon::BackoffBuilder as _;

/// How failed runs are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// A Migration failing for longer than this ends `Failed`.
    pub give_up_after: Duration,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    pub fn new(give_up_after: Duration) -> Self {
        Self { give_up_after, first_delay: Duration::from_secs(1), max_delay: Duration::from_secs(30) }
    }

    /// What to do after failed attempt number `attempt` (from 1), failing since `failing_for`.
    pub fn next(&self, attempt: u32, failing_for: Duration) -> Next {
        if failing_for >= self.give_up_after {
            return Next::GiveUp;
        }
        let delay = self.delay(attempt);
        // Never wait past the point of giving up: the last attempt comes at that point.
        Next::RetryIn(delay.min(self.give_up_after - failing_for).max(Duration::from_millis(100)))
    }

    /// Capped exponential backoff with jitter, so that many Migrations failing together do not retry
    /// together.
    fn delay(&self, attempt: u32) -> Duration {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.first_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
            .nth(attempt.saturating_sub(1) as usize)
            .unwrap_or(self.max_delay)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    RetryIn(Duration),
    GiveUp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_a_cap_and_the_end_is_bounded() {
        let policy = RetryPolicy::new(Duration::from_secs(300));
        let within = |attempt: u32, low: u64, high: u64| match policy.next(attempt, Duration::from_secs(1)) {
            Next::RetryIn(d) => assert!(
                d >= Duration::from_secs(low) && d <= Duration::from_secs(high),
                "attempt {attempt}: {d:?} not in {low}..={high} s"
            ),
            Next::GiveUp => panic!("attempt {attempt} gave up"),
        };
        within(1, 1, 2);
        within(2, 2, 4);
        within(3, 4, 8);
        within(20, 30, 60);
        assert_eq!(policy.next(3, Duration::from_secs(300)), Next::GiveUp);
        match policy.next(20, Duration::from_secs(295)) {
            Next::RetryIn(d) => assert!(d <= Duration::from_secs(5), "never past the end: {d:?}"),
            Next::GiveUp => panic!("not yet"),
        }
    }
}
