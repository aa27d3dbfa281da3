//! The manual page: what clap knows (synopsis, every subcommand and flag, examples) rendered by
//! clap_mangen, plus the sections clap cannot write (filter grammar, TCP states, queues, demo
//! scenarios, files, environment, exit status). `man/sockeye.1` is this output, committed;
//! `tests/it/cli/man_page.rs` fails when the two differ.

use clap::CommandFactory;
use clap_mangen::Man;
use clap_mangen::roff::{Inline, Roff, bold, roman};

use crate::cli::Cli;

mod output;
mod product;
mod selection;
mod setup;
mod view;

use product::*;
use selection::*;
use setup::*;
use view::*;

/// The whole page, in roff. Deterministic: no date, and the version without the git revision,
/// so the committed page only changes when the CLI or the text does.
pub fn render() -> Vec<u8> {
    let mut cmd = Cli::command()
        .bin_name("sockeye")
        .disable_help_subcommand(true);
    cmd.build();

    let source = format!("sockeye {}", env!("CARGO_PKG_VERSION"));
    let top = Man::new(cmd.clone())
        .title("SOCKEYE")
        .source(source)
        .manual("User Commands");

    let mut page = Roff::new().render();
    page.push_str(&piece(|w| top.render_title(w)));
    page.push_str(&piece(|w| top.render_name_section(w)));
    page.push_str(&piece(|w| top.render_synopsis_section(w)));
    page.push_str(&synopsis_of_commands(&cmd));
    page.push_str(&piece(|w| top.render_description_section(w)));
    page.push_str(&piece(|w| top.render_options_section(w)));
    page.push_str(&commands_section(&cmd));
    page.push_str(&hand_written().render());
    page.into_bytes()
}

/// Output of one clap_mangen renderer, without the preamble every renderer repeats.
fn piece(render: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut buf = Vec::new();
    // Writing into a Vec cannot fail, and clap_mangen writes UTF-8 only.
    render(&mut buf).expect("rendering into memory cannot fail");
    let text = String::from_utf8(buf).expect("clap_mangen writes UTF-8");
    strip_preamble(&text).to_owned()
}

/// The roff crate starts every document with the same apostrophe-handling preamble (what an
/// empty document renders to); the page keeps one copy, at the top.
fn strip_preamble(text: &str) -> &str {
    static PREAMBLE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let preamble = PREAMBLE.get_or_init(|| Roff::new().render());
    text.strip_prefix(preamble.as_str()).unwrap_or(text)
}

/// One short usage line per subcommand under the top-level synopsis (each command's full
/// synopsis is in its own subsection).
fn synopsis_of_commands(cmd: &clap::Command) -> String {
    let mut roff = Roff::new();
    for sub in visible_subcommands(cmd) {
        let name = format!("sockeye {}", sub.get_name());
        let usage = sub.clone().render_usage().to_string();
        let usage = usage.strip_prefix("Usage: ").unwrap_or(&usage);
        let rest = usage.strip_prefix(name.as_str()).unwrap_or(usage);
        roff.control("br", []);
        roff.text([bold(name), roman(rest)]);
    }
    strip_preamble(&roff.render()).to_owned()
}

fn visible_subcommands(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

/// COMMANDS: each subcommand with its description, options and examples.
fn commands_section(cmd: &clap::Command) -> String {
    let mut out = String::from(".SH COMMANDS\n");
    for sub in visible_subcommands(cmd) {
        let man = Man::new(sub.clone());
        let name = format!("sockeye {}", sub.get_name());
        out.push_str(&format!(".SS \"{name}\"\n"));
        out.push_str(drop_headings(&piece(|w| man.render_synopsis_section(w))));
        out.push_str(".PP\n");
        out.push_str(drop_headings(&piece(|w| man.render_description_section(w))));
        out.push_str(drop_headings(&piece(|w| man.render_options_section(w))));
        if let Some(after) = sub.get_after_long_help().or_else(|| sub.get_after_help()) {
            out.push_str(strip_preamble(&examples(&after.to_string()).render()));
        }
    }
    out
}

/// clap_mangen's section pieces start with `.SH NAME`; inside COMMANDS they are subsections
/// already, so the heading lines go.
fn drop_headings(text: &str) -> &str {
    match text.strip_prefix(".SH ") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, body)| body),
        None => text,
    }
}

/// An `after_help` block ("Examples:" then lines of `command   what it does`) as tagged
/// paragraphs: the command in bold, its explanation under it, so nothing runs off an 80-column
/// terminal. A line without an explanation is the command alone.
fn examples(after_help: &str) -> Roff {
    let mut roff = Roff::new();
    let mut lines = after_help.lines();
    let title = lines.next().unwrap_or("Examples:").trim();
    roff.control("PP", []);
    roff.text([bold(title)]);
    for line in lines.map(str::trim).filter(|l| !l.is_empty()) {
        let (command, what) = match line.find("  ") {
            Some(at) => (line[..at].trim_end(), line[at..].trim()),
            None => (line, ""),
        };
        if what.is_empty() {
            roff.control("PP", []);
            roff.text([bold(command)]);
        } else {
            roff.control("TP", ["4"]);
            roff.text([bold(command)]);
            roff.text([roman(what)]);
        }
    }
    roff
}

