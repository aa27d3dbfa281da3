//! `sockeye demo` and `sockeye attach`. (Skeleton: owned by the demo helper.)

use crate::cli::{AttachArgs, DemoArgs};

pub fn run(_args: &DemoArgs, _no_config: bool) -> anyhow::Result<()> {
    anyhow::bail!("demo is not implemented yet")
}

pub fn attach(_args: &AttachArgs, _no_config: bool) -> anyhow::Result<()> {
    anyhow::bail!("attach is not implemented yet")
}
