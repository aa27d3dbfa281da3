//! /proc/net source. (Skeleton: the procfs helper owns this file.)

use crate::collect::Query;
use crate::model::Socket;

#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// Append every socket of the tables in `query`, read from `query.proc_root`/net, to `out`.
pub fn read(
    _query: &Query,
    _out: &mut Vec<Socket>,
    _warnings: &mut Vec<String>,
    _skipped: &mut usize,
) -> Result<(), ProcError> {
    Ok(())
}
