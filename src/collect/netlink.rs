//! netlink sock_diag source. (Skeleton: the netlink helper owns this file.)

use crate::collect::Query;
use crate::model::Socket;

#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("cannot open a netlink sock_diag socket: {0}")]
    Open(std::io::Error),
    #[error("the kernel refused the {table} dump: {source}")]
    Refused {
        table: &'static str,
        source: std::io::Error,
    },
    #[error("netlink I/O error: {0}")]
    Io(std::io::Error),
}

impl NetlinkError {
    /// Errors that mean "netlink is not available here" (auto mode falls back to /proc).
    pub fn is_unavailable(&self) -> bool {
        match self {
            NetlinkError::Open(_) => true,
            NetlinkError::Refused { source, .. } => matches!(
                source.raw_os_error(),
                Some(libc::EPERM | libc::EACCES | libc::EPROTONOSUPPORT | libc::ENOENT)
            ),
            NetlinkError::Io(_) => false,
        }
    }
}

pub struct NetlinkSource {}

impl NetlinkSource {
    pub fn open() -> Result<NetlinkSource, NetlinkError> {
        Err(NetlinkError::Open(std::io::Error::from_raw_os_error(
            libc::EPROTONOSUPPORT,
        )))
    }

    /// Append every socket of the tables in `query` to `out`.
    pub fn dump(
        &mut self,
        _query: &Query,
        _out: &mut Vec<Socket>,
        _warnings: &mut Vec<String>,
        _skipped: &mut usize,
    ) -> Result<(), NetlinkError> {
        Ok(())
    }
}
