//! `sockeye dump`. (Skeleton: owned by the output/dump helper.)

use crate::cli::DumpArgs;

pub fn run(_args: &DumpArgs, _no_config: bool) -> anyhow::Result<()> {
    anyhow::bail!("dump is not implemented yet")
}
