//! A private network namespace held by a thread of its own: the thread unshares its network
//! namespace (only its own: CLONE_NEWNET applies to the calling thread), brings up `lo`,
//! sets the sysctls it is given (per namespace, so the host's stay as they were) and then
//! creates sockets on request. A socket belongs to the namespace it was created in, whichever
//! thread uses it afterwards. The namespace lives as long as the thread or its sockets.

use std::io;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use socket2::{Domain, Protocol, Socket, Type};

enum Req {
    Socket(Sender<io::Result<Socket>>),
    Stop,
}

/// The namespace's thread; stopped (and the namespace released once its sockets are gone)
/// on drop.
pub struct Netns {
    tx: Sender<Req>,
    thread: Option<JoinHandle<()>>,
    /// The thread's id: `nsenter --net=/proc/PID/task/TID/ns/net ss -tan` looks inside.
    pub tid: i32,
}

fn bring_up_loopback() -> io::Result<()> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, None)?;
    // SAFETY: a zeroed ifreq is valid; the name is a NUL-terminated "lo".
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, c) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *c as libc::c_char;
    }
    use std::os::fd::AsRawFd;
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS on a valid socket with an ifreq that outlives them.
    unsafe {
        if libc::ioctl(s.as_raw_fd(), libc::SIOCGIFFLAGS, &raw mut req) != 0 {
            return Err(io::Error::last_os_error());
        }
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(s.as_raw_fd(), libc::SIOCSIFFLAGS, &raw mut req) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

fn enter(sysctls: &[(&str, &str)]) -> io::Result<i32> {
    // SAFETY: unshare(2) with CLONE_NEWNET only changes this thread's namespace.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    bring_up_loopback()?;
    for (name, value) in sysctls {
        // /proc/sys/net follows the writing thread's namespace: the new one.
        std::fs::write(format!("/proc/sys/net/{name}"), value)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot set net.{name}: {e}")))?;
    }
    // SAFETY: gettid(2) cannot fail.
    Ok(unsafe { libc::gettid() })
}

impl Netns {
    /// A new namespace with these sysctls (`ipv4/tcp_abort_on_overflow`, value).
    pub fn new(name: &str, sysctls: &'static [(&'static str, &'static str)]) -> io::Result<Netns> {
        let (tx, rx) = mpsc::channel::<Req>();
        let (ready_tx, ready_rx) = mpsc::channel::<io::Result<i32>>();
        let thread = std::thread::Builder::new()
            .name(format!("demo-netns-{name}"))
            .spawn(move || serve(sysctls, &rx, &ready_tx))?;
        let tid = ready_rx
            .recv()
            .map_err(|_| io::Error::other("the namespace thread stopped"))??;
        Ok(Netns {
            tx,
            thread: Some(thread),
            tid,
        })
    }

    /// A non-blocking TCP socket (IPv4) in the namespace.
    pub fn tcp_socket(&self) -> io::Result<Socket> {
        let (tx, rx) = mpsc::channel();
        self.tx
            .send(Req::Socket(tx))
            .map_err(|_| io::Error::other("the namespace thread stopped"))?;
        rx.recv()
            .map_err(|_| io::Error::other("the namespace thread stopped"))?
    }
}

fn serve(sysctls: &[(&str, &str)], rx: &Receiver<Req>, ready: &Sender<io::Result<i32>>) {
    let entered = enter(sysctls);
    let ok = entered.is_ok();
    let _ = ready.send(entered);
    if !ok {
        return;
    }
    while let Ok(req) = rx.recv() {
        match req {
            Req::Socket(reply) => {
                let s = Socket::new(
                    Domain::IPV4,
                    Type::STREAM.nonblocking(),
                    Some(Protocol::TCP),
                );
                let _ = reply.send(s);
            }
            Req::Stop => break,
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = self.tx.send(Req::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
