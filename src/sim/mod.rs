//! The generic discrete-event core: integer time, an event queue that is FIFO among equal times,
//! and seeded random streams split per component. Nothing here knows about memory.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Nanoseconds since boot.
pub type SimTime = u64;

/// One millisecond in [`SimTime`] units.
pub const MSEC: SimTime = 1_000_000;
/// One second in [`SimTime`] units.
pub const SEC: SimTime = 1_000_000_000;

/// A priority queue of events ordered by `(time, sequence)`: events at equal times pop in the
/// order they were scheduled, so a run never depends on heap internals.
///
/// The earliest event is kept out of the heap when it arrives earlier than everything in it: an
/// actor scheduling its own next step, which is then popped at once, costs no heap operation.
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(SimTime, u64, Slot<E>)>>,
    /// When set, earlier (by time, then sequence) than every event in `heap`.
    front: Option<(SimTime, u64, E)>,
    seq_next: u64,
    now: SimTime,
    /// Wake-up-order noise ([`EventQueue::shuffle_wakeups`]): the stream that orders events
    /// scheduled for the same later instant.
    shuffle: Option<SimRng>,
}

/// The bits of an event's order key below the wake-up tie-break: the sequence number. A run
/// stops long before 2^40 events (`Limits::max_events`).
const SEQ_BITS: u32 = 40;

/// Wrapper that keeps `E` out of the ordering (only time and sequence order events).
struct Slot<E>(E);

impl<E> PartialEq for Slot<E> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<E> Eq for Slot<E> {}
impl<E> PartialOrd for Slot<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Slot<E> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            front: None,
            seq_next: 0,
            now: 0,
            shuffle: None,
        }
    }
}

impl<E> EventQueue<E> {
    /// Schedules `event` at `at`. Scheduling into the past is a bug in the caller.
    pub fn schedule(&mut self, at: SimTime, event: E) {
        assert!(
            at >= self.now,
            "event scheduled in the past: {at} < {}",
            self.now
        );
        let key = (at, self.order_key(at));
        self.seq_next += 1;
        let earliest = match &self.front {
            Some((t, s, _)) => key < (*t, *s),
            None => self
                .heap
                .peek()
                .map_or(true, |Reverse((t, s, _))| key < (*t, *s)),
        };
        if earliest {
            if let Some((t, s, e)) = self.front.replace((at, key.1, event)) {
                self.heap.push(Reverse((t, s, Slot(e))));
            }
        } else {
            self.heap.push(Reverse((at, key.1, Slot(event))));
        }
    }

    /// Wake-up-order noise (`[noise] wakeup_order`): events scheduled for a later instant that
    /// fall on the same nanosecond (tasks and daemons whose sleeps end together, a completion
    /// and a timer) pop in an order drawn from `rng` instead of the order they were scheduled,
    /// as which of several tasks woken at once runs first depends on the CPUs and the
    /// scheduler. Events scheduled for the current instant (an actor going on, a wake-up done
    /// now) keep their order and come before the shuffled ones. Without it the order is FIFO.
    pub fn shuffle_wakeups(&mut self, rng: SimRng) {
        self.shuffle = Some(rng);
    }

    /// The second part of an event's order key: its sequence number, above it (with the
    /// shuffle on, for a later instant) a random tie-break.
    fn order_key(&mut self, at: SimTime) -> u64 {
        debug_assert!(self.seq_next < 1 << SEQ_BITS, "sequence numbers exhausted");
        let tie = match &mut self.shuffle {
            Some(rng) if at > self.now => 1 + rng.below((1 << (64 - SEQ_BITS)) - 1),
            _ => 0,
        };
        tie << SEQ_BITS | self.seq_next
    }

    /// Removes the earliest event and advances the clock to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let (at, event) = match self.front.take() {
            Some((at, _, event)) => (at, event),
            None => {
                let Reverse((at, _, Slot(event))) = self.heap.pop()?;
                (at, event)
            }
        };
        debug_assert!(at >= self.now, "time went back");
        self.now = at;
        Some((at, event))
    }

    /// The time of the earliest pending event.
    pub fn peek_time(&self) -> Option<SimTime> {
        match &self.front {
            Some((t, _, _)) => Some(*t),
            None => self.heap.peek().map(|Reverse((t, _, _))| *t),
        }
    }

    /// What `count` calls of [`EventQueue::schedule`] for later instants do to the order of the
    /// events scheduled after them (the sequence numbers, the wake-up-order stream's draws),
    /// without their events: for a caller that accounts for those events itself (an idle loop
    /// skipped ahead, `Machine::kswapd_spin_skip`), so what follows pops in the same order.
    pub fn skip_schedules(&mut self, count: u64) {
        if self.shuffle.is_none() {
            self.seq_next += count;
            return;
        }
        for _ in 0..count {
            let _ = self.order_key(self.now + 1);
            self.seq_next += 1;
        }
    }

    /// What popping an event at `at` does to the queue's clock, for a caller that accounts for
    /// that event itself (`Machine::wake_inline`): `at` is no later than every pending event.
    pub fn advance(&mut self, at: SimTime) {
        debug_assert!(at >= self.now && self.peek_time().map_or(true, |t| at <= t));
        self.now = at;
    }

    /// The time of the last popped event.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Pending events.
    pub fn len(&self) -> usize {
        self.heap.len() + usize::from(self.front.is_some())
    }

    /// No pending events.
    pub fn is_empty(&self) -> bool {
        self.front.is_none() && self.heap.is_empty()
    }
}

