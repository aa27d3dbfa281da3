//! A UDP server that stops reading. A client sends small datagrams at a steady rate; while
//! the server does not read, its Recv-Q (memory, not payload bytes) climbs to the receive
//! buffer, and from then on the kernel drops each datagram silently, counting it in
//! `Udp RcvbufErrors` and `InErrors` (/proc/net/snmp). `resume` reads again and drains it;
//! `pause` stops reading. No TCP listener: the scenario's port is the UDP server's.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use socket2::SockRef;

use super::pacer::Pacer;
use super::spec::{
    Common, Kind, Scenario, ScenarioStatus, Seen, Spec, runs_anywhere, scenario_parts,
};
use crate::demo::net;

pub static SPEC: Spec = Spec {
    name: "udp",
    about: "A UDP server that stops reading: Recv-Q full, RcvbufErrors climbing",
    hint: "UDP Recv-Q climbs to the receive buffer, then Udp RcvbufErrors/InErrors grow; \
           `resume` drains (ss -uan)",
    man: "A UDP server that does not read, sent small datagrams at a steady rate (10 per \
          second): its Recv-Q, which counts memory rather than payload bytes, climbs to \
          the receive buffer, then each further datagram is dropped without a word to the \
          sender and counted in Udp RcvbufErrors and InErrors (nstat -az UdpRcvbufErrors). \
          resume makes the server read (Recv-Q drains to 0); pause stops it again.",
    now,
    why,
    build: |addr, _| Ok(Box::new(Udp::new(addr)?)),
    commands: &[],
    unavailable: runs_anywhere,
    tables: &[crate::model::Netid::Udp],
};

fn reading(s: &Seen<'_>) -> bool {
    s.status.is_some_and(|st| st.accepting)
}

fn now(s: &Seen<'_>) -> String {
    let mut line = match s.status {
        Some(st) if st.accepting => {
            format!("UDP server reading · {} datagrams read", st.accepted_total)
        }
        Some(_) => {
            "UDP server not reading: Recv-Q at its buffer, datagrams dropped (ss -uan)".into()
        }
        None => "UDP server (ss -uan shows its Recv-Q)".to_string(),
    };
    let g = s.growth;
    // Host-wide counters: any UDP socket's drops count, not only the demo's.
    if let (Some(rcvbuf), Some(errors)) = (g.udp_rcvbuf_errors, g.udp_in_errors) {
        line.push_str(&format!(" · Udp RcvbufErrors +{rcvbuf} InErrors +{errors}"));
    }
    line
}

fn why(s: &Seen<'_>) -> String {
    if reading(s) {
        "The server reads every datagram: Recv-Q stays near 0 and nothing is dropped.".into()
    } else {
        "The server does not read: Recv-Q (memory per datagram, not bytes) fills the receive \
         buffer, then the kernel drops each new datagram silently; only Udp RcvbufErrors and \
         InErrors count them. UDP has no window to slow the sender."
            .into()
    }
}

/// The server's SO_RCVBUF (the kernel doubles it): a few dozen small datagrams fill it.
const RCVBUF: usize = 4096;
const DEFAULT_RATE: f64 = 10.0;
const MAX_RATE: f64 = 100.0;
const DATAGRAM: &[u8] = b"hello!\r\n";

/// The server, its one sender, and whether it reads.
struct UdpBase {
    server: UdpSocket,
    client: UdpSocket,
    addr: SocketAddr,
    reading: bool,
    read_total: u64,
}

impl Common for UdpBase {
    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn clients_len(&self) -> usize {
        1
    }

    fn max_clients(&self) -> usize {
        1
    }

    fn start_clients(&mut self, _n: usize, _now: Instant) -> usize {
        0
    }

    fn start_initial(&mut self, _now: Instant) {}

    fn send_from_newest(&mut self, data: &[u8]) -> Result<String, String> {
        self.client
            .send_to(data, self.addr)
            .map(|n| format!("sent a datagram of {n} bytes"))
            .map_err(|e| format!("send failed: {e}"))
    }

    fn close_oldest(&mut self, _n: usize) -> usize {
        0
    }

    fn set_accepting(&mut self, on: bool) -> String {
        self.reading = on;
        if on { "reading" } else { "not reading" }.into()
    }

