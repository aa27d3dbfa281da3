//! The flight recorder: `sockeye record` writes snapshots to a file, `dump --from` and
//! `replay` read any moment back. FORMAT.md (repository root) specifies the file.
//!
//! Compression is LZ4 (lz4_flex, pure Rust): a frame compresses in well under a millisecond
//! per thousand sockets with no C toolchain in the build, and socket tables are repetitive
//! enough (addresses, ports, states) that LZ4's ratio is close to zstd's at level 1 on them.

pub mod codec;
pub mod crc;
pub mod cursor;
pub mod dump;
pub mod frame;
mod mirror;
#[cfg(test)]
mod mirror_tests;
pub mod reader;
pub mod table;
pub mod when;
pub mod writer;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod tests;

pub use cursor::Cursor;
pub use frame::{Collected, Header};
pub use reader::{ReadError, Recording};
pub use writer::Writer;
