//! The command line: dump flags and output, usage errors, help, man page, completions.
mod completions;
mod dump;
mod help;
mod man_page;
mod usage;
mod writes;
