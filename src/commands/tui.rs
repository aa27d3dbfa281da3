//! `sockeye` and `sockeye tui`: turn the command line into [`AppOptions`] and run the live
//! view.

use crate::cli::TuiArgs;
use crate::config::Config;
use crate::error::UsageError;
use crate::selection::{Options, Request};
use crate::tui::{self, AppOptions, QuerySpec, Scope, TuiSettings};

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

/// Command line (over `settings`) to the live view's options.
pub fn options(args: &TuiArgs, mut settings: TuiSettings) -> anyhow::Result<AppOptions> {
    if let Some(secs) = args.interval {
        settings.interval = TuiSettings::clamp_interval(secs).map_err(UsageError)?;
    }
    settings.numeric |= args.select.numeric;
    if let Some(v) = args.view {
        settings.view = v;
    }
    settings.read_only |= args.read_only;
    // The configuration's selection keys are already in `settings` (numeric); the file's
    // problems were reported when the settings were read.
    let request = Request::from_args(&args.select, &Config::default(), Options::LIVE)?;
    let scope = Scope {
        pids: args.pid.into_iter().collect(),
        process_names: args.process.iter().cloned().collect(),
        ports: Vec::new(),
        unix_paths: Vec::new(),
    };
    Ok(AppOptions {
        query: QuerySpec::new(request),
        scope,
        settings,
        panel: None,
        all_netns: args.all_netns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::NetidSet;
    use crate::model::Netid;
    use crate::tui::View;

    #[test]
    fn read_only_comes_from_the_flag_or_the_file() {
        let plain = options(&TuiArgs::default(), TuiSettings::default()).unwrap();
        assert!(!plain.settings.read_only);
        let args = TuiArgs {
            read_only: true,
            ..TuiArgs::default()
        };
        assert!(
            options(&args, TuiSettings::default())
                .unwrap()
                .settings
                .read_only
        );
        let from_file = TuiSettings {
            read_only: true,
            ..TuiSettings::default()
        };
        // No flag does not undo the file.
        assert!(
            options(&TuiArgs::default(), from_file)
                .unwrap()
                .settings
                .read_only
        );
    }

    #[test]
    fn flags_become_options() {
        let mut args = TuiArgs::default();
        args.select.tcp = true;
        args.select.ipv4 = true;
        args.interval = Some(2.5);
        args.view = Some(View::Listeners);
        args.pid = Some(42);
        args.select.filter = vec!["state".into(), "listening".into()];
        let o = options(&args, TuiSettings::default()).unwrap();
        assert_eq!(o.settings.interval.as_millis(), 2500);
        assert_eq!(o.settings.view, View::Listeners);
        assert_eq!(o.scope.pids, vec![42]);
        assert_eq!(o.query.request.tables, NetidSet::of(&[Netid::Tcp]));
        assert!(o.query.request.ipv4 && !o.query.request.ipv6);
        assert_eq!(o.query.filter, vec!["state", "listening"]);

        args.interval = Some(0.05);
        let e = options(&args, TuiSettings::default()).err().unwrap();
        assert_eq!(crate::error::exit_code(&e), 2);
    }

    /// A missing filter file is a usage error (exit 2), as in dump.
    #[test]
    fn a_missing_filter_file_is_a_usage_error() {
        let mut args = TuiArgs::default();
        args.select.filter_file = Some("/nonexistent/sockeye-filter".into());
        let e = options(&args, TuiSettings::default()).err().unwrap();
        assert_eq!(crate::error::exit_code(&e), 2);
    }
}
