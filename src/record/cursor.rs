//! A position in a recording with the table of that moment: moving forward applies only the
//! frames in between; moving back (or across a full frame) starts again from the full frame
//! before the target. Replay steps through a recording with one.

use super::reader::{ReadError, Recording};
use super::table::Table;
use crate::model::Snapshot;

#[derive(Default)]
pub struct Cursor {
    /// The frame the table is at.
    at: Option<usize>,
    table: Table,
    /// The frame's time, source and counters.
    last: Option<super::frame::Frame>,
}

impl Cursor {
    /// Move to frame `i` (clamped to the last). `each` sees every frame applied on the way,
    /// with the table after it (replay counts states for the history from it).
    pub fn seek(
        &mut self,
        rec: &Recording,
        i: usize,
        mut each: impl FnMut(usize, &Table),
    ) -> Result<(), ReadError> {
        let Some(last) = rec.len().checked_sub(1) else {
            return Ok(());
        };
        let i = i.min(last);
        let full = rec.full_before(i);
        let from = match self.at {
            // Forward within the same full frame's run: only the frames in between.
            Some(j) if j <= i && j >= full => j + 1,
            _ => full,
        };
        if from > i {
            return Ok(());
        }
        // A failure part way leaves the cursor nowhere rather than at a half-built moment.
        self.at = None;
        for j in from..=i {
            let mut f = rec.frame(j)?;
            let body = std::mem::replace(
                &mut f.body,
                super::frame::Body::Delta {
                    vanished: Vec::new(),
                    upserted: Vec::new(),
                },
            );
            self.table.take_frame(f.at, body, rec.counts_down(j));
            each(j, &self.table);
            self.last = Some(f);
        }
        self.at = Some(i);
        Ok(())
    }

    /// The frame the cursor is at.
    pub fn at(&self) -> Option<usize> {
        self.at
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    /// The moment the cursor is at, as a snapshot.
    pub fn snapshot(&self) -> Snapshot {
        match &self.last {
            Some(f) => Snapshot::new(f.at, f.source, self.table.sockets(), f.counters.clone()),
            None => Snapshot::new(
                std::time::SystemTime::UNIX_EPOCH,
                crate::model::Source::Netlink,
                Vec::new(),
                None,
            ),
        }
    }
}
