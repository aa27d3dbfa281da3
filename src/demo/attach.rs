//! The scenario panel `sockeye attach` adds to the live view: each scenario, its port, what
//! the kernel shows right now, why, and keys that drive the demo over the control socket.
//!
//! The panel lives on the UI thread and never does I/O there: a worker thread owns the
//! control connection, refreshes the demo's status every second and carries out key actions.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::control::{ControlClient, Request, Status, request_line};
use super::scenarios::{Growth, Kind, ScenarioStatus};
use super::view::{self, PortView};
use crate::model::Snapshot;
use crate::tui::Panel;

/// How often the worker asks the demo for its status.
const STATUS_EVERY: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Shared {
    status: Option<Status>,
    /// The last action's outcome, or why the demo cannot be reached.
    message: Option<String>,
}

pub struct ScenarioPanel {
    scenarios: Vec<(Kind, u16)>,
    selected: usize,
    shared: Arc<Mutex<Shared>>,
    actions: Sender<Request>,
    /// Each scenario's extra ports and unix socket paths (from the first status), beside
    /// `scenarios`.
    extra: Vec<(Vec<u16>, Vec<String>)>,
    views: Vec<PortView>,
    /// The counters at the first snapshot that had them, and their growth since.
    counter_base: Growth,
    growth: Growth,
}

impl ScenarioPanel {
    /// A panel for the demo at `control`, whose first status is `status`.
    pub fn new(control: &Path, status: Status) -> ScenarioPanel {
        let (panel, rx) = ScenarioPanel::detached(status);
        let path = control.to_path_buf();
        let worker_shared = Arc::clone(&panel.shared);
        // If the thread cannot start, keys only report that the demo is unreachable.
        let _ = std::thread::Builder::new()
            .name("attach-control".into())
            .spawn(move || worker(&path, &rx, &worker_shared));
        panel
    }

    /// The panel without its worker: requests queue on the returned receiver.
    fn detached(status: Status) -> (ScenarioPanel, Receiver<Request>) {
        let scenarios = status.scenarios.iter().map(|s| (s.name, s.port)).collect();
        let extra = status
            .scenarios
            .iter()
            .map(|s| (s.extra_ports.clone(), s.paths.clone()))
            .collect();
        let shared = Arc::new(Mutex::new(Shared {
            status: Some(status),
            message: None,
        }));
        let (tx, rx) = mpsc::channel();
        let panel = ScenarioPanel {
            scenarios,
            selected: 0,
            shared,
            actions: tx,
            extra,
            views: Vec::new(),
            counter_base: Growth::default(),
            growth: Growth::default(),
        };
        (panel, rx)
    }

    fn selected_status(&self) -> Option<ScenarioStatus> {
        let (kind, _) = *self.scenarios.get(self.selected)?;
        let shared = self.shared.lock().ok()?;
        shared
            .status
            .as_ref()?
            .scenarios
            .iter()
            .find(|s| s.name == kind)
            .cloned()
    }

    fn send(&self, req: Request) {
        if self.actions.send(req).is_err() {
            self.note("the control worker has stopped".into());
        }
    }

    fn note(&self, msg: String) {
        if let Ok(mut s) = self.shared.lock() {
            s.message = Some(msg);
        }
    }

    /// The next churn rate for `>` (faster) or `<` (slower).
    fn next_rate(st: &ScenarioStatus, faster: bool) -> Option<f64> {
        let rate = st.rate?;
        let max = st.max_rate.unwrap_or(rate);
        let next = if faster {
            if rate <= 0.0 { 0.1 } else { rate * 2.0 }
        } else if rate <= 0.1 {
            0.0
        } else {
            rate / 2.0
        };
        Some((next.min(max) * 100.0).round() / 100.0)
    }
}

