//! The `ss -D` / `TCPDIAG_FILE` format: the TCP sock_diag answer as the kernel sent it, one
//! netlink message after another (each padded to 4 bytes), every dump closed by an
//! NLMSG_DONE. `ss -D` writes one dump per family (two DONEs); sockeye writes its one-walk
//! dump (one DONE). ss reads only up to the first DONE, so its IPv6 half is never shown;
//! sockeye reads every dump in the file.
//!
//! Read by hand rather than through the netlink crate: a file from another machine is
//! untrusted, and every way it can be wrong must name its byte offset.

use super::Recorded;
use super::inet::{Decoded, decode};
use super::wire::{
    NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, SOCK_DIAG_BY_FAMILY, TCPDIAG_GETSOCK, align4,
};
use crate::collect::Query;
use crate::model::{Netid, Socket};

/// What is wrong with a file, and where.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("byte offset {offset}: {reason}")]
pub struct DiagFileError {
    pub offset: usize,
    pub reason: String,
}

fn err(offset: usize, reason: impl Into<String>) -> DiagFileError {
    DiagFileError {
        offset,
        reason: reason.into(),
    }
}

/// Decode every TCP socket of `bytes` that `query` keeps (states, filter) into `out`.
/// Returns how many dumps (DONE messages) the file held.
pub fn read(bytes: &[u8], query: &Query, out: &mut Vec<Socket>) -> Result<usize, DiagFileError> {
    if bytes.is_empty() {
        return Err(err(0, "empty file (no netlink message)"));
    }
    let mut at = 0;
    let mut dumps = 0;
    let mut open = false;
    while at < bytes.len() {
        let Some(h) = bytes[at..].first_chunk::<NLMSG_HDRLEN>() else {
            return Err(err(
                at,
                format!(
                    "truncated netlink header ({} of 16 bytes)",
                    bytes.len() - at
                ),
            ));
        };
        let len = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]) as usize;
        let kind = u16::from_ne_bytes([h[4], h[5]]);
        if len < NLMSG_HDRLEN {
            return Err(err(
                at,
                format!("message length {len} is shorter than its header"),
            ));
        }
        if len > bytes.len() - at {
            return Err(err(
                at,
                format!(
                    "truncated message: {len} bytes announced, {} left",
                    bytes.len() - at
                ),
            ));
        }
        let payload = &bytes[at + NLMSG_HDRLEN..at + len];
        match kind {
            NLMSG_DONE => {
                dumps += 1;
                open = false;
            }
            NLMSG_ERROR => {
                let code = payload
                    .first_chunk::<4>()
                    .map(|b| i32::from_ne_bytes(*b))
                    .unwrap_or(0);
                return Err(err(
                    at,
                    format!(
                        "the recorded dump ended in an error: {}",
                        std::io::Error::from_raw_os_error(code.saturating_neg())
                    ),
                ));
            }
            SOCK_DIAG_BY_FAMILY | TCPDIAG_GETSOCK => {
                open = true;
                match decode(payload, Netid::Tcp, query) {
                    Decoded::Keep(s) => out.push(s),
                    Decoded::Filtered => {}
                    Decoded::Bad => {
                        return Err(err(
                            at,
                            "not an inet_diag answer (bad family, state or attributes)",
                        ));
                    }
                }
            }
            other => return Err(err(at, format!("unexpected netlink message type {other}"))),
        }
        // The last message of a file may lack its padding.
        at = (at + align4(len)).min(bytes.len());
    }
    if open || dumps == 0 {
        return Err(err(
            bytes.len(),
            "truncated: the last dump has no NLMSG_DONE",
        ));
    }
    Ok(dumps)
}

/// The file `ss -D` writes, from a recorded TCP dump: every message of every datagram,
/// except the sockets `query`'s filter rejects.
pub fn from_recording(datagrams: &[Recorded], query: &Query) -> Vec<u8> {
    let mut file = Vec::new();
    for (_, _, d) in datagrams {
        let mut at = 0;
        while let Some(h) = d.get(at..).and_then(|r| r.first_chunk::<NLMSG_HDRLEN>()) {
            let len = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]) as usize;
            let kind = u16::from_ne_bytes([h[4], h[5]]);
            if len < NLMSG_HDRLEN || len > d.len() - at {
                break;
            }
            let end = (at + align4(len)).min(d.len());
            let keep = match kind {
                SOCK_DIAG_BY_FAMILY | TCPDIAG_GETSOCK => matches!(
                    decode(&d[at + NLMSG_HDRLEN..at + len], Netid::Tcp, query),
                    Decoded::Keep(_)
                ),
                _ => true,
            };
            if keep {
                file.extend_from_slice(&d[at..end]);
                file.resize(file.len() + align4(len) - (end - at), 0);
            }
            at = end;
        }
    }
    file
}

#[doc(hidden)]
pub fn fuzz(bytes: &[u8]) {
    let q = Query {
        tcp_info: true,
        memory: true,
        details: true,
        ..Query::default()
    };
    let _ = read(bytes, &q, &mut Vec::new());
}

#[cfg(test)]
mod tests {
    use super::super::inet;
    use super::*;

    fn msg(kind: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(&[0; 10]);
        v.extend_from_slice(payload);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    fn listener() -> Vec<u8> {
        let mut p = vec![0u8; inet::INET_DIAG_MSG_LEN];
        p[0] = 2; // AF_INET
        p[1] = 10; // LISTEN
        p[4..6].copy_from_slice(&8080u16.to_be_bytes());
        p[8..12].copy_from_slice(&[127, 0, 0, 1]);
        p[68..72].copy_from_slice(&42u32.to_ne_bytes());
        msg(SOCK_DIAG_BY_FAMILY, &p)
    }

    #[test]
    fn reads_every_dump() {
        let mut f = listener();
        f.extend(msg(NLMSG_DONE, &[0; 4]));
        f.extend(listener());
        f.extend(msg(NLMSG_DONE, &[0; 4]));
        let mut out = Vec::new();
        assert_eq!(read(&f, &Query::default(), &mut out), Ok(2));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].inode, 42);
        assert_eq!(out[0].local_port(), Some(8080));
    }

    #[test]
    fn every_defect_names_its_offset() {
        let good = listener();
        let n = good.len();
        let cases: Vec<(Vec<u8>, usize)> = vec![
            (Vec::new(), 0),
            (good[..10].to_vec(), 0),
            (good[..n - 8].to_vec(), 0),
            (good.clone(), n),
            ([good.clone(), msg(99, &[])].concat(), n),
            (
                [good.clone(), msg(NLMSG_ERROR, &(-13i32).to_ne_bytes())].concat(),
                n,
            ),
            (
                [good.clone(), msg(SOCK_DIAG_BY_FAMILY, &[1, 2, 3])].concat(),
                n,
            ),
            (
                [
                    good.clone(),
                    vec![4, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                ]
                .concat(),
                n,
            ),
        ];
        for (bytes, offset) in cases {
            let e = read(&bytes, &Query::default(), &mut Vec::new()).expect_err("refused");
            assert_eq!(e.offset, offset, "{e}");
        }
    }

    #[test]
    fn writes_what_it_reads() {
        let mut d = listener();
        d.extend(msg(NLMSG_DONE, &[0; 4]));
        let rec: Vec<Recorded> = vec![("tcp/ipv4", 1, d.clone())];
        assert_eq!(from_recording(&rec, &Query::default()), d);
        let none = Query {
            keep: Some(std::sync::Arc::new(|_: &Socket| false)),
            ..Query::default()
        };
        assert_eq!(from_recording(&rec, &none), msg(NLMSG_DONE, &[0; 4]));
    }
}
