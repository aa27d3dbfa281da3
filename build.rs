//! Puts the git revision into `sockeye --version` as SOCKEYE_VERSION ("0.1.0 (git 1a2b3c4)").
//!
//! Never fails the build: without a .git (a release tarball) or without git, the revision is
//! "unknown". A worktree's `.git` is a file pointing elsewhere, so paths come from git itself.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let revision = if manifest_dir.join(".git").exists() {
        watch_git_files(&manifest_dir);
        git(&manifest_dir, &["rev-parse", "--short=10", "HEAD"])
    } else {
        None
    };
    let revision = revision.unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=SOCKEYE_VERSION={version} (git {revision})");
}

/// Rebuild when HEAD moves: HEAD itself, the branch it points to, and packed-refs.
fn watch_git_files(dir: &Path) {
    let mut paths = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(reference) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        paths.push(reference);
    }
    for path in paths {
        if let Some(file) = git(dir, &["rev-parse", "--git-path", &path]) {
            let file = dir.join(file);
            if file.exists() {
                println!("cargo:rerun-if-changed={}", file.display());
            }
        }
    }
}

/// One line of a git command's output, or None for any failure.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let line = text.trim();
    (!line.is_empty()).then(|| line.to_owned())
}
