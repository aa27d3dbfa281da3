//! `dump -N` and `--all-netns`: real named namespaces (`ip netns add`) holding listeners,
//! checked against `ss -N`; namespaces appearing and vanishing while they are read.
mod churn;
pub(crate) mod container;
mod dump;
mod export;
mod spanning;
