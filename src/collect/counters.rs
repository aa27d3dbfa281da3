//! Kernel counters and sysctls. (Skeleton: the procfs helper owns this file.)

use std::path::Path;

use crate::model::KernelCounters;

pub fn read(_proc_root: &Path) -> KernelCounters {
    KernelCounters::default()
}
