//! `sockeye demo` and `sockeye attach`.

use std::io::{IsTerminal, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;

use crate::cli::{AttachArgs, DemoArgs};
use crate::collect::NetidSet;
use crate::demo::Demo;
use crate::demo::attach::ScenarioPanel;
use crate::demo::control::{self, ControlClient};
use crate::demo::scenarios::{self, Kind, MAX_TIME_WAIT_RATE, Options};
use crate::demo::server::ControlServer;
use crate::error::UsageError;
use crate::model::Netid;
use crate::tui::{self, AppOptions, QuerySpec, Scope, TuiSettings};

/// Validated `demo` arguments.
struct Plan {
    kinds: Vec<Kind>,
    /// Scenarios left out because they cannot run here, and why.
    unavailable: Vec<(Kind, String)>,
    bind: IpAddr,
    opts: Options,
}

fn plan(args: &DemoArgs) -> anyhow::Result<Plan> {
    let bind: IpAddr = args
        .bind
        .parse()
        .map_err(|_| UsageError(format!("--bind: '{}' is not an IP address", args.bind)))?;
    if !bind.is_loopback() {
        if !args.allow_non_loopback {
            return Err(UsageError(format!(
                "--bind {bind} is not a loopback address; the demo's sockets would be reachable \
                 from the network. Add --allow-non-loopback if you mean it."
            ))
            .into());
        }
        crate::text::stderr_line(&format!(
            "warning: the demo listens on {bind}, reachable beyond this machine"
        ));
    }
    if !args.rate.is_finite() || args.rate <= 0.0 || args.rate > MAX_TIME_WAIT_RATE {
        return Err(UsageError(format!(
            "--rate must be more than 0 and at most {MAX_TIME_WAIT_RATE} per second"
        ))
        .into());
    }
    let named = !args.scenarios.is_empty();
    let wanted: Vec<Kind> = if named {
        args.scenarios.clone()
    } else {
        scenarios::all().collect()
    };
    let mut kinds: Vec<Kind> = Vec::new();
    let mut unavailable = Vec::new();
    for k in wanted {
        if kinds.contains(&k) || unavailable.iter().any(|(u, _)| *u == k) {
            continue;
        }
        match (k.spec().unavailable)() {
            None => kinds.push(k),
            // Named on the command line: say why it cannot run; by default: list it.
            Some(why) if named => anyhow::bail!("scenario {k} cannot run here: {why}"),
            Some(why) => unavailable.push((k, why)),
        }
    }
    check_ports(args.port, kinds.len())?;
    Ok(Plan {
        kinds,
        unavailable,
        bind,
        opts: Options {
            time_wait_rate: args.rate,
            unix_dir: Some(control_dir(args)),
        },
    })
}

/// `--port BASE`: the scenarios take BASE, BASE+1, ... one each; all must be real ports.
fn check_ports(base: Option<u16>, scenarios: usize) -> anyhow::Result<()> {
    let Some(base) = base else {
        return Ok(());
    };
    if base == 0 {
        return Err(UsageError(
            "--port 0: give the first port, 1 to 65535 (without --port the scenarios take \
             ephemeral ports)"
                .into(),
        )
        .into());
    }
    let last = u64::from(base) + scenarios.saturating_sub(1) as u64;
    if last > u64::from(u16::MAX) {
        return Err(UsageError(format!(
            "--port {base}: the {scenarios} scenarios take ports {base} to {last}; give at most {}",
            (u64::from(u16::MAX) + 1).saturating_sub(scenarios as u64)
        ))
        .into());
    }
    Ok(())
}

/// The directory of the control socket, where the unix scenario puts its sockets too.
fn control_dir(args: &DemoArgs) -> PathBuf {
    match args.socket.as_deref().and_then(Path::parent) {
        Some(p) if p.as_os_str().is_empty() => PathBuf::from("."),
        Some(p) => p.to_path_buf(),
        None => crate::demo::trust::socket_dir(),
    }
}

pub fn run(args: &DemoArgs, no_config: bool) -> anyhow::Result<()> {
    let plan = plan(args)?;
    if args.socket.is_none() {
        // The default directory is made private before any scenario puts a socket in it.
        crate::demo::trust::ensure_private_dir(&crate::demo::trust::socket_dir())?;
    }
    // The live view needs a terminal on both ends.
    let headless =
        args.headless || !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal();
    // Signals first, so a SIGTERM during start-up still ends in a clean exit.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install a signal handler")?;
    }
    let demo = Arc::new(Demo::start(&plan.kinds, plan.bind, args.port, &plan.opts)?);
    let mut control = match ControlServer::start(args.socket.as_deref(), Arc::clone(&demo)) {
        Ok(c) => c,
        Err(e) => {
            demo.stop();
            return Err(e);
        }
    };
    let result = if headless {
        print_banner(
            &demo,
            &plan.unavailable,
            control.path(),
            plan.opts.unix_dir.as_deref(),
        )
        .map(|()| {
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    } else {
        tui_settings(None, no_config).and_then(|s| attach_to(control.path(), s))
    };
    control.shutdown();
    demo.stop();
    result
}

fn print_banner(
    demo: &Demo,
    unavailable: &[(Kind, String)],
    control: &std::path::Path,
    dir: Option<&Path>,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for (kind, port) in demo.scenarios() {
        // A scenario without a port (unix) is found by its directory.
        let place = match (port, &dir) {
            (0, Some(d)) => d.display().to_string(),
            _ => std::net::SocketAddr::new(demo.bind, port).to_string(),
        };
        writeln!(out, "{:<11} {:<22} {}", kind.as_str(), place, kind.hint())?;
    }
    for (kind, why) in unavailable {
        writeln!(out, "{:<11} {:<22} unavailable: {why}", kind.as_str(), "-")?;
    }
    writeln!(out, "control     {}", control.display())?;
    writeln!(
        out,
        "watch with `sockeye attach` or `ss -tan`; stop with Ctrl-C"
    )?;
    out.flush()?;
    Ok(())
}

pub fn attach(args: &AttachArgs, no_config: bool) -> anyhow::Result<()> {
    let settings = tui_settings(args.interval, no_config)?;
    if let Some(pid) = args.pid {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            anyhow::bail!("no process with pid {pid}");
        }
        return tui::run_app(pid_options(pid, settings)?);
    }
    let path = args
        .socket
        .clone()
        .unwrap_or_else(control::default_socket_path);
    attach_to(&path, settings)
}

/// `attach --pid`: the live view of `sockeye tui --pid` (every table it shows by default),
/// not a demo's TCP-only query: a program's UDP and unix sockets were left out while the
/// header counted `UDP 0  UNIX 0`.
fn pid_options(pid: u32, settings: TuiSettings) -> anyhow::Result<AppOptions> {
    let args = crate::cli::TuiArgs {
        pid: Some(pid),
        ..crate::cli::TuiArgs::default()
    };
    crate::commands::tui::options(&args, settings)
}

/// The live view scoped to the demo's ports, with the scenario panel.
fn attach_to(path: &Path, settings: TuiSettings) -> anyhow::Result<()> {
    let status = ControlClient::connect(path)?.status()?;
    let ports = status
        .scenarios
        .iter()
        .flat_map(|s| std::iter::once(s.port).chain(s.extra_ports.iter().copied()))
        .filter(|p| *p != 0)
        .collect();
    let unix_paths = status
        .scenarios
        .iter()
        .flat_map(|s| s.paths.iter().cloned())
        .collect();
    let tables: Vec<Netid> = status
        .scenarios
        .iter()
        .flat_map(|s| s.name.spec().tables.iter().copied())
        .collect();
    let panel = ScenarioPanel::new(path, status);
    let options = AppOptions {
        query: scenario_query(&tables),
        scope: Scope {
            ports,
            unix_paths,
            ..Scope::default()
        },
        settings,
        panel: Some(Box::new(panel)),
        all_netns: false,
    };
    tui::run_app(options)
}

/// The tables the running scenarios' sockets are in (TCP when none says), every state.
fn scenario_query(tables: &[Netid]) -> QuerySpec {
    if tables.is_empty() {
        return QuerySpec::of_tables(NetidSet::of(&[Netid::Tcp]));
    }
    QuerySpec::of_tables(NetidSet::of(tables))
}

/// The live view's settings: defaults, the configuration file, NO_COLOR, then --interval.
fn tui_settings(interval: Option<f64>, no_config: bool) -> anyhow::Result<TuiSettings> {
    let mut s = crate::commands::tui::settings(no_config)?;
    if let Some(secs) = interval {
        s.interval = TuiSettings::clamp_interval(secs).map_err(UsageError)?;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attach_pid_watches_what_tui_pid_watches() {
        let settings = TuiSettings {
            interval: Duration::from_millis(700),
            ..TuiSettings::default()
        };
        let o = pid_options(4242, settings).unwrap();
        assert_eq!(o.scope.pids, vec![4242]);
        assert_eq!(o.settings.interval, Duration::from_millis(700), "kept");
        let tables = o.query.request.tables;
        for t in [Netid::Tcp, Netid::Udp, Netid::UnixStream, Netid::UnixDgram] {
            assert!(tables.contains(t), "{t:?} left out of {tables:?}");
        }
        let tui = crate::commands::tui::options(
            &crate::cli::TuiArgs {
                pid: Some(4242),
                ..crate::cli::TuiArgs::default()
            },
            TuiSettings::default(),
        )
        .unwrap();
        assert_eq!(tables, tui.query.request.tables);
        assert!(o.panel.is_none() && !o.all_netns);
    }
}
