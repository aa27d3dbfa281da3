//! The ss filter language: a state set plus an expression tree, evaluated in userspace and
//! compiled to inet_diag bytecode where the kernel can evaluate it.
//! (Skeleton: owned by the filter helper.)
