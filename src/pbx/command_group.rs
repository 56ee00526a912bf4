//! A model command that a CSTA session carries out as several invokes: how many are still
//! unanswered, the call id any of them named, and the first error; one result when all are in.

use crate::model::{CommandError, CommandOutcome};

/// A command in flight as a group of invokes.
#[derive(Debug)]
pub(crate) struct CommandGroup {
    remaining: usize,
    outcome: CommandOutcome,
    error: Option<CommandError>,
}

impl CommandGroup {
    /// A group waiting for `invokes` answers.
    pub(crate) fn new(invokes: usize) -> Self {
        CommandGroup {
            remaining: invokes,
            outcome: CommandOutcome::default(),
            error: None,
        }
    }

    /// One answer (a call id it named, or a failure); true when it was the last one.
    pub(crate) fn answered(&mut self, r: Result<Option<String>, CommandError>) -> bool {
        self.remaining = self.remaining.saturating_sub(1);
        match r {
            Ok(Some(call)) => self.outcome.call = Some(call),
            Ok(None) => {}
            Err(e) => {
                if self.error.is_none() {
                    self.error = Some(e);
                }
            }
        }
        self.remaining == 0
    }

    /// The command's one result: the first error, or the outcome.
    pub(crate) fn result(self) -> Result<CommandOutcome, CommandError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.outcome),
        }
    }
}
