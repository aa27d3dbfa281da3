//! Configuration file (layered: command line over file over defaults).
//! (Skeleton: owned by the docs/config helper.)
