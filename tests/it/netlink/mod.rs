//! netlink sock_diag: recorded answers, live dumps, the one-walk request, benchmarks.
mod bench;
mod fixtures;
mod live;
mod one_walk;
mod record;
