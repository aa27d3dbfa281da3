//! Parse the command line, dispatch, map errors to exit codes. Nothing else.

use std::process::ExitCode;

use clap::Parser;
use sockeye::cli::{Cli, Command};
use sockeye::{commands, error};

fn main() -> ExitCode {
    sockeye::tui::term::tune_malloc();
    let cli = Cli::parse();
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if error::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sockeye: {}", error::user_message(&e));
            ExitCode::from(error::exit_code(&e))
        }
    }
}
