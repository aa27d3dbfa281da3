//! Files the user names (`-F FILE`, the configuration file, `SOCKEYE_TRACE`): one way to open
//! them that never blocks and never reads without bound.
//!
//! A path may name a FIFO (opening it for reading would wait for a writer forever), a device
//! (`/dev/zero` never ends), a directory or a huge file. Files are opened with
//! `O_NONBLOCK | O_CLOEXEC`, checked with fstat (the file opened, not the path, so a swap after
//! a check cannot fool it), and only regular files are read, up to a size limit. Errors are
//! `std::io::Error`s whose text is one short clause ("it is a FIFO, not a regular file") for
//! the caller to put after "cannot read … PATH: ".

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Largest filter file (`-F`): far more than any filter a person writes.
pub const FILTER_LIMIT: u64 = 4 << 20;
/// Largest configuration file.
pub const CONFIG_LIMIT: u64 = 1 << 20;

/// The whole text of the regular file at `path`, at most `limit` bytes of UTF-8. A missing
/// file is `ErrorKind::NotFound`, as from `std::fs::read_to_string`.
pub fn read_text(path: &Path, limit: u64) -> io::Result<String> {
    let file = open(path, OpenOptions::new().read(true))?;
    let len = file.metadata()?.len();
    if len > limit {
        return Err(too_big(limit));
    }
    read_capped(file, limit)
}

/// [`read_text`] of `path`, where `-` means standard input (read with the same limit; it may
/// be a pipe or a terminal, which is what `-` asks for).
pub fn read_text_or_stdin(path: &Path, limit: u64) -> io::Result<String> {
    if path.as_os_str() == "-" {
        read_capped(io::stdin().lock(), limit)
    } else {
        read_text(path, limit)
    }
}

/// Open `path` for appending, creating a regular file if there is none. An existing FIFO,
/// device, directory or socket is refused without blocking (a FIFO nobody reads is ENXIO).
pub fn open_append(path: &Path) -> io::Result<File> {
    open(path, OpenOptions::new().create(true).append(true))
}

/// Open the regular file at `path` for reading (recordings, read at offsets rather than
/// whole), refusing FIFOs, devices and directories without blocking.
pub fn open_regular(path: &Path) -> io::Result<File> {
    open(path, OpenOptions::new().read(true))
}

fn open(path: &Path, opts: &mut OpenOptions) -> io::Result<File> {
    let file = match opts
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(f) => f,
        // A unix socket cannot be opened (ENXIO), nor a FIFO for writing without a reader:
        // say what the path is rather than "No such device or address".
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            return Err(match std::fs::metadata(path) {
                Ok(m) => not_regular(m.file_type()),
                Err(_) => e,
            });
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(not_regular(meta.file_type()));
    }
    Ok(file)
}

fn read_capped(reader: impl Read, limit: u64) -> io::Result<String> {
    let mut bytes = Vec::new();
    // One byte past the limit tells "exactly at the limit" from "longer" (a file that grew
    // after fstat, or a pipe).
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_big(limit));
    }
    String::from_utf8(bytes)
        .map_err(|_| io::Error::new(ErrorKind::InvalidData, "it is not UTF-8 text"))
}

fn not_regular(t: std::fs::FileType) -> io::Error {
    let what = if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a plain file"
    };
    io::Error::new(
        ErrorKind::InvalidInput,
        format!("it is {what}, not a regular file"),
    )
}

fn too_big(limit: u64) -> io::Error {
    io::Error::new(
        ErrorKind::FileTooLarge,
        format!("it is larger than {}", size(limit)),
    )
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn fifo(dir: &Path) -> std::path::PathBuf {
        let p = dir.join("fifo");
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        p
    }

    /// Runs `f` on a thread and fails the test if it has not returned within two seconds.
    fn quickly<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(2))
            .expect("did not return within 2 s (blocked?)")
    }

    #[test]
    fn a_good_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, "sport = :22\n").unwrap();
        assert_eq!(read_text(&p, 100).unwrap(), "sport = :22\n");
        assert_eq!(read_text_or_stdin(&p, 100).unwrap(), "sport = :22\n");
        // Exactly at the limit is fine.
        assert_eq!(read_text(&p, 12).unwrap().len(), 12);
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let p = fifo(dir.path());
        let start = Instant::now();
        let q = p.clone();
        let e = quickly(move || read_text(&q, 100).unwrap_err());
        assert_eq!(e.to_string(), "it is a FIFO, not a regular file");
        assert!(start.elapsed() < Duration::from_secs(2));
        // Nobody reads it: appending is refused too, and does not wait for a reader.
        let e = quickly(move || open_append(&p).unwrap_err());
        assert_eq!(e.to_string(), "it is a FIFO, not a regular file");
    }

    #[test]
    fn dev_zero_is_refused_before_reading() {
        let e = quickly(|| read_text(Path::new("/dev/zero"), FILTER_LIMIT).unwrap_err());
        assert_eq!(
            e.to_string(),
            "it is a character device, not a regular file"
        );
        let e = quickly(|| open_append(Path::new("/dev/null")).unwrap_err());
        assert_eq!(
            e.to_string(),
            "it is a character device, not a regular file"
        );
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_text(dir.path(), 100).unwrap_err();
        assert_eq!(e.to_string(), "it is a directory, not a regular file");
        assert!(open_append(dir.path()).is_err());
    }

    #[test]
    fn a_socket_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sock");
        let _l = std::os::unix::net::UnixListener::bind(&p).unwrap();
        let e = read_text(&p, 100).unwrap_err();
        assert_eq!(e.to_string(), "it is a socket, not a regular file");
    }

    #[test]
    fn a_file_over_the_limit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        let f = File::create(&p).unwrap();
        // Sparse: claims 8 MiB without writing them.
        f.set_len(8 << 20).unwrap();
        let e = read_text(&p, FILTER_LIMIT).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::FileTooLarge);
        assert_eq!(e.to_string(), "it is larger than 4 MiB");
        let e = read_capped(&b"12345"[..], 4).unwrap_err();
        assert_eq!(e.to_string(), "it is larger than 4 bytes");
    }

    #[test]
    fn missing_and_binary_files() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_text(&dir.path().join("none"), 100).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let p = dir.path().join("bin");
        std::fs::write(&p, b"\xff\xfe").unwrap();
        assert_eq!(
            read_text(&p, 100).unwrap_err().to_string(),
            "it is not UTF-8 text"
        );
    }

    #[test]
    fn append_creates_and_appends_to_regular_files() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("trace");
        open_append(&p).unwrap().write_all(b"a\n").unwrap();
        open_append(&p).unwrap().write_all(b"b\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a\nb\n");
    }
}
