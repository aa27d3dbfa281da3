//! The embedded demo: six classic socket experiments on loopback (`scenarios`), the threads
//! that run them (`runtime`), the control socket that drives them (`control`), and the
//! explanations the attach view shows (`explain`).

pub mod attach;
pub mod control;
pub mod explain;
pub mod net;
pub mod runtime;
pub mod scenarios;

pub use runtime::Demo;
pub use scenarios::{Kind, ScenarioStatus};
