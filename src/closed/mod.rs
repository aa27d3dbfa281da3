//! What closed: how a connection ended ([`ending`]) and how long it lived ([`births`]),
//! for `dump -E`, the exporter and the live view's Closed view.

pub mod births;
pub mod ending;

pub use births::{Births, Lifetime};
pub use ending::Ending;
