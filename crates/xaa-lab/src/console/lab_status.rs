//! The banner every console page shows while the lab is not itself: a break-it switch is on, or
//! IT has moved the lab clock. [`LabStatus::of`] is the one place that decides what it says;
//! `lab_status.html`, included by the console's base template, draws it.

use std::sync::atomic::Ordering;

use super::ConsoleState;

/// What the banner says (nothing when [`LabStatus::shown`] is false).
#[derive(Clone, Debug, Default)]
pub(crate) struct LabStatus {
    /// Each switch that is on: its name and whom it applies to.
    pub(crate) switches: Vec<(&'static str, String)>,
    /// How far IT moved the lab clock, in seconds (0: not moved).
    pub(crate) clock_moved: i64,
    /// The lab clock's time, as people read it.
    pub(crate) now: String,
}

/// Whom a switch is on for, in words.
pub(crate) fn whom(s: &xaa_faults::Switch) -> String {
    match s.clients.is_empty() {
        true => "every client".to_owned(),
        false => s.clients.join(" / "),
    }
}

impl LabStatus {
    /// The lab's state now.
    pub(crate) fn of(st: &ConsoleState) -> Self {
        let switches = st.admin.faults.list().into_iter().map(|s| (s.fault.name(), whom(&s))).collect();
        LabStatus {
            switches,
            clock_moved: st.admin.clock_moved.load(Ordering::SeqCst),
            now: xaa_core::claims::numeric_date(st.clock.now()),
        }
    }

    /// Whether there is anything to say.
    pub(crate) fn shown(&self) -> bool {
        !self.switches.is_empty() || self.clock_moved != 0
    }

    /// The clock's move as people read it (`+1 h 0 min 5 s`).
    pub(crate) fn clock_moved_text(&self) -> String {
        let sign = if self.clock_moved < 0 { '-' } else { '+' };
        let s = self.clock_moved.unsigned_abs();
        match (s / 3600, s % 3600 / 60, s % 60) {
            (0, 0, sec) => format!("{sign}{sec} s"),
            (0, m, sec) => format!("{sign}{m} min {sec} s"),
            (h, m, sec) => format!("{sign}{h} h {m} min {sec} s"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LabStatus;

    #[test]
    fn the_clock_move_reads_in_hours_minutes_and_seconds() {
        let at = |clock_moved| LabStatus { clock_moved, ..LabStatus::default() };
        assert!(!at(0).shown());
        assert_eq!(at(31).clock_moved_text(), "+31 s");
        assert_eq!(at(-301).clock_moved_text(), "-5 min 1 s");
        assert_eq!(at(7261).clock_moved_text(), "+2 h 1 min 1 s");
    }
}
