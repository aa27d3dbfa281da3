//! `dump -E` (destroy events) and `dump -K` (closing sockets), run as the binary.

mod follow;
mod kill;
mod netns;