    fn reset(&mut self) {
        let mut buf = [0u8; 64];
        while self.server.recv(&mut buf).is_ok() {}
        self.reading = false;
        self.read_total = 0;
    }

    fn status(&self, kind: Kind) -> ScenarioStatus {
        ScenarioStatus {
            name: kind,
            port: self.addr.port(),
            accepting: self.reading,
            clients: 1,
            connecting: 0,
            server_conns: 0,
            accepted_total: self.read_total,
            rate: None,
            max_rate: None,
            max_clients: 1,
            extra_ports: Vec::new(),
            paths: Vec::new(),
            focus: None,
        }
    }
}

pub struct Udp {
    base: UdpBase,
    pacer: Pacer,
}

impl Udp {
    pub fn new(addr: SocketAddr) -> io::Result<Udp> {
        let server = UdpSocket::bind(addr)?;
        SockRef::from(&server).set_recv_buffer_size(RCVBUF)?;
        server.set_nonblocking(true)?;
        let addr = server.local_addr()?;
        let client = UdpSocket::bind(SocketAddr::new(addr.ip(), 0))?;
        client.set_nonblocking(true)?;
        Ok(Udp {
            base: UdpBase {
                server,
                client,
                addr,
                reading: false,
                read_total: 0,
            },
            pacer: Pacer::new(DEFAULT_RATE, MAX_RATE, Instant::now()),
        })
    }
}

impl Scenario for Udp {
    scenario_parts!(paced);

    fn step(&mut self, now: Instant) {
        if self.pacer.due(now) {
            // A full receive buffer drops it in the kernel; the send itself succeeds.
            let _ = self.base.client.send_to(DATAGRAM, self.base.addr);
        }
        if self.base.reading {
            let mut buf = [0u8; 64];
            // Bounded per step; poll wakes the thread again while more is queued.
            for _ in 0..256 {
                if self.base.server.recv(&mut buf).is_err() {
                    break;
                }
                self.base.read_total += 1;
            }
        }
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        if self.base.reading {
            fds.push(net::pollfd(self.base.server.as_raw_fd(), libc::POLLIN));
        }
    }

    fn next_due(&self, now: Instant) -> Option<Duration> {
        self.pacer.until_due(now)
    }

    fn rate_message(&self, rate: f64) -> String {
        format!("{rate} datagrams/s")
    }

    fn add(&mut self, _n: usize, _now: Instant) -> Result<String, String> {
        Err("udp has one sender; use rate to change how fast it sends".into())
    }

    fn close(&mut self, _n: usize) -> String {
        "udp has no connections to close".into()
    }

    fn restart(&mut self, _now: Instant) -> Result<String, String> {
        Ok("reset: server not reading, queue emptied".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::view::PortView;

    #[test]
    fn explanation_follows_whether_the_server_reads() {
        let mut u = Udp::new("127.0.0.1:0".parse().unwrap()).unwrap();
        let view = PortView::default();
        let st = u.base.status(Kind(&SPEC));
        let seen = Seen {
            view: &view,
            status: Some(&st),
            growth: Default::default(),
        };
        assert!(now(&seen).contains("not reading"), "{}", now(&seen));
        assert!(why(&seen).contains("RcvbufErrors"));
        u.base.set_accepting(true);
        let st = u.base.status(Kind(&SPEC));
        let seen = Seen {
            view: &view,
            status: Some(&st),
            growth: Default::default(),
        };
        assert!(
            now(&seen).starts_with("UDP server reading"),
            "{}",
            now(&seen)
        );
        assert!(why(&seen).contains("reads every datagram"));
    }

    #[test]
    fn a_server_that_reads_drains_what_was_queued() {
        let mut u = Udp::new("127.0.0.1:0".parse().unwrap()).unwrap();
        for _ in 0..3 {
            u.base.send_from_newest(DATAGRAM).unwrap();
        }
        u.base.set_accepting(true);
        let deadline = Instant::now() + Duration::from_secs(5);
        while u.base.read_total < 3 {
            assert!(Instant::now() < deadline, "read {}", u.base.read_total);
            u.step(Instant::now());
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
