//! Unit tests for the filter language: parser, evaluation, bytecode, errors. Shared
//! helpers here, one file per topic.

mod errors;
mod evaluation;
mod kernel_bytecode;
mod parsing;
mod states;

use std::net::IpAddr;

use super::bytecode::{self, Entry};
use super::parse::{PortOp, Side};
use super::*;
use crate::model::{Netid, TcpState};

fn w(s: &str) -> Vec<String> {
    s.split(' ').map(str::to_string).collect()
}

fn f(s: &str) -> Filter {
    match Filter::parse(&w(s)) {
        Ok(f) => f,
        Err(e) => panic!("{s}: {e}"),
    }
}

fn text(s: &str) -> String {
    f(s).expr_text().unwrap_or_default()
}

fn err(s: &str) -> String {
    match Filter::parse(&w(s)) {
        Ok(_) => panic!("{s}: accepted"),
        Err(e) => e.to_string(),
    }
}

fn tcp(state: TcpState, l: &str, lp: u16, r: &str, rp: u16) -> Socket {
    let ep = |a: &str, port| Endpoint::Inet {
        addr: a.parse::<IpAddr>().unwrap(),
        port,
    };
    Socket {
        recv_q: Some(0),
        send_q: Some(0),
        inode: 1,
        uid: Some(0),
        ..Socket::new(Netid::Tcp, state, ep(l, lp), ep(r, rp))
    }
}

fn unix(path: Option<&str>, inode: u64, peer: u64) -> Socket {
    let local = Endpoint::Unix {
        path: path.map(Into::into),
        inode,
    };
    let peer = Endpoint::Unix {
        path: None,
        inode: peer,
    };
    Socket {
        recv_q: Some(0),
        send_q: Some(0),
        inode,
        uid: Some(0),
        ..Socket::new(Netid::UnixStream, TcpState::Established, local, peer)
    }
}
