//! `sockeye config`: show where the file is, print the commented defaults, or check the file
//! and print the settings in effect.

use std::io::Write;

use crate::cli::ConfigArgs;
use crate::config;
use crate::error::UsageError;

pub fn run(args: &ConfigArgs, no_config: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if args.print_default {
        out.write_all(config::DEFAULT_CONFIG.as_bytes())?;
        return Ok(out.flush()?);
    }
    let path = config::path();
    if args.path {
        let Some(path) = path else {
            anyhow::bail!("config: no configuration path: neither XDG_CONFIG_HOME nor HOME is set");
        };
        writeln!(out, "{}", path.display())?;
        return Ok(out.flush()?);
    }
    // No flag: check the file and show what is in effect.
    let source = match (&path, no_config) {
        (_, true) => "defaults (--no-config)".to_owned(),
        (None, false) => "defaults (neither XDG_CONFIG_HOME nor HOME is set)".to_owned(),
        (Some(p), false) if p.exists() => p.display().to_string(),
        (Some(p), false) => format!("defaults ({} does not exist)", p.display()),
    };
    let settings = config::load(no_config).map_err(UsageError::from)?;
    let text = toml::to_string(&settings)?;
    writeln!(out, "# The configuration in effect, from {source}")?;
    writeln!(out, "{text}")?;
    Ok(out.flush()?)
}
