//! `sockeye replay FILE`: the live view on a recording, the recording standing in for the
//! collector ([`crate::tui::replay::ReplaySource`]).

use crate::cli::{ReplayArgs, TuiArgs};
use crate::error::UsageError;
use crate::record::when::{format_rfc3339, parse_moment};
use crate::text;
use crate::tui::replay::{ReplaySource, ReplayView};
use crate::tui::state::App;
use crate::tui::{Scope, term};

pub fn run(args: &ReplayArgs, no_config: bool) -> anyhow::Result<()> {
    let tui_args = TuiArgs {
        select: args.select.clone(),
        interval: None,
        view: args.view,
        pid: None,
        process: None,
        all_netns: false,
        read_only: false,
    };
    let options = super::tui::options(&tui_args, super::tui::settings(no_config)?)?;
    // The file and the time first: a wrong one is worth saying also without a terminal.
    let rec = crate::record::dump::open(&args.file)?;
    let at = match &args.at {
        None => 0,
        Some(t) => {
            let when = parse_moment(t, rec.start()).map_err(UsageError)?;
            rec.frame_at(when).ok_or_else(|| {
                UsageError(format!(
                    "{} is before the recording starts ({})",
                    text::escape(t),
                    format_rfc3339(rec.start())
                ))
            })?
        }
    };
    term::require_terminal(
        "replay needs a terminal on stdin and stdout; for one moment as a table use \
         `sockeye dump --from FILE --at TIME`",
    )?;
    let mut app = App::new(options.settings, options.query);
    let q = app.query().map_err(UsageError)?;
    app.filter.compiled = Some(q.clone());
    app.hostname = text::escape(&args.file.to_string_lossy()).into_owned();
    app.interval = rec.header.interval;
    let files = rec.files().len();
    app.replay = Some(ReplayView {
        label: if files > 1 {
            format!("({files} files)")
        } else {
            String::new()
        },
        speed: 1,
        ..ReplayView::default()
    });
    let history = app.settings.history;
    let source = ReplaySource::new(rec, q, at, history);
    term::run_with(app, Box::new(source), Scope::default())
}
