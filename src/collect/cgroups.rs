//! cgroup v2 ids to paths, as ss prints them after `cgroup:` (`-e`, `--cgroup`).

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::Host;

/// The cgroup hierarchy as it was when loaded: id → path. Loaded once per collector, the way
/// ss walks the hierarchy once per run.
#[derive(Debug, Default)]
pub struct CgroupNames {
    by_id: FxHashMap<u64, Arc<str>>,
}

impl CgroupNames {
    /// Walk `host`'s cgroup2 hierarchy.
    pub fn load(host: &Host) -> CgroupNames {
        CgroupNames::from_dirs(host.cgroup_dirs())
    }

    pub fn from_dirs(dirs: Vec<(u64, String)>) -> CgroupNames {
        CgroupNames {
            by_id: dirs.into_iter().map(|(id, p)| (id, p.into())).collect(),
        }
    }

    /// The path of `id`; a cgroup removed since (a socket outlives its cgroup when its fd
    /// was passed on) reads `unreachable:ID` in hex, as ss prints it.
    pub fn path(&self, id: u64) -> Arc<str> {
        match self.by_id.get(&id) {
            Some(p) => Arc::clone(p),
            None => format!("unreachable:{id:x}").into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_gone() {
        let c = CgroupNames::from_dirs(vec![(1, "/".into()), (77, "/system.slice".into())]);
        assert_eq!(&*c.path(1), "/");
        assert_eq!(&*c.path(77), "/system.slice");
        assert_eq!(&*c.path(0x8ed7), "unreachable:8ed7");
    }

    #[test]
    fn this_machine_root_is_slash() {
        let dirs = Host::current().cgroup_dirs();
        if let Some((_, p)) = dirs.first() {
            assert_eq!(p, "/");
        }
    }
}
