//! `sockeye completions SHELL`: generated from the clap definitions.

use std::io::Write;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

pub fn run(args: &CompletionsArgs) -> anyhow::Result<()> {
    // clap_complete panics when its writer fails: generate into memory, then write with the
    // error checked (a closed pipe is then the usual quiet end).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "sockeye", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .context("cannot write the completions to standard output")
}
