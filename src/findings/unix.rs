//! Unix listeners with a full queue: connections waiting for accept() at or past the
//! listen() backlog, when connect() blocks (or fails with EAGAIN) for every new client.

use rustc_hash::FxHashMap;

use super::queues::{Pressure, pressure};
use super::tally::Scan;
use super::{
    Finding, Rule, Severity, SockKey, Thresholds, endpoint, filter_word, holder, key_of, series,
    with_holder,
};

/// (queue, backlog) per snapshot, the path, the holder and the filter selecting it.
type Samples = (Vec<Option<(u32, u32)>>, String, String, Option<String>);

/// A unix stream or seqpacket listener whose queue is above its backlog in the last
/// snapshot (critical: the kernel refuses new connections), or at least
/// `accept_queue_ratio` full in every snapshot (warning).
pub fn listener_full(scan: &Scan<'_, '_>, t: &Thresholds) -> Vec<Finding> {
    let n = scan.tallies.len();
    let mut seen: FxHashMap<SockKey, Samples> = FxHashMap::default();
    for (i, tally) in scan.tallies.iter().enumerate() {
        for &s in &tally.unix_listen {
            let (Some(q), Some(limit)) = (s.recv_q, s.send_q) else {
                continue;
            };
            // Unix sockets have no cookie: the inode is their identity.
            let key = match &s.local {
                crate::model::Endpoint::Unix { inode, .. } => SockKey::Cookie(*inode),
                _ => key_of(s),
            };
            let e = seen.entry(key).or_insert_with(|| {
                let sockets = filter_word(&s.local).map(|p| format!("src {p}"));
                (vec![None; n], endpoint(&s.local), holder(s), sockets)
            });
            e.0[i] = Some((q, limit));
        }
    }
    let mut out = Vec::new();
    for (samples, path, who, sockets) in seen.into_values() {
        let Some(Pressure {
            full,
            limit,
            queued,
        }) = pressure(&samples, t.accept_queue_ratio)
        else {
            continue;
        };
        out.push(Finding {
            rule: Rule::UnixListenerFull,
            severity: if full {
                Severity::Critical
            } else {
                Severity::Warning
            },
            place: with_holder(format!("unix listener {path}"), &who),
            sockets,
            evidence: vec![format!(
                "connections waiting for accept() (Recv-Q): {} of backlog {limit}",
                series(&queued, 8)
            )],
            why: if full {
                "The queue is past the listen() backlog: a new client's connect() blocks, or \
                 fails with EAGAIN on a non-blocking socket, until the server accepts. The \
                 server has stopped accepting or accepts too slowly."
                    .into()
            } else {
                "The queue stays nearly full: the server accepts more slowly than clients \
                 connect."
                    .into()
            },
            action: "See why the server does not accept (a stack dump, strace -p PID: a \
                     blocked or busy accept loop); give listen() a larger backlog (capped \
                     by net.core.somaxconn)."
                .into(),
            threshold: format!(
                "queue above the backlog is critical; accept_queue_ratio = {} over the whole \
                 window warns",
                t.accept_queue_ratio
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;

    #[test]
    fn a_unix_listener_past_its_backlog_is_critical_and_a_draining_one_is_not() {
        let l = |q| unix_listener("/run/app.sock", 77, q, 1).owned("app", 5);
        let snaps = window_of(vec![vec![l(0)], vec![l(2)]], None);
        let f = listener_full(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].place, "unix listener /run/app.sock (app pid 5)");
        assert_eq!(f[0].sockets.as_deref(), Some("src /run/app.sock"));
        assert!(
            f[0].evidence[0].contains("0 → 2 of backlog 1"),
            "{:?}",
            f[0].evidence
        );
        // Full once, then drained: nothing.
        let snaps = window_of(vec![vec![l(2)], vec![l(0)]], None);
        assert!(listener_full(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
        // Held at the ratio throughout: a warning.
        let l = |q| unix_listener("/run/b.sock", 78, q, 10);
        let snaps = window_of(vec![vec![l(9)], vec![l(10)]], None);
        let f = listener_full(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].threshold.contains("accept_queue_ratio = 0.9"));
    }
}
