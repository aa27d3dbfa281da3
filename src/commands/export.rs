//! `sockeye export`. (Skeleton: owned by the export helper.)

use crate::cli::ExportArgs;

pub fn run(_args: &ExportArgs, _no_config: bool) -> anyhow::Result<()> {
    anyhow::bail!("export is not implemented yet")
}
