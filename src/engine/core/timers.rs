//! The engine's deadlines: command time-outs, forgotten call-reference reservations and the
//! blocked-agent timers, run by [`Engine::tick`].

use super::Engine;
use crate::model::{CommandError, ErrorCode, LinkId};
use std::time::Instant;

impl Engine {
    /// The next instant [`Engine::tick`] has work to do, if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        let p = self.pending.values().map(|p| p.deadline);
        let r = self.reserved.values().map(|(_, t)| *t);
        p.chain(r).chain(self.next_blocked_deadline()).min()
    }

    /// Runs what is due at `now`: command time-outs, forgotten reservations.
    pub fn tick(&mut self, now: Instant) {
        let expired: Vec<(u64, &'static str, LinkId)> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(t, p)| (*t, p.op, p.link.clone()))
            .collect();
        for (token, op, link) in expired {
            self.counters.commands_timed_out += 1;
            let secs = self.cfg.command_timeout.as_secs_f32();
            self.finish(
                token,
                Err(CommandError::new(
                    ErrorCode::Timeout,
                    format!("{op}: link {link} gave no answer within {secs} s"),
                )),
            );
        }
        self.reserved.retain(|_, (_, t)| *t > now);
        self.blocked_timers(now);
    }
}
