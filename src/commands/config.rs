//! `sockeye config`. (Skeleton: owned by the docs/config helper.)

use crate::cli::ConfigArgs;

pub fn run(_args: &ConfigArgs, _no_config: bool) -> anyhow::Result<()> {
    anyhow::bail!("config is not implemented yet")
}
