//! Output formats over the one socket model: ss-style table, JSON, summary.
//! (Skeleton: owned by the output/dump helper.)
