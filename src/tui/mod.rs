//! The live view. (Skeleton: owned by the TUI helper.)
