//! The config file: validation errors and layering CLI > file > defaults.
mod cli;
mod layering;
