//! The events of a run and the clock: time is integer nanoseconds and only moves between events;
//! work inside one event happens at one instant, and its CPU cost is charged to the actor's next
//! event (`Machine::charge_actor`). `Machine::handle` is the model's single dispatch.

use super::sched::Actor;
use super::Machine;
use crate::sim::{EventQueue, SimTime};

/// The clock and the event queue.
pub struct Clock {
    /// The time of the event being handled.
    pub now: SimTime,
    /// Pending events.
    pub queue: EventQueue<Event>,
    /// Events handled.
    pub events: u64,
    /// Length of a jiffy, ns (`1e9 / CONFIG_HZ`).
    pub jiffy: SimTime,
    /// The event count up to which events may be accounted for without being handled one by
    /// one (`Machine::kswapd_spin_skip`, `Machine::wake_inline`): the event loop sets it below
    /// its next per-event stop (a check, the progress tick, the event limit), 0 (never) under
    /// `Options::handle_every_event`. Under a probe the kswapd skip never runs and an inline
    /// wake-up tells the probe what the event loop would have.
    pub skip_limit: u64,
    /// Events accounted for that way (included in `events`).
    pub skipped: u64,
}

/// The events of a run: every actor has at most one live `Run` event; a newer generation makes
/// older ones stale (a sleeper woken early).
///
/// Packed in one word (bit 63: a disk completion; bits 62–61: the actor's kind, 60–32 its index,
/// 31–0 the generation; kind 3 is a mount's, whose index bit 28 tells the journal from the
/// `ext4-rsv-conversion` work, so a fifth kind costs no third kind bit) so the event queue moves it in a register: a struct of fields written
/// one by one and read back whole stalls the store-to-load forwarding on every schedule.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Event(u64);

/// What an [`Event`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Resume an actor.
    Run {
        /// Which one.
        actor: Actor,
        /// Its generation when scheduled.
        gen: u32,
    },
    /// A disk finished the request it was serving.
    DiskDone {
        /// Disk index.
        disk: usize,
    },
    /// CFQ's idle timer of a disk (`cfq_idle_slice_timer()`).
    DiskIdle {
        /// Disk index.
        disk: usize,
    },
}

impl Event {
    const DISK: u64 = 1 << 63;
    /// With [`Self::DISK`]: the disk's CFQ idle timer rather than a completion.
    const IDLE: u64 = 1 << 62;
    const INDEX_BITS: u32 = 29;
    /// Kind 3's index bit for the `ext4-rsv-conversion` work (else the journal).
    const RSV: usize = 1 << (Self::INDEX_BITS - 1);

    /// Resume `actor` if its generation is still `gen`.
    pub fn run(actor: Actor, gen: u32) -> Event {
        let (kind, index, limit) = match actor {
            Actor::Task(i) => (0u64, i, i),
            Actor::Kswapd(i) => (1, i, i),
            Actor::Flusher(i) => (2, i, i),
            Actor::Journal(i) => (3, i, i + Self::RSV),
            Actor::Ext4Rsv(i) => (3, i | Self::RSV, i + Self::RSV),
        };
        assert!(
            limit < 1 << Self::INDEX_BITS,
            "actor index {index} out of range"
        );
        Event(kind << 61 | (index as u64) << 32 | u64::from(gen))
    }

    /// Disk `disk` finished its request.
    pub fn disk_done(disk: usize) -> Event {
        Event(Self::DISK | disk as u64)
    }

    /// Disk `disk`'s CFQ idle timer.
    pub fn disk_idle(disk: usize) -> Event {
        Event(Self::DISK | Self::IDLE | disk as u64)
    }

    /// The event unpacked.
    pub fn kind(self) -> EventKind {
        if self.0 & Self::DISK != 0 {
            let disk = (self.0 & !(Self::DISK | Self::IDLE)) as usize;
            if self.0 & Self::IDLE != 0 {
                return EventKind::DiskIdle { disk };
            }
            return EventKind::DiskDone { disk };
        }
        let index = ((self.0 >> 32) & ((1 << Self::INDEX_BITS) - 1)) as usize;
        let actor = match self.0 >> 61 {
            0 => Actor::Task(index),
            1 => Actor::Kswapd(index),
            2 => Actor::Flusher(index),
            _ if index & Self::RSV != 0 => Actor::Ext4Rsv(index & !Self::RSV),
            _ => Actor::Journal(index),
        };
        EventKind::Run {
            actor,
            gen: self.0 as u32,
        }
    }
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.kind().fmt(f)
    }
}

impl Machine {
    /// Handles one event: the single dispatch of the model.
    pub fn handle(&mut self, event: Event) {
        match event.kind() {
            EventKind::Run { actor, gen } => {
                if gen != self.gen_of(actor) {
                    return; // superseded: the actor was woken earlier or rescheduled
                }
                match actor {
                    Actor::Task(t) => self.run_task(t),
                    Actor::Kswapd(n) => self.run_kswapd(n),
                    Actor::Flusher(b) => self.run_flusher(b),
                    Actor::Journal(m) => self.run_journal(m),
                    Actor::Ext4Rsv(m) => self.run_ext4_rsv(m),
                }
            }
            EventKind::DiskDone { disk } => self.disk_done(disk),
            EventKind::DiskIdle { disk } => self.disk_idle_timer(disk),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mm::Actor;

    #[test]
    fn an_event_unpacks_to_what_was_packed() {
        for actor in [
            Actor::Task(0),
            Actor::Task(4095),
            Actor::Kswapd(17),
            Actor::Flusher(255),
            Actor::Journal((1 << 28) - 1),
            Actor::Ext4Rsv(0),
            Actor::Ext4Rsv((1 << 28) - 1),
        ] {
            for gen in [0, 1, u32::MAX] {
                assert_eq!(Event::run(actor, gen).kind(), EventKind::Run { actor, gen });
            }
        }
        for disk in [0, 1, 255] {
            assert_eq!(Event::disk_done(disk).kind(), EventKind::DiskDone { disk });
            assert_eq!(Event::disk_idle(disk).kind(), EventKind::DiskIdle { disk });
        }
    }
}
