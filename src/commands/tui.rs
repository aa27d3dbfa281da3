//! `sockeye` and `sockeye tui`. (Skeleton: owned by the TUI helper.)

use crate::cli::TuiArgs;
use crate::error::UsageError;

pub fn run_default(_no_config: bool) -> anyhow::Result<()> {
    Err(UsageError("the live view is not available yet; use `sockeye dump`".into()).into())
}

pub fn run(_args: &TuiArgs, no_config: bool) -> anyhow::Result<()> {
    run_default(no_config)
}
