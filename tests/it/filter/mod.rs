//! The filter language against ss, random bytecode against the kernel, unix path patterns.
pub mod support;
mod conformance;
mod proptest;
mod unix;
