//! The command line: dump flags and output, usage errors, help, man page, completions.
mod dump;
mod usage;
mod completions;
mod help;
mod man_page;