// ---- The sections clap cannot write ---------------------------------------------------------

/// A small builder over roff for prose sections.
struct Page {
    roff: Roff,
}

impl Page {
    fn new() -> Self {
        Page { roff: Roff::new() }
    }

    fn section(&mut self, title: &str) -> &mut Self {
        self.roff.control("SH", [title]);
        self
    }

    fn subsection(&mut self, title: &str) -> &mut Self {
        self.roff.control("SS", [title]);
        self
    }

    fn para(&mut self, text: &str) -> &mut Self {
        self.roff.control("PP", []);
        self.roff.text([roman(text)]);
        self
    }

    fn para_inlines(&mut self, inlines: Vec<Inline>) -> &mut Self {
        self.roff.control("PP", []);
        self.roff.text(inlines);
        self
    }

    /// A tagged paragraph: the tag in bold, the text indented under it.
    fn item(&mut self, tag: &str, text: &str) -> &mut Self {
        self.roff.control("TP", []);
        self.roff.text([bold(tag)]);
        self.roff.text([roman(text)]);
        self
    }

    /// Lines kept as they are (commands, grammar), indented.
    fn verbatim(&mut self, lines: &[&str]) -> &mut Self {
        self.roff.control("PP", []);
        self.roff.control("RS", ["4"]);
        self.roff.control("nf", []);
        for line in lines {
            self.roff.text([roman(*line)]);
        }
        self.roff.control("fi", []);
        self.roff.control("RE", []);
        self
    }

    /// Example commands, each followed by what it does.
    fn examples(&mut self, pairs: &[(&str, &str)]) -> &mut Self {
        for (command, what) in pairs {
            self.roff.control("TP", []);
            self.roff.text([bold(*command)]);
            self.roff.text([roman(*what)]);
        }
        self
    }

    fn render(&self) -> String {
        strip_preamble(&self.roff.render()).to_owned()
    }
}

fn hand_written() -> Page {
    let mut page = Page::new();
    live_view(&mut page);
    tables_and_families(&mut page);
    output::output_flags(&mut page);
    filters(&mut page);
    tcp_states(&mut page);
    queues(&mut page);
    events_and_kill(&mut page);
    findings(&mut page);
    namespaces(&mut page);
    escaping(&mut page);
    demo_scenarios(&mut page);
    metrics(&mut page);
    recording(&mut page);
    configuration(&mut page);
    files(&mut page);
    environment(&mut page);
    exit_status(&mut page);
    see_also(&mut page);
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_is_described() {
        let page = String::from_utf8(render()).unwrap();
        for kind in crate::demo::scenarios::all() {
            let name = kind.as_str();
            assert!(
                page.contains(&format!("\\fB{}\\fR", name.replace('-', "\\-"))),
                "scenario {name} missing"
            );
        }
    }

    #[test]
    fn one_preamble_and_one_title() {
        let page = String::from_utf8(render()).unwrap();
        let preamble = Roff::new().render();
        assert_eq!(page.matches(preamble.trim_end()).count(), 1);
        assert_eq!(
            page.matches("\n.TH ").count() + page.starts_with(".TH") as usize,
            1
        );
    }

    #[test]
    fn metrics_are_listed_with_labels() {
        let families = metric_families();
        let find = |name: &str| families.iter().find(|f| f.sample_name == name);
        let queue = find("sockeye_listen_queue_length").expect("listener metric");
        assert!(
            queue.labels.contains(&"port".to_owned()),
            "{:?}",
            queue.labels
        );
        assert!(find("sockeye_tcp_listen_overflows_total").is_some());
        assert!(
            families
                .iter()
                .all(|f| !f.help.is_empty() && !f.kind.is_empty())
        );
    }

    #[test]
    fn every_key_is_in_the_page() {
        use crate::config::keys::{BINDINGS, Show};
        assert!(BINDINGS.iter().all(|b| b.man != Show::Hidden));
        let page = String::from_utf8(render()).unwrap();
        for (name, _, _) in crate::config::keys::rebindable_keys() {
            assert!(
                page.contains(&format!("({name})")),
                "key {name} undescribed"
            );
        }
    }

    #[test]
    fn no_git_revision_in_the_page() {
        let page = String::from_utf8(render()).unwrap();
        assert!(
            !page.contains("(git "),
            "the page must not change with every commit"
        );
    }
}
