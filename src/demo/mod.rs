//! The embedded demo: the classic socket experiments on loopback (`scenarios`, each with its
//! explanation, from one registry), the threads that run them (`runtime`), the control
//! socket that drives them (`control`, served by `server`, checked by `trust`), and the
//! panel `sockeye attach` shows (`attach`, reading `view`).

pub mod attach;
pub mod control;
pub mod net;
pub mod runtime;
pub mod scenarios;
pub mod server;
pub mod trust;
pub mod view;

pub use runtime::Demo;
pub use scenarios::{Kind, ScenarioStatus};
