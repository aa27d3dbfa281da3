//! The terminal loop: sets the terminal up and restores it on every way out, merges terminal
//! events, collector reports and signals into one channel, and redraws after each batch.

use std::io::{IsTerminal, stdout};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use ratatui::DefaultTerminal;
use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{Clear, ClearType, EnterAlternateScreen, enable_raw_mode};
use ratatui::layout::Rect;
use signal_hook::consts::{SIGCONT, SIGHUP, SIGINT, SIGQUIT, SIGSTOP, SIGTERM, SIGTSTP};
use signal_hook::iterator::Signals;

use crate::collect::Collector;
use crate::error::UsageError;

use super::events::ClosedReport;
use super::scope::Scope;
use super::settings::View;
use super::state::App;
use super::trace::{Refresh, Trace};
use super::worker::{self, Command, Report, SnapshotSource};
use super::{AppOptions, ui};

/// Everything the UI thread waits for, in one channel.
enum Input {
    Terminal(Event),
    Report(Report),
    Closed(ClosedReport),
    Signal(i32),
    ReadFailed(String),
}

/// Signals the loop handles: the three that quit, SIGQUIT (quit, then die of it), and job
/// control (SIGTSTP suspends as Ctrl-Z does, SIGCONT redraws).
const SIGNALS: [i32; 6] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGCONT];

/// Restores the terminal when dropped: on return, on error, and while unwinding a panic.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        leave();
    }
}

/// Give the terminal back as it was: no mouse reporting or bracketed paste, cooked mode, the
/// main screen, a visible cursor. Every step is tried whatever the others do.
fn leave() {
    let _ = execute!(stdout(), DisableBracketedPaste, DisableMouseCapture);
    ratatui::restore();
    let _ = execute!(stdout(), Show);
}

/// Take the terminal (again, after a suspend): raw mode, the alternate screen, mouse
/// reporting, bracketed paste (a paste arrives as one event however long), and a full redraw.
fn enter(terminal: &mut DefaultTerminal) -> anyhow::Result<()> {
    enable_raw_mode().context("cannot set up the terminal")?;
    execute!(
        stdout(),
        EnterAlternateScreen,
        Clear(ClearType::All),
        EnableMouseCapture,
        EnableBracketedPaste
    )
    .context("cannot set up the terminal")?;
    // The screen is blank: make the next draw diff against a blank buffer, so it redraws
    // everything. (Terminal::clear would ask the terminal for the cursor position, which
    // the input thread's pending read would swallow.)
    terminal.swap_buffers();
    Ok(())
}

/// Ctrl-Z or SIGTSTP, as htop and vim do it: restore the terminal, stop (the shell takes
/// over), and on `fg` take the terminal again.
fn suspend(terminal: &mut DefaultTerminal) -> anyhow::Result<()> {
    leave();
    // SIGSTOP cannot be caught: the process stops here, and continues on SIGCONT.
    signal_hook::low_level::raise(SIGSTOP).context("cannot stop")?;
    enter(terminal)
}

/// The host name for the header.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "-".to_string())
}

/// Build the app from the options and run it on the real terminal with the real collector.
pub fn run(options: AppOptions) -> anyhow::Result<()> {
    require_terminal(
        "the live view needs a terminal on stdin and stdout; for a one-shot table use `sockeye dump`",
    )?;
    let AppOptions {
        query,
        scope,
        settings,
        panel,
        all_netns,
    } = options;
    let mut app = App::new(settings, query);
    app.scope_label = scope.describe();
    app.scope_needs_processes = scope.needs_processes();
    app.hostname = hostname();
    app.panel = panel;
    app.live_events = true;
    app.closed.all_netns = all_netns;
    let q = app.query().map_err(UsageError)?;
    app.filter.compiled = Some(q.clone());
    let collector = if all_netns {
        Collector::all_netns(q)
    } else {
        Collector::new(q)
    };
    run_with(app, Box::new(collector), scope)
}

/// A usage error saying `why` unless stdin and stdout are terminals.
pub fn require_terminal(why: &str) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(UsageError(why.into()).into());
    }
    Ok(())
}

