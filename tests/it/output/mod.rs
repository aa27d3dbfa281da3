//! Cell text of the output columns.
mod columns;