fn worker(path: &Path, rx: &Receiver<Request>, shared: &Mutex<Shared>) {
    let mut client: Option<ControlClient> = None;
    let mut call = |req: &Request| -> Result<serde_json::Value, String> {
        // One reconnect: the demo closes idle connections, and may have been restarted.
        for _ in 0..2 {
            if client.is_none() {
                client = Some(ControlClient::connect(path).map_err(|e| e.to_string())?);
            }
            if let Some(c) = client.as_mut() {
                match c.raw(&request_line(req).map_err(|e| e.to_string())?) {
                    Ok(v) => return Ok(v),
                    Err(_) => client = None,
                }
            }
        }
        Err("the demo does not answer".into())
    };
    loop {
        let action = match rx.recv_timeout(STATUS_EVERY) {
            Ok(req) => Some(req),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let message = action.map(|req| {
            let who = req
                .scenario()
                .map_or_else(String::new, |k| format!("{k}: "));
            match call(&req) {
                Ok(v) if v["ok"] == true => {
                    format!("{who}{}", v["message"].as_str().unwrap_or("done"))
                }
                Ok(v) => format!("{who}error: {}", v["error"].as_str().unwrap_or("unknown")),
                Err(e) => e,
            }
        });
        let status = call(&Request::Status);
        let Ok(mut s) = shared.lock() else { return };
        match status {
            Ok(v) => match serde_json::from_value::<Status>(v) {
                Ok(st) => s.status = Some(st),
                Err(e) => s.message = Some(format!("unexpected status: {e}")),
            },
            Err(e) => {
                s.status = None;
                s.message = Some(format!("demo unreachable: {e}"));
            }
        }
        if let Some(m) = message {
            s.message = Some(m);
        }
    }
}

impl ScenarioPanel {
    /// The tour scenario, when the demo runs it.
    fn tour(&self) -> Option<Kind> {
        self.scenarios
            .iter()
            .map(|(k, _)| *k)
            .find(|k| k.as_str() == "tour")
    }

    /// Where the tour stands, from the last status.
    fn focus(&self) -> Option<crate::demo::scenarios::Focus> {
        let tour = self.tour()?;
        let shared = self.shared.lock().ok()?;
        shared
            .status
            .as_ref()?
            .scenarios
            .iter()
            .find(|s| s.name == tour)?
            .focus
            .clone()
    }
}

impl Panel for ScenarioPanel {
    fn title(&self) -> String {
        let pid = self
            .shared
            .lock()
            .ok()
            .and_then(|s| s.status.as_ref().map(|st| st.pid));
        match pid {
            Some(pid) => format!("demo (pid {pid}) — scenarios"),
            None => "demo — not reachable".into(),
        }
    }

    fn height(&self) -> u16 {
        // Border, one row per scenario, a blank, three for the reason, messages, keys.
        (self.scenarios.len() as u16) + 8
    }

    fn render(&self, area: Rect, buf: &mut Buffer, _snapshot: Option<&Snapshot>) {
        if area.height == 0 || area.width == 0 {
            return;
        }
        let shared = self.shared.lock().ok();
        let status = shared.as_ref().and_then(|s| s.status.as_ref());
        let message = shared.as_ref().and_then(|s| s.message.clone());
        let mut lines: Vec<Line> = Vec::new();
        let empty = PortView::default();
        for (i, (kind, port)) in self.scenarios.iter().enumerate() {
            let st = status.and_then(|s| s.scenarios.iter().find(|x| x.name == *kind));
            let view = self.views.get(i).unwrap_or(&empty);
            let mut flags = Vec::new();
            if let Some(st) = st {
                if !st.accepting {
                    flags.push("not accepting".to_string());
                }
                if let Some(r) = st.rate {
                    flags.push(format!("{r}/s"));
                }
            }
            let marker = if i == self.selected { "▶ " } else { "  " };
            let style = if i == self.selected {
                Style::default().add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
            let mut spans = vec![
                Span::styled(format!("{marker}{:<11}", kind.as_str()), style),
                // A scenario of unix sockets has no port: its files are in the control dir.
                Span::raw(if *port == 0 {
                    format!("{:<8}", "files")
                } else {
                    format!(":{port:<6} ")
                }),
                Span::raw(kind.now_line(view, st, self.growth)),
            ];
            if !flags.is_empty() {
                spans.push(Span::styled(
                    format!("  [{}]", flags.join(", ")),
                    Style::default().add_modifier(Modifier::DIM),
                ));
            }
            lines.push(Line::from(spans));
        }
        let rows = lines.len() as u16;
        Paragraph::new(lines).render(
            Rect {
                height: rows.min(area.height),
                ..area
            },
            buf,
        );
        let mut y = area.y + rows + 1;
        let bottom = area.y + area.height;
        if let Some((kind, _)) = self.scenarios.get(self.selected)
            && y < bottom
        {
            let st = status.and_then(|s| s.scenarios.iter().find(|x| x.name == *kind));
            let view = self.views.get(self.selected).unwrap_or(&empty);
            let why = kind.why(view, st);
            let h = 3.min(bottom - y);
            Paragraph::new(why).wrap(Wrap { trim: true }).render(
                Rect {
                    y,
                    height: h,
                    ..area
                },
                buf,
            );
            y += h;
        }
        if y < bottom
            && let Some(text) = message
        {
            Paragraph::new(Line::raw(text)).render(
                Rect {
                    y,
                    height: 1,
                    ..area
                },
                buf,
            );
        }
        y += 1;
        if y < bottom {
            let keys = "[ ] scenario   c connect   w send hello!\\r\\n   x close   \
                        a accept on/off   < > churn   R reset   n tour step";
            Paragraph::new(Line::styled(
                keys,
                Style::default().add_modifier(Modifier::DIM),
            ))
            .render(
                Rect {
                    y,
                    height: 1,
                    ..area
                },
                buf,
            );
        }
    }

    fn handle_key(&mut self, key: KeyEvent) -> bool {
        if key.kind == KeyEventKind::Release
            || key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return false;
        }
        let Some(&(kind, _)) = self.scenarios.get(self.selected) else {
            return false;
        };
        match key.code {
            KeyCode::Char(']') => {
                self.selected = (self.selected + 1) % self.scenarios.len();
            }
            KeyCode::Char('[') => {
                self.selected = (self.selected + self.scenarios.len() - 1) % self.scenarios.len();
            }
            KeyCode::Char('c') => self.send(Request::Add {
                scenario: kind,
                count: 1,
            }),
            KeyCode::Char('x') => self.send(Request::Close {
                scenario: kind,
                count: 1,
            }),
            KeyCode::Char('w') => self.send(Request::Send {
                scenario: kind,
                data: None,
            }),
            KeyCode::Char('a') => {
                let accepting = self.selected_status().is_none_or(|s| s.accepting);
                self.send(if accepting {
                    Request::Pause { scenario: kind }
                } else {
                    Request::Resume { scenario: kind }
                });
            }
            KeyCode::Char(c @ ('<' | '>')) => {
                match self
                    .selected_status()
                    .and_then(|st| Self::next_rate(&st, c == '>'))
                {
                    Some(per_sec) => self.send(Request::Rate {
                        scenario: kind,
                        per_sec,
                    }),
                    None => self.note(format!("{kind} has no churn rate")),
                }
            }
            KeyCode::Char('R') => self.send(Request::Reset {
                scenario: Some(kind),
            }),
            _ => return false,
        }
        true
    }

    fn help(&self) -> Vec<(String, String)> {
        // The scenarios with a churn rate, as the demo reports them.
        let churn: Vec<&str> = self
            .scenarios
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|name| {
                self.shared.lock().ok().is_some_and(|s| {
                    s.status.as_ref().is_some_and(|st| {
                        st.scenarios
                            .iter()
                            .any(|x| x.name.as_str() == *name && x.max_rate.is_some())
                    })
                })
            })
            .collect();
        let churn = if churn.is_empty() {
            "faster / slower churn".to_string()
        } else {
            format!("faster / slower churn ({})", churn.join(", "))
        };
        [
            ("[ ]", "previous / next scenario".to_string()),
            ("c", "connect a client to the scenario".to_string()),
            ("w", "a client sends hello!\\r\\n".to_string()),
            ("x", "close the oldest client".to_string()),
            ("a", "pause / resume accept()".to_string()),
            ("> <", churn),
            ("R", "reset the scenario".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn tour_next(&mut self) {
        match self.tour() {
            Some(tour) => {
                // The tour is what the panel shows from now on.
                if let Some(i) = self.scenarios.iter().position(|(k, _)| *k == tour) {
                    self.selected = i;
                }
                self.send(Request::Do {
                    scenario: tour,
                    action: "next".into(),
                });
            }
            None => {
                self.note("the demo is not running the tour scenario (sockeye demo tour)".into())
            }
        }
    }

    fn marked(&self) -> Vec<(u16, u16)> {
        let Some(f) = self.focus() else {
            return Vec::new();
        };
        let Some(c) = f.client_port else {
            return Vec::new();
        };
        vec![(c, f.server_port), (f.server_port, c)]
    }

    fn on_snapshot(&mut self, snapshot: &Snapshot) {
        let none = (Vec::new(), Vec::new());
        self.views = self
            .scenarios
            .iter()
            .enumerate()
            .map(|(i, (_, port))| {
                let (ports, paths) = self.extra.get(i).unwrap_or(&none);
                view::scenario_view(snapshot, *port, ports, paths)
            })
            .collect();
        let Some(c) = snapshot.counters.as_ref() else {
            return;
        };
        // Growth since the first value seen; a counter the kernel does not have stays None.
        let grow = |base: &mut Option<u64>, now: Option<u64>| {
            let now = now?;
            Some(now.saturating_sub(*base.get_or_insert(now)))
        };
        let b = &mut self.counter_base;
        self.growth = Growth {
            listen_overflows: grow(&mut b.listen_overflows, c.listen_overflows),
            udp_rcvbuf_errors: grow(&mut b.udp_rcvbuf_errors, c.udp_rcvbuf_errors),
            udp_in_errors: grow(&mut b.udp_in_errors, c.udp_in_errors),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, KernelCounters, Netid, Socket, Source, TcpState};
    use ratatui::crossterm::event::KeyEvent;
    use std::net::{IpAddr, Ipv4Addr};

    fn kind(name: &str) -> Kind {
        crate::demo::scenarios::parse(name).unwrap()
    }

    fn status_of(kinds: &[(&str, u16)]) -> Status {
        Status {
            pid: 4242,
            bind: "127.0.0.1".into(),
            scenarios: kinds
                .iter()
                .map(|&(name, port)| ScenarioStatus {
                    name: kind(name),
                    port,
                    accepting: true,
                    clients: 4,
                    connecting: 1,
                    server_conns: 1,
                    accepted_total: 1,
                    rate: (name == "time-wait").then_some(20.0),
                    max_rate: (name == "time-wait").then_some(200.0),
                    max_clients: 8,
                    extra_ports: Vec::new(),
                    paths: Vec::new(),
                    focus: None,
                })
                .collect(),
        }
    }

    fn tcp(state: TcpState, local: u16, peer: u16, rq: u32, sq: u32) -> Socket {
        let ep = |port| Endpoint::Inet {
            addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port,
        };
        Socket {
            recv_q: Some(rq),
            send_q: Some(sq),
            ..Socket::new(Netid::Tcp, state, ep(local), ep(peer))
        }
    }

    fn snapshot(overflows: u64) -> Snapshot {
        Snapshot {
            taken_at: std::time::SystemTime::now(),
            source: Source::Netlink,
            fallback_reason: None,
            sockets: vec![
                tcp(TcpState::Listen, 7000, 0, 2, 1),
                tcp(TcpState::Established, 7000, 50001, 0, 0),
                tcp(TcpState::SynSent, 50004, 7000, 0, 1),
                tcp(TcpState::Listen, 7003, 0, 0, 128),
                tcp(TcpState::TimeWait, 50010, 7003, 0, 0),
            ],
            counters: Some(KernelCounters {
                listen_overflows: Some(overflows),
                ..KernelCounters::default()
            }),
            warnings: Vec::new(),
            skipped_records: 0,
            process_note: None,
        }
    }

    fn text(buf: &Buffer) -> String {
        let area = buf.area;
        (0..area.height)
            .map(|y| {
                (0..area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn panel_shows_each_scenario_what_the_kernel_shows_and_why() {
        let (mut panel, _rx) =
            ScenarioPanel::detached(status_of(&[("backlog", 7000), ("time-wait", 7003)]));
        panel.on_snapshot(&snapshot(100));
        panel.on_snapshot(&snapshot(103));
        let area = Rect::new(0, 0, 140, panel.height() - 2);
        let mut buf = Buffer::empty(area);
        panel.render(area, &mut buf, None);
        let screen = text(&buf);
        assert!(
            screen.contains(
                "▶ backlog    :7000   LISTEN 2/1 · 1 ESTAB · 1 SYN-SENT · ListenOverflows +3"
            ),
            "{screen}"
        );
        assert!(
            screen.contains(
                "  time-wait  :7003   LISTEN 0/128 · 1 TIME-WAIT (clients) · 0 ESTAB  [20/s]"
            ),
            "{screen}"
        );
        assert!(
            screen.contains("Recv-Q 2 on a listener with backlog 1"),
            "{screen}"
        );
        assert!(screen.contains("c connect"), "{screen}");
        assert_eq!(panel.title(), "demo (pid 4242) — scenarios");
        // The churn keys name the scenarios that have a rate, as the demo reports them.
        assert!(
            panel
                .help()
                .iter()
                .any(|(k, v)| k == "> <" && v == "faster / slower churn (time-wait)"),
            "{:?}",
            panel.help()
        );
    }

    #[test]
    fn keys_become_control_requests() {
        let (mut panel, rx) =
            ScenarioPanel::detached(status_of(&[("backlog", 7000), ("time-wait", 7003)]));
        let key = |c| KeyEvent::from(KeyCode::Char(c));
        assert!(panel.handle_key(key('c')));
        assert_eq!(
            rx.try_recv().unwrap(),
            Request::Add {
                scenario: kind("backlog"),
                count: 1
            }
        );
        assert!(panel.handle_key(key('w')));
        assert_eq!(
            rx.try_recv().unwrap(),
            Request::Send {
                scenario: kind("backlog"),
                data: None
            }
        );
        assert!(panel.handle_key(key('a')));
        assert_eq!(
            rx.try_recv().unwrap(),
            Request::Pause {
                scenario: kind("backlog")
            }
        );
        // Backlog has no churn rate: nothing is sent, a note is shown.
        assert!(panel.handle_key(key('>')));
        assert!(rx.try_recv().is_err());
        assert!(panel.handle_key(key(']')));
        assert!(panel.handle_key(key('>')));
        assert_eq!(
            rx.try_recv().unwrap(),
            Request::Rate {
                scenario: kind("time-wait"),
                per_sec: 40.0
            }
        );
        assert!(panel.handle_key(key('x')));
        assert_eq!(
            rx.try_recv().unwrap(),
            Request::Close {
                scenario: kind("time-wait"),
                count: 1
            }
        );
        assert!(panel.handle_key(key('R')));
        assert_eq!(
            rx.try_recv().unwrap(),
            Request::Reset {
                scenario: Some(kind("time-wait"))
            }
        );
        // Keys the views own are left alone.
        assert!(!panel.handle_key(key('j')));
        assert!(!panel.handle_key(key('s')));
    }

    fn st(rate: Option<f64>, max: Option<f64>) -> ScenarioStatus {
        ScenarioStatus {
            name: kind("time-wait"),
            port: 1,
            accepting: true,
            clients: 0,
            connecting: 0,
            server_conns: 0,
            accepted_total: 0,
            rate,
            max_rate: max,
            max_clients: 1,
            extra_ports: Vec::new(),
            paths: Vec::new(),
            focus: None,
        }
    }

    #[test]
    fn churn_keys_double_and_halve_within_bounds() {
        let f = |r, faster| ScenarioPanel::next_rate(&st(Some(r), Some(200.0)), faster);
        assert_eq!(f(20.0, true), Some(40.0));
        assert_eq!(f(20.0, false), Some(10.0));
        assert_eq!(f(150.0, true), Some(200.0));
        assert_eq!(f(0.0, true), Some(0.1));
        assert_eq!(f(0.1, false), Some(0.0));
        assert_eq!(ScenarioPanel::next_rate(&st(None, None), true), None);
    }

    fn unix(
        netid: Netid,
        state: TcpState,
        path: Option<&str>,
        inode: u64,
        rq: u32,
        sq: u32,
    ) -> Socket {
        Socket {
            recv_q: Some(rq),
            send_q: Some(sq),
            ..Socket::new(
                netid,
                state,
                Endpoint::Unix {
                    path: path.map(Into::into),
                    inode,
                },
                Endpoint::Unix {
                    path: None,
                    inode: 0,
                },
            )
        }
    }

    #[test]
    fn unix_line_reads_the_scenarios_paths_and_udp_shows_drop_deltas() {
        let mut status = status_of(&[("unix", 0), ("udp", 7009)]);
        let dir = "/run/user/1/sockeye";
        status.scenarios[0].paths = [
            "unix-stream.sock",
            "unix-dgram.sock",
            "unix-dgram-sender.sock",
        ]
        .iter()
        .map(|n| format!("{dir}/{n}"))
        .collect();
        status.scenarios[1].accepting = false;
        let (mut panel, _rx) = ScenarioPanel::detached(status);
        let snap = |rcvbuf: u64, in_errors: u64| {
            let path = |n: &str| Some(format!("{dir}/{n}"));
            let mut s = snapshot(0);
            s.sockets = vec![
                unix(
                    Netid::UnixStream,
                    TcpState::Listen,
                    path("unix-stream.sock").as_deref(),
                    10,
                    2,
                    1,
                ),
                unix(
                    Netid::UnixStream,
                    TcpState::Listen,
                    Some("/elsewhere.sock"),
                    11,
                    5,
                    5,
                ),
                unix(
                    Netid::UnixDgram,
                    TcpState::Established,
                    path("unix-dgram.sock").as_deref(),
                    12,
                    8,
                    0,
                ),
                unix(
                    Netid::UnixDgram,
                    TcpState::Established,
                    path("unix-dgram-sender.sock").as_deref(),
                    13,
                    0,
                    8448,
                ),
            ];
            if let Some(c) = s.counters.as_mut() {
                c.udp_rcvbuf_errors = Some(rcvbuf);
                c.udp_in_errors = Some(in_errors);
            }
            s
        };
        panel.on_snapshot(&snap(100, 120));
        panel.on_snapshot(&snap(131, 151));
        let area = Rect::new(0, 0, 160, panel.height() - 2);
        let mut buf = Buffer::empty(area);
        panel.render(area, &mut buf, None);
        let screen = text(&buf);
        assert!(
            screen.contains(
                "▶ unix       files   u_str LISTEN 2/1 · 0 accepted · u_dgr receiver Recv-Q 8, \
                 sender Send-Q 8448"
            ),
            "{screen}"
        );
        assert!(
            screen.contains(
                "not reading: Recv-Q at its buffer, datagrams dropped (ss -uan) · \
                 Udp RcvbufErrors +31 InErrors +31"
            ),
            "{screen}"
        );
        assert!(screen.contains("EAGAIN"), "{screen}");
    }

    #[test]
    fn the_tour_key_moves_the_tour_and_marks_its_pair() {
        let mut status = status_of(&[("backlog", 7000), ("tour", 7011)]);
        let (mut panel, rx) = ScenarioPanel::detached(status.clone());
        assert!(panel.marked().is_empty());
        panel.tour_next();
        assert_eq!(
            rx.try_recv().unwrap(),
            Request::Do {
                scenario: kind("tour"),
                action: "next".into()
            }
        );
        // The panel follows the tour.
        assert_eq!(panel.selected, 1);
        status.scenarios[1].focus = Some(crate::demo::scenarios::Focus {
            step: 2,
            steps: 11,
            client_state: "SYN-SENT".into(),
            server_state: "LISTEN".into(),
            says: "connect(): the client sends a SYN".into(),
            server_port: 7011,
            client_port: Some(50123),
        });
        if let Ok(mut s) = panel.shared.lock() {
            s.status = Some(status);
        }
        assert_eq!(panel.marked(), vec![(50123, 7011), (7011, 50123)]);
        let area = Rect::new(0, 0, 140, panel.height() - 2);
        let mut buf = Buffer::empty(area);
        panel.render(area, &mut buf, None);
        let screen = text(&buf);
        assert!(
            screen.contains("▶ tour       :7011   step 2/11: client SYN-SENT · server LISTEN"),
            "{screen}"
        );
        assert!(
            screen.contains("connect(): the client sends a SYN"),
            "{screen}"
        );
        // Without the tour scenario the key only says so.
        let (mut plain, rx) = ScenarioPanel::detached(status_of(&[("backlog", 7000)]));
        plain.tour_next();
        assert!(rx.try_recv().is_err());
    }
}