/// The random streams of one run: one ChaCha8 stream per component, each derived from the run's
/// seed and the component's number, so adding a component never shifts another's sequence.
/// ChaCha8 is used because `rand`'s `StdRng` is documented as non-portable across versions.
pub struct SimRng(ChaCha8Rng);

impl SimRng {
    /// The stream of component `stream` for `seed`.
    pub fn split(seed: u64, stream: u64) -> SimRng {
        SimRng(ChaCha8Rng::seed_from_u64(splitmix64(
            seed ^ splitmix64(stream.wrapping_add(1)),
        )))
    }

    /// A uniform integer in `0..bound` (0 when `bound` is 0), by rejection so it is unbiased.
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        let zone = u64::MAX - (u64::MAX % bound);
        loop {
            let x = self.0.next_u64();
            if x < zone {
                return x % bound;
            }
        }
    }
}

/// SplitMix64's finaliser: spreads nearby seeds over the whole 64-bit space.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakeups_at_one_later_instant_pop_in_a_seeded_order_and_fifo_without_the_shuffle() {
        let order = |shuffle: Option<u64>| {
            let mut q = EventQueue::default();
            if let Some(seed) = shuffle {
                q.shuffle_wakeups(SimRng::split(seed, 9));
            }
            for e in 0..8 {
                q.schedule(100, e);
            }
            q.schedule(0, 100);
            q.schedule(0, 101);
            let mut out = Vec::new();
            while let Some((_, e)) = q.pop() {
                out.push(e);
            }
            out
        };
        let fifo = vec![100, 101, 0, 1, 2, 3, 4, 5, 6, 7];
        assert_eq!(order(None), fifo);
        let a = order(Some(1));
        assert_eq!(
            a[..2],
            [100, 101],
            "events of the current instant keep their order"
        );
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 1, 2, 3, 4, 5, 6, 7, 100, 101]);
        assert_eq!(a, order(Some(1)), "the same seed, the same order");
        let orders: std::collections::HashSet<Vec<i32>> =
            (1..6).map(|seed| order(Some(seed))).collect();
        assert!(orders.len() > 1 && !orders.contains(&fifo), "{orders:?}");
    }

    #[test]
    fn events_at_equal_times_pop_in_scheduling_order() {
        let mut q = EventQueue::default();
        q.schedule(5, 'a');
        q.schedule(3, 'b');
        q.schedule(5, 'c');
        q.schedule(3, 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['b', 'd', 'a', 'c']);
    }

    #[test]
    fn the_front_slot_never_changes_the_pop_order() {
        // Against a reference that sorts by (time, sequence), over random interleavings.
        let mut rng = SimRng::split(3, 9);
        let mut q = EventQueue::default();
        let mut reference: Vec<(SimTime, u64)> = vec![];
        let mut seq = 0;
        for _ in 0..20_000 {
            if rng.below(3) > 0 || reference.is_empty() {
                let at = q.now() + rng.below(50);
                q.schedule(at, seq);
                reference.push((at, seq));
                seq += 1;
            } else {
                reference.sort_unstable();
                let (at, id) = reference.remove(0);
                assert_eq!(q.pop(), Some((at, id)));
            }
            assert_eq!(q.len(), reference.len());
        }
    }

    #[test]
    #[should_panic(expected = "in the past")]
    fn scheduling_into_the_past_panics() {
        let mut q = EventQueue::default();
        q.schedule(10, ());
        q.pop();
        q.schedule(9, ());
    }

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4).map(|_| SimRng::split(7, 1).below(1000)).collect();
        let mut r1 = SimRng::split(7, 1);
        let mut r2 = SimRng::split(7, 2);
        let s1: Vec<u64> = (0..8).map(|_| r1.below(1 << 40)).collect();
        let s2: Vec<u64> = (0..8).map(|_| r2.below(1 << 40)).collect();
        assert_ne!(s1, s2);
        assert!(a.iter().all(|&x| x == a[0]));
        let mut again = SimRng::split(7, 1);
        assert_eq!(s1[0], again.below(1 << 40));
    }
}
