//! The filter language against ss, random bytecode against the kernel, unix path patterns.
mod conformance;
mod proptest;
pub mod support;
mod unix;
