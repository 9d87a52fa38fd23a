//! How an engine run is driven: when it stops and what it checks.

/// How an engine run ends early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Stop at the first OOM kill (the verdict); otherwise keep running after kills.
    pub stop_at_first_oom: bool,
    /// Recount every counter from page state after every event (slow; debug builds and tests).
    pub check_invariants: bool,
    /// Handle every event one by one, none accounted for inside another
    /// (`Machine::kswapd_spin_skip`, `Machine::wake_inline`): for the tests that compare the
    /// two ways and find them the same.
    pub handle_every_event: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            stop_at_first_oom: true,
            check_invariants: cfg!(debug_assertions),
            handle_every_event: false,
        }
    }
}
