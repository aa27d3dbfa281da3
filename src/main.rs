//! Parse the command line, dispatch, map errors to exit codes. Nothing else.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use sockeye::cli::Command;
use sockeye::{commands, error, text};

fn main() -> ExitCode {
    sockeye::tui::term::tune_malloc();
    if let Some(code) = commands::netstat::main_as_netstat() {
        return code;
    }
    let cli = match sockeye::cli_order::try_parse_ordered().map_err(error::escaped_clap_error) {
        Ok(cli) => cli,
        // check exits as a monitoring plugin: 3 for a usage error too (--help stays 0).
        Err(e) if e.use_stderr() && commands::check::invoked() => {
            let _ = clap_message(&e);
            return ExitCode::from(error::CheckExit::Unknown.code());
        }
        Err(e) if e.use_stderr() && commands::netstat::invoked() => {
            return commands::netstat::usage_error(&e);
        }
        Err(e) => return clap_message(&e),
    };
    let no_config = cli.no_config;
    let result = match cli.command {
        None => commands::tui::run_default(no_config),
        Some(Command::Dump(args)) => commands::dump::run(&args, no_config),
        Some(Command::Tui(args)) => commands::tui::run(&args, no_config),
        Some(Command::Demo(args)) => commands::demo::run(&args, no_config),
        Some(Command::Attach(args)) => commands::demo::attach(&args, no_config),
        Some(Command::Export(args)) => commands::export::run(&args, no_config),
        Some(Command::Completions(args)) => commands::completions::run(&args),
        Some(Command::Config(args)) => commands::config::run(&args, no_config),
        Some(Command::Check(args)) => return commands::check::main(&args, no_config),
        Some(Command::Record(args)) => commands::record::run(&args, no_config),
        Some(Command::Replay(args)) => commands::replay::run(&args, no_config),
        Some(Command::Netstat(args)) => commands::netstat::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if error::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            text::stderr_line(&error::user_message(&e));
            ExitCode::from(error::exit_code(&e))
        }
    }
}

/// What clap's `exit()` would do, with every write checked: `--help` and `--version` go to
/// stdout and fail (exit 1, one line) when it cannot take them, except a closed pipe, which
/// is a normal end as for dump; usage errors go to stderr, whose failure cannot be reported.
fn clap_message(e: &clap::Error) -> ExitCode {
    let code = u8::try_from(e.exit_code()).unwrap_or(2);
    if e.use_stderr() {
        let rendered = render(e, std::io::stderr().is_terminal());
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(rendered.as_bytes());
        let _ = err.flush();
        return ExitCode::from(code);
    }
    let rendered = render(e, std::io::stdout().is_terminal());
    let mut out = std::io::stdout().lock();
    match out
        .write_all(rendered.as_bytes())
        .and_then(|()| out.flush())
    {
        Ok(()) => ExitCode::from(code),
        Err(w) if w.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(code),
        Err(w) => {
            let w = anyhow::Error::new(w).context("cannot write to standard output");
            text::stderr_line(&error::user_message(&w));
            ExitCode::FAILURE
        }
    }
}

/// Styled as clap styles it when the stream is a terminal and NO_COLOR is unset; plain text
/// otherwise (clap's own auto choice).
fn render(e: &clap::Error, terminal: bool) -> String {
    let styled = e.render();
    if terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) {
        styled.ansi().to_string()
    } else {
        styled.to_string()
    }
}
