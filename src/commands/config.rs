//! `sockeye config`: show where the file is, print the commented defaults, or check the file
//! and print the settings in effect.

use std::io::Write;

use crate::cli::ConfigArgs;
use crate::config::{self, Config};
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
    // No flag: check the file and show every setting in effect (file over defaults).
    let settings = config::tui_settings(no_config).map_err(UsageError::from)?;
    let source = match (&path, no_config) {
        (_, true) => "the defaults (--no-config)".to_owned(),
        (None, false) => "the defaults (neither XDG_CONFIG_HOME nor HOME is set)".to_owned(),
        (Some(p), false) if p.exists() => format!("{} over the defaults", p.display()),
        (Some(p), false) => format!("the defaults ({} does not exist)", p.display()),
    };
    let text = toml::to_string(&Config::from_settings(&settings))?;
    writeln!(out, "# The settings in effect, from {source}.")?;
    writeln!(out, "{text}")?;
    Ok(out.flush()?)
}
