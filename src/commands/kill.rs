//! `sockeye dump -K`: close the sockets the filter selects (SOCK_DESTROY, as `ss -K`).
//!
//! Unlike ss, never silent: what was closed goes to stdout (the dump table, or `--json`),
//! every socket that was not closed goes to stderr with the reason, and the exit status is
//! 1 when any was not. Safety rules: a filter (an expression or `state …`) is required
//! unless `--kill-all`; listeners are kept unless `--kill-listeners`; TIME-WAIT sockets are
//! kept unless the filter names the state; `--dry-run` closes nothing.

use std::io::{self, Write};

use anyhow::Context;

use crate::cli::DumpArgs;
use crate::collect::host::Host;
use crate::collect::netlink::destroy::{Refusal, destroy};
use crate::collect::{Collector, SourcePref};
use crate::error::UsageError;
use crate::model::{Socket, Source, TcpState};
use crate::output::columns::CellCtx;
use crate::output::json::{JsonOptions, write_json};
use crate::output::table::{TableOptions, ss_order, write_table};
use crate::selection::{Options, Request};
use crate::text;

pub fn run(args: &DumpArgs, no_config: bool) -> anyhow::Result<()> {
    let config = crate::config::load(no_config).map_err(UsageError::from)?;
    let selection = Request::from_args(&args.select, &config, Options::DUMP)?.resolve()?;
    let named_states = selection.filter.explicit_states();
    if selection.filter.expr().is_none() && named_states.is_none() && !args.kill_all {
        return Err(UsageError(
            "-K needs a filter (e.g. `-K -t state close-wait sport = :8080`); \
             give --kill-all to close every selected socket"
                .into(),
        )
        .into());
    }
    let mut query = selection.query;
    if query.source == SourcePref::Proc {
        return Err(
            UsageError("-K needs netlink; it cannot be used with --source proc".into()).into(),
        );
    }
    query.source = SourcePref::Netlink;
    let mut collector = Collector::new(query);
    let mut snap = collector
        .snapshot()
        .context("cannot read the socket tables")?;
    ss_order(&mut snap.sockets);

    let host = Host::current();
    let sock = if args.dry_run {
        None
    } else {
        Some(
            host.open_diag_socket()
                .context("cannot open a netlink sock_diag socket")?,
        )
    };
    let time_wait_named = named_states.is_some_and(|s| s.contains(TcpState::TimeWait));
    let mut closed = Vec::new();
    let mut failed = 0usize;
    for (seq, s) in (1u32..).zip(snap.sockets) {
        let refusal = if s.state == TcpState::Listen && !args.kill_listeners {
            Some("a listening socket (give --kill-listeners to close listeners)".to_string())
        } else if s.state == TcpState::TimeWait && !time_wait_named {
            Some("TIME-WAIT (name `state time-wait` in the filter to close these)".to_string())
        } else if !s.netid.is_inet() {
            Some(Refusal::Unsupported.reason())
        } else {
            match &sock {
                None => None,
                Some(sock) => destroy(sock, &s, seq).err().map(|r| r.reason()),
            }
        };
        match refusal {
            None => closed.push(s),
            Some(why) => {
                failed += 1;
                text::stderr_line(&format!("not closed: {}: {why}", describe(&s)));
            }
        }
    }

    let mut w = io::stdout().lock();
    if args.json {
        let opts = JsonOptions {
            timers: args.options || args.extended,
            processes: false,
            info: args.info,
            memory: args.memory,
            ..JsonOptions::default()
        };
        write_json(&mut w, &closed, Source::Netlink, &opts)?;
    } else if !closed.is_empty() {
        let opts = TableOptions {
            show_netid: true,
            show_state: true,
            header: !args.no_header,
            timers: args.options || args.extended,
            extended: args.extended,
            info: args.info,
            memory: args.memory,
            ..TableOptions::default()
        };
        write_table(
            &mut w,
            &closed,
            &CellCtx::new(selection.numeric, Source::Netlink),
            &opts,
        )?;
    }
    w.flush()?;
    let verb = if args.dry_run {
        "would close"
    } else {
        "closed"
    };
    if !args.quiet {
        text::stderr_line(&format!(
            "{verb} {} socket(s); {failed} not closed",
            closed.len()
        ));
    }
    if failed > 0 {
        anyhow::bail!("{failed} selected socket(s) could not be closed (listed above)");
    }
    Ok(())
}

/// `tcp CLOSE-WAIT 127.0.0.1:8080 -> 127.0.0.1:41234`, for the failure lines.
pub(crate) fn describe(s: &Socket) -> String {
    format!(
        "{} {} {} -> {}",
        s.netid.as_str(),
        s.state.ss_name(),
        s.local.label(),
        s.peer.label()
    )
}
