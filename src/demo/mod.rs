//! The embedded demo server and its control socket. (Skeleton: owned by the demo helper.)
