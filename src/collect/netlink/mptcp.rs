//! Decoding of the MPTCP reports: an MPTCP socket's INET_DIAG_INFO (`struct mptcp_info`,
//! linux/mptcp.h) and a TCP subflow's INET_ULP_INFO_MPTCP (MPTCP_SUBFLOW_ATTR_*).

use super::wire::Attrs;
use crate::model::{MptcpInfo, SubflowInfo};

const MPTCP_SUBFLOW_ATTR_TOKEN_REM: u16 = 1;
const MPTCP_SUBFLOW_ATTR_TOKEN_LOC: u16 = 2;
const MPTCP_SUBFLOW_ATTR_MAP_SEQ: u16 = 4;
const MPTCP_SUBFLOW_ATTR_MAP_SFSEQ: u16 = 5;
const MPTCP_SUBFLOW_ATTR_SSN_OFFSET: u16 = 6;
const MPTCP_SUBFLOW_ATTR_MAP_DATALEN: u16 = 7;
const MPTCP_SUBFLOW_ATTR_FLAGS: u16 = 8;
const MPTCP_SUBFLOW_ATTR_ID_REM: u16 = 9;
const MPTCP_SUBFLOW_ATTR_ID_LOC: u16 = 10;

fn u32_at(v: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(*v.get(off..)?.first_chunk::<4>()?))
}

fn u64_at(v: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(*v.get(off..)?.first_chunk::<8>()?))
}

/// `struct mptcp_info`: six u8 counters, then (from offset 8) flags, token, write_seq, snd_una,
/// rcv_nxt. As ss does for an older kernel's shorter struct, missing fields read as 0.
pub fn mptcp_info(v: &[u8]) -> MptcpInfo {
    let b = |i: usize| v.get(i).copied().unwrap_or(0);
    MptcpInfo {
        subflows: b(0),
        add_addr_signal: b(1),
        add_addr_accepted: b(2),
        subflows_max: b(3),
        add_addr_signal_max: b(4),
        add_addr_accepted_max: b(5),
        flags: u32_at(v, 8).unwrap_or(0),
        token: u32_at(v, 12).unwrap_or(0),
        write_seq: u64_at(v, 16).unwrap_or(0),
        snd_una: u64_at(v, 24).unwrap_or(0),
        rcv_nxt: u64_at(v, 32).unwrap_or(0),
    }
}

/// The nested MPTCP_SUBFLOW_ATTR_* of INET_ULP_INFO_MPTCP; a short attribute reads as absent.
pub fn subflow(v: &[u8]) -> SubflowInfo {
    let mut s = SubflowInfo::default();
    for (kind, a) in Attrs::new(v) {
        match kind {
            MPTCP_SUBFLOW_ATTR_TOKEN_REM => s.token_rem = u32_at(a, 0),
            MPTCP_SUBFLOW_ATTR_TOKEN_LOC => s.token_loc = u32_at(a, 0),
            MPTCP_SUBFLOW_ATTR_MAP_SEQ => s.map_seq = u64_at(a, 0),
            MPTCP_SUBFLOW_ATTR_MAP_SFSEQ => s.map_sfseq = u32_at(a, 0),
            MPTCP_SUBFLOW_ATTR_SSN_OFFSET => s.ssn_offset = u32_at(a, 0),
            // A u16 in the kernel (nla_put_u16); ss reads it as a u32 over zero padding.
            MPTCP_SUBFLOW_ATTR_MAP_DATALEN => {
                s.map_datalen = u32_at(a, 0).or_else(|| {
                    a.first_chunk::<2>()
                        .map(|b| u32::from(u16::from_ne_bytes(*b)))
                });
            }
            MPTCP_SUBFLOW_ATTR_FLAGS => s.flags = u32_at(a, 0),
            MPTCP_SUBFLOW_ATTR_ID_REM => s.id_rem = a.first().copied(),
            MPTCP_SUBFLOW_ATTR_ID_LOC => s.id_loc = a.first().copied(),
            _ => {}
        }
    }
    s
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A `struct mptcp_info` as linux/mptcp.h lays it out (48 bytes in 6.1).
    pub fn info_bytes() -> Vec<u8> {
        let mut v = vec![1u8, 0, 0, 2, 0, 0, 0, 0];
        v.extend_from_slice(&2u32.to_ne_bytes());
        v.extend_from_slice(&0x5297_ad47u32.to_ne_bytes());
        v.extend_from_slice(&0x7380_5be1_ba10_6265u64.to_ne_bytes());
        v.extend_from_slice(&0x7380_5be1_ba10_6265u64.to_ne_bytes());
        v.extend_from_slice(&0x119a_bc25_6463_aa2au64.to_ne_bytes());
        v.extend_from_slice(&[0u8; 8]);
        v
    }

    pub fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut a = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
        a.extend_from_slice(&kind.to_ne_bytes());
        a.extend_from_slice(value);
        while !a.len().is_multiple_of(4) {
            a.push(0);
        }
        a
    }

    #[test]
    fn decodes_mptcp_info() {
        let i = mptcp_info(&info_bytes());
        assert_eq!((i.subflows, i.subflows_max, i.flags), (1, 2, 2));
        assert_eq!(i.token, 0x5297_ad47);
        assert_eq!(i.rcv_nxt, 0x119a_bc25_6463_aa2a);
        // A shorter (older) struct: the rest reads as 0, as ss reads it.
        let short = mptcp_info(&info_bytes()[..12]);
        assert_eq!((short.flags, short.token, short.write_seq), (2, 0, 0));
        assert_eq!(mptcp_info(&[]), MptcpInfo::default());
    }

    #[test]
    fn decodes_subflow_attributes() {
        let mut v = attr(MPTCP_SUBFLOW_ATTR_TOKEN_REM, &0u32.to_ne_bytes());
        v.extend(attr(
            MPTCP_SUBFLOW_ATTR_TOKEN_LOC,
            &0xfdd9_e3bau32.to_ne_bytes(),
        ));
        v.extend(attr(MPTCP_SUBFLOW_ATTR_ID_REM, &[0]));
        v.extend(attr(MPTCP_SUBFLOW_ATTR_ID_LOC, &[3]));
        v.extend(attr(MPTCP_SUBFLOW_ATTR_MAP_SEQ, &7u64.to_ne_bytes()));
        v.extend(attr(MPTCP_SUBFLOW_ATTR_FLAGS, &0xc3u32.to_ne_bytes()));
        v.extend(attr(MPTCP_SUBFLOW_ATTR_MAP_DATALEN, &2u16.to_ne_bytes()));
        v.extend(attr(MPTCP_SUBFLOW_ATTR_SSN_OFFSET, &[1, 2]));
        let s = subflow(&v);
        assert_eq!((s.token_rem, s.token_loc), (Some(0), Some(0xfdd9_e3ba)));
        assert_eq!((s.id_rem, s.id_loc, s.map_seq), (Some(0), Some(3), Some(7)));
        assert_eq!(s.flags, Some(0xc3));
        assert_eq!(s.map_datalen, Some(2), "the kernel's u16");
        assert_eq!(s.ssn_offset, None, "a short attribute is absent");
        assert_eq!(s.map_sfseq, None);
    }
}
