//! The command line: dump flags and output, usage errors, help, man page, completions.
mod completions;
mod dump;
mod escaping;
mod help;
mod hostile_input;
mod input_files;
mod man_page;
mod usage;
mod writes;
