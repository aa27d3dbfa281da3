//! The live view's settings, defined beside the configuration loader (src/config/) so that
//! the loader does not depend on the live view; re-exported here for the view's code.

pub use crate::config::keys::{Action, KeyBindings, key_label};
pub use crate::config::settings::{Theme, TuiSettings, View};