/// glibc gives each allocating thread its own malloc arena and keeps freed memory in it: with
/// a collector thread building 100,000-socket snapshots and the UI thread freeing them, the
/// arenas multiply the resident size. Two arenas are enough for two busy threads.
///
/// glibc also raises its mmap threshold each time a large mmapped block is freed (up to
/// 32 MiB), after which the per-refresh tables (sockets, keys, orders: 1-20 MiB each) come
/// from the arenas and their freed space stays resident. A fixed 256 KiB threshold keeps them
/// in their own mappings, returned to the system when freed (and grown by mremap, without a
/// copy). `MALLOC_ARENA_MAX` / `MALLOC_MMAP_THRESHOLD_` in the environment still win.
///
/// glibc documents mallopt as MT-unsafe: call this first thing in `main`, before any thread
/// exists (`demo` and `attach` start theirs before the live view opens).
pub fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only tunes the allocator; main calls this before spawning threads.
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, 2);
            }
        }
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
            }
        }
    }
}

/// How often the loop looks at a filter that is resolving host names.
const RESOLVE_TICK: Duration = Duration::from_millis(100);

/// Run `app` on the real terminal, with snapshots from `source` scoped by `scope`.
pub fn run_with(mut app: App, source: Box<dyn SnapshotSource>, scope: Scope) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel::<Input>();
    let (cmd_tx, cmd_rx) = mpsc::channel::<Command>();
    // What the findings may blame on the host, from the query the collector starts with.
    let coverage = app
        .filter
        .compiled
        .as_ref()
        .map(|q| crate::findings::history::Coverage::of_query(q, !scope.is_empty()));
    let _ = cmd_tx.send(Command::Findings(app.settings.findings.clone(), coverage));
    worker::spawn(
        source,
        app.sort,
        scope,
        app.interval,
        cmd_rx,
        tx.clone(),
        Input::Report,
    )
    .context("cannot start the collector thread")?;

    if app.live_events {
        super::events::spawn(tx.clone(), Input::Closed, app.closed.all_netns);
    } else {
        app.closed
            .without_events("the view is not of the live kernel".into());
    }

    let mut signals = Signals::new(SIGNALS).context("cannot install signal handlers")?;
    let signal_handle = signals.handle();
    {
        let tx = tx.clone();
        std::thread::Builder::new()
            .name("sockeye-signals".into())
            .spawn(move || {
                for sig in signals.forever() {
                    if tx.send(Input::Signal(sig)).is_err() {
                        return;
                    }
                }
            })
            .context("cannot start the signal thread")?;
    }

    let mut terminal = ratatui::try_init().context("cannot set up the terminal")?;
    let restore = Restore;
    // ratatui's panic hook restores raw mode and the screen; also stop mouse reporting.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(stdout(), DisableBracketedPaste, DisableMouseCapture);
        hook(info);
    }));
    enter(&mut terminal)?;

    {
        let tx = tx.clone();
        std::thread::Builder::new()
            .name("sockeye-input".into())
            .spawn(move || {
                loop {
                    match event::read() {
                        Ok(ev) => {
                            if tx.send(Input::Terminal(ev)).is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Input::ReadFailed(e.to_string()));
                            return;
                        }
                    }
                }
            })
            .context("cannot start the input thread")?;
    }
    drop(tx);

    let mut trace = Trace::from_env();
    // The signal to die of once the terminal is restored (SIGQUIT).
    let mut die_of = None;
    let result = (|| -> anyhow::Result<()> {
        let mut dirty = true;
        // Timings of the snapshot applied since the last draw, for `SOCKEYE_TRACE`.
        let mut pending: Option<Refresh> = None;
        loop {
            if dirty {
                let t0 = Instant::now();
                app.freshen();
                let size = terminal.size().context("cannot read the terminal size")?;
                let area = Rect::new(0, 0, size.width, size.height);
                app.set_page(ui::layout(area, &app).page());
                terminal
                    .draw(|f| ui::draw(f, &app))
                    .context("cannot draw")?;
                if let Some(mut r) = pending.take() {
                    r.render = t0.elapsed();
                    trace.record(&r);
                }
            }
            // Block until something happens (while a filter resolves, at most a tick), then
            // take everything that queued up meanwhile before drawing once.
            let first = if app.filter.resolving.is_some() {
                match rx.recv_timeout(RESOLVE_TICK) {
                    Ok(input) => Some(input),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
                }
            } else {
                match rx.recv() {
                    Ok(input) => Some(input),
                    Err(_) => return Ok(()),
                }
            };
            dirty = false;
            if app.filter.resolving.is_some() {
                for c in app.poll_filter(Instant::now()) {
                    let _ = cmd_tx.send(c);
                }
                dirty |= app.filter.resolving.is_none();
            }
            for input in first.into_iter().chain(rx.try_iter()) {
                match input {
                    Input::Terminal(Event::Key(k)) => {
                        for c in app.handle_key(k) {
                            let _ = cmd_tx.send(c);
                        }
                        dirty = true;
                    }
                    Input::Terminal(Event::Mouse(m)) => {
                        app.handle_mouse(m);
                        dirty = true;
                    }
                    Input::Terminal(Event::Paste(text)) => {
                        app.handle_paste(&text);
                        dirty = true;
                    }
                    Input::Terminal(Event::Resize(..)) => dirty = true,
                    Input::Terminal(_) => {}
                    Input::Report(Report::Snapshot {
                        prepared,
                        elapsed,
                        prepare,
                        collect_steps,
                        replay,
                    }) => {
                        let t0 = Instant::now();
                        let prepare_steps = prepared.steps;
                        if let Some(old) = app.apply_prepared(*prepared, Some(elapsed)) {
                            // Freeing 100,000 sockets takes milliseconds: the collector
                            // reuses the table instead, off this thread.
                            let _ = cmd_tx.send(Command::Recycle(old.sockets));
                        }
                        if let Some(p) = replay {
                            app.apply_position(*p);
                        }
                        if trace.enabled() {
                            let mut steps = collect_steps;
                            steps.extend_from_slice(&prepare_steps);
                            pending = Some(Refresh {
                                collect: elapsed,
                                prepare,
                                steps,
                                apply: t0.elapsed(),
                                render: Duration::ZERO,
                            });
                        }
                        dirty = true;
                    }
                    Input::Closed(ClosedReport::Batch { events, lost }) => {
                        app.closed.push_events(events);
                        app.closed.lost += lost;
                        app.refresh_closed();
                        dirty |= app.view == View::Closed;
                    }
                    Input::Closed(ClosedReport::Namespaces {
                        followed,
                        unreadable,
                    }) => {
                        app.closed.namespaces = Some((followed, unreadable));
                        dirty |= app.view == View::Closed;
                    }
                    Input::Closed(ClosedReport::Unavailable(why)) => {
                        app.closed.without_events(why);
                        dirty |= app.view == View::Closed;
                    }
                    Input::Report(Report::Error(e)) => {
                        app.apply_error(e);
                        dirty = true;
                    }
                    Input::Signal(SIGTSTP) => app.suspend = true,
                    Input::Signal(SIGCONT) => {
                        // Stopped from outside (SIGSTOP) the shell may have changed the
                        // terminal: take it again and redraw everything.
                        enter(&mut terminal)?;
                        dirty = true;
                    }
                    Input::Signal(sig) => {
                        if sig == SIGQUIT {
                            die_of = Some(sig);
                        }
                        app.quit = true;
                    }
                    Input::ReadFailed(e) => anyhow::bail!("cannot read the terminal: {e}"),
                }
                if app.quit {
                    return Ok(());
                }
                if app.suspend {
                    app.suspend = false;
                    suspend(&mut terminal)?;
                    dirty = true;
                }
            }
        }
    })();
    let _ = cmd_tx.send(Command::Stop);
    signal_handle.close();
    drop(restore);
    drop(terminal);
    if let Some(sig) = die_of {
        // The terminal is back to normal: now die of the signal, as without a handler.
        let _ = signal_hook::low_level::emulate_default_handler(sig);
    }
    result
}
