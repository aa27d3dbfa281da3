//! Recorded datagrams, for fixtures, benchmarks and the fake host: a file holds one table's
//! answer as the request's sequence number (u32 LE) followed by `[length u32 LE][datagram]`
//! records.

use super::datagram::{Held, Progress, process_datagram};
use super::table::Table;
use crate::collect::Query;
use crate::model::Socket;

pub fn table_by_name(name: &str) -> Option<Table> {
    [
        Table::TCP4,
        Table::TCP6,
        Table::TCP_BOTH,
        Table::UDP4,
        Table::UDP6,
        Table::Unix,
    ]
    .into_iter()
    .find(|t| t.name() == name)
}

pub fn encode(seq: u32, datagrams: &[&[u8]]) -> Vec<u8> {
    let mut v = seq.to_le_bytes().to_vec();
    for d in datagrams {
        v.extend_from_slice(&(d.len() as u32).to_le_bytes());
        v.extend_from_slice(d);
    }
    v
}

/// The sequence number and datagrams of a fixture file; `None` when it is malformed.
pub fn decode(bytes: &[u8]) -> Option<(u32, Vec<&[u8]>)> {
    let (seq, mut rest) = bytes.split_first_chunk::<4>()?;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        if len > tail.len() {
            return None;
        }
        out.push(&tail[..len]);
        rest = &tail[len..];
    }
    Some((u32::from_le_bytes(*seq), out))
}

/// Decode `datagrams` as the answer to a dump of `table` with sequence number `seq`.
/// Returns `Ok(true)` at NLMSG_DONE, `Ok(false)` when the answer ended early, and the
/// errno when the kernel reported an error.
pub fn replay(
    table: Table,
    seq: u32,
    datagrams: &[&[u8]],
    query: &Query,
    out: &mut Vec<Socket>,
    skipped: &mut usize,
) -> Result<bool, i32> {
    let mut held = Held::default();
    for d in datagrams {
        match process_datagram(d, seq, table, query, out, skipped, &mut held) {
            Progress::More => {}
            Progress::Done => return Ok(true),
            Progress::Failed(e) => return Err(e),
        }
    }
    Ok(false)
}
