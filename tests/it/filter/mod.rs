//! The filter language against ss, random bytecode against the kernel, unix path patterns.
mod conformance;
mod long_input;
mod proptest;
pub mod support;
mod unix;
