//! Process attribution from /proc/*/fd. (Skeleton: the procfs helper owns this file.)

use std::path::Path;

use crate::model::Socket;

/// inode -> owning processes, cached across refreshes.
#[derive(Default)]
pub struct ProcessCache {}

impl ProcessCache {
    /// Rescan /proc; returns a note when some sockets cannot be attributed (not root).
    pub fn refresh(&mut self, _proc_root: &Path) -> Option<String> {
        None
    }

    /// Fill `processes` of every socket whose inode is known.
    pub fn attach(&self, _sockets: &mut [Socket]) {}
}
