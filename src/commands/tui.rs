//! `sockeye` and `sockeye tui`: turn the command line into [`AppOptions`] and run the live
//! view.

use anyhow::Context;

use crate::cli::{SelectArgs, TuiArgs, ViewArg};
use crate::collect::Query;
use crate::error::UsageError;
use crate::tui::{self, AppOptions, QuerySpec, Scope, TuiSettings, View};

/// `sockeye` without a subcommand.
pub fn run_default(no_config: bool) -> anyhow::Result<()> {
    run(&TuiArgs::default(), no_config)
}

pub fn run(args: &TuiArgs, no_config: bool) -> anyhow::Result<()> {
    let options = options(args, settings(no_config)?)?;
    tui::run_app(options)
}

/// Defaults, then the configuration file (unless `--no-config`), then NO_COLOR. A bad file is
/// a usage error (exit 2). Public so other front ends (attach) layer settings the same way.
pub fn settings(no_config: bool) -> anyhow::Result<TuiSettings> {
    let mut s = crate::config::tui_settings(no_config).map_err(UsageError::from)?;
    s.no_color |= TuiSettings::no_color_from_env();
    Ok(s)
}

/// The tables, families and source the select flags ask for.
pub fn base_query(sel: &SelectArgs) -> Query {
    let (netids, ipv4, ipv6) = super::select::tables(sel);
    Query {
        netids,
        ipv4,
        ipv6,
        source: super::select::source_pref(sel.source),
        ..Query::default()
    }
}

/// Command line (over `settings`) to the live view's options.
pub fn options(args: &TuiArgs, mut settings: TuiSettings) -> anyhow::Result<AppOptions> {
    if let Some(secs) = args.interval {
        settings.interval = TuiSettings::clamp_interval(secs).map_err(UsageError)?;
    }
    settings.numeric |= args.select.numeric;
    if let Some(v) = args.view {
        settings.view = match v {
            ViewArg::States => View::States,
            ViewArg::Listeners => View::Listeners,
            ViewArg::Sockets => View::Sockets,
        };
    }
    let mut filter = Vec::new();
    if let Some(path) = &args.select.filter_file {
        if path.as_os_str() == "-" {
            return Err(UsageError(
                "the live view reads keys from standard input: give -F a file, not '-'".into(),
            )
            .into());
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read filter file {}", path.display()))?;
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            filter.extend(tui::query::split_words(line));
        }
    }
    filter.extend(args.select.filter.iter().cloned());
    let scope = Scope {
        pids: args.pid.into_iter().collect(),
        process_names: args.process.iter().cloned().collect(),
        ports: Vec::new(),
    };
    Ok(AppOptions {
        query: QuerySpec {
            base: base_query(&args.select),
            filter,
            listening: args.select.listening && !args.select.all,
        },
        scope,
        settings,
        panel: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::NetidSet;
    use crate::model::Netid;

    #[test]
    fn flags_become_options() {
        let mut args = TuiArgs::default();
        args.select.tcp = true;
        args.select.ipv4 = true;
        args.interval = Some(2.5);
        args.view = Some(ViewArg::Listeners);
        args.pid = Some(42);
        args.select.filter = vec!["state".into(), "listening".into()];
        let o = options(&args, TuiSettings::default()).unwrap();
        assert_eq!(o.settings.interval.as_millis(), 2500);
        assert_eq!(o.settings.view, View::Listeners);
        assert_eq!(o.scope.pids, vec![42]);
        assert_eq!(o.query.base.netids, NetidSet::of(&[Netid::Tcp]));
        assert!(o.query.base.ipv4 && !o.query.base.ipv6);
        assert_eq!(o.query.filter, vec!["state", "listening"]);

        args.interval = Some(0.05);
        let e = options(&args, TuiSettings::default()).err().unwrap();
        assert_eq!(crate::error::exit_code(&e), 2);
    }
}
