//! The classic experiments and their registry. Each scenario is one file exporting its
//! `SPEC` (name, texts, explanation, constructor) and one line in `REGISTRY`; the command
//! line's values, the control socket's names, the headless banner, the attach panel's
//! explanations and the man page all come from the registry.
//!
//! Layers, each using only those above it: `spec` and `pacer` (types), `common` (the shared
//! state and the control actions), the scenario files, then this registry.
//!
//! A new scenario: a file with its `SPEC` and a `Scenario` impl (unread.rs is the smallest to
//! start from; `Rules` sets its caps), plus `mod` and a `REGISTRY` line here. Its own control
//! commands go in `Spec::commands`, a reason it cannot run in `Spec::unavailable`.

mod common;
mod pacer;
mod spec;

mod abort;
mod backlog;
mod close_wait;
mod echo;
mod reuseaddr;
mod send_q;
mod states;
mod threads;
mod time_wait;
mod tour;
mod udp;
mod unix;
mod unread;

use std::ffi::OsStr;
use std::io;
use std::net::SocketAddr;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use serde::{Deserialize, Deserializer};

pub use common::{HELLO, MAX_SEND, act, status};
pub use spec::{
    Action, Command, Focus, Growth, Kind, Options, Scenario, ScenarioStatus, Seen, Spec,
};

/// Every scenario, in the order `sockeye demo` starts them and the docs list them.
pub static REGISTRY: &[&Spec] = &[
    &backlog::SPEC,
    &unread::SPEC,
    &close_wait::SPEC,
    &time_wait::SPEC,
    &send_q::SPEC,
    &echo::SPEC,
    &states::SPEC,
    &reuseaddr::SPEC,
    &udp::SPEC,
    &unix::SPEC,
    &threads::SPEC,
    &tour::SPEC,
    &abort::SPEC,
];

/// Every scenario, in registry order.
pub fn all() -> impl Iterator<Item = Kind> {
    REGISTRY.iter().map(|s| Kind(s))
}

/// The scenario with this name.
pub fn parse(name: &str) -> Option<Kind> {
    all().find(|k| k.as_str() == name)
}

/// Highest rate the time-wait scenario accepts.
pub const MAX_TIME_WAIT_RATE: f64 = time_wait::MAX_RATE;

impl Default for Options {
    fn default() -> Self {
        Options {
            time_wait_rate: time_wait::DEFAULT_RATE,
            unix_dir: None,
        }
    }
}

/// Bind the scenario's listener on `addr` and build it.
pub fn create(kind: Kind, addr: SocketAddr, opts: &Options) -> io::Result<Box<dyn Scenario>> {
    (kind.spec().build)(addr, opts)
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        parse(&name).ok_or_else(|| {
            let names: Vec<String> = all().map(|k| format!("`{k}`")).collect();
            serde::de::Error::custom(format!(
                "unknown variant `{}`, expected one of {}",
                crate::text::escape(&name),
                names.join(", ")
            ))
        })
    }
}

/// The command line's scenario values, from the registry (help, completions, errors).
#[derive(Clone, Copy, Debug, Default)]
pub struct KindParser;

impl KindParser {
    fn values() -> impl Iterator<Item = PossibleValue> {
        REGISTRY
            .iter()
            .map(|s| PossibleValue::new(s.name).help(s.about))
    }
}

impl TypedValueParser for KindParser {
    type Value = Kind;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Kind, clap::Error> {
        // clap's own parser gives the usual message, with the list and a suggestion.
        let name = PossibleValuesParser::new(Self::values()).parse_ref(cmd, arg, value)?;
        parse(&name).ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidValue))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(Self::values()))
    }
}

#[cfg(test)]
mod explain_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for k in all() {
            assert_eq!(parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<Kind>(&json).unwrap(), k);
        }
        assert_eq!(parse("nope"), None);
        let err = serde_json::from_str::<Kind>("\"nope\"").unwrap_err();
        assert!(err.to_string().contains("unknown variant `nope`"), "{err}");
    }

    #[test]
    fn registry_names_are_unique_and_every_entry_is_complete() {
        let mut names: Vec<&str> = REGISTRY.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len());
        for s in REGISTRY {
            assert!(!s.about.is_empty() && !s.hint.is_empty(), "{}", s.name);
            assert!(s.man.len() > 40, "{}", s.name);
        }
    }

    #[test]
    fn every_scenario_builds_on_loopback() {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let opts = Options {
            unix_dir: Some(dir.path().to_path_buf()),
            ..Options::default()
        };
        // abort needs root: as another user it is listed unavailable instead.
        for k in all().filter(|k| (k.spec().unavailable)().is_none()) {
            let s = create(k, addr, &opts).unwrap();
            assert_eq!(s.kind(), k);
            let st = status(s.as_ref());
            assert_eq!(st.name, k);
            // A port, or socket files of its own.
            assert!(st.port != 0 || !st.paths.is_empty(), "{k}");
        }
        // The unix scenario's files went with it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
