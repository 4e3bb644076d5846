//! A write that the machine refuses (issue 13, fault tests): a full disk (a size-limited file,
//! `RLIMIT_FSIZE`) and a read-only state directory. Each ends in one clear sentence, a non-zero
//! exit, the store byte-for-byte as it was, no lock left and no temp file of ours left behind.

use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};

use super::*;
use crate::support::fixtures::gateway_files;

/// No lock and no temp file of ours anywhere under `dir`.
pub(super) fn no_leftovers(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                !name.ends_with(".tmp") && !name.ends_with(".lock"),
                "left behind: {}",
                p.display()
            );
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
}

type Cells = (Option<Value>, Option<Value>, Option<Value>);

/// The store as it was: a json store byte for byte; a database's auth cells (SQLite may touch
/// its header on a failed write's rollback, which is not a change of the store).
fn same_store(
    fx: &Fixture,
    format: Format,
    before: &std::collections::BTreeMap<PathBuf, Vec<u8>>,
    cells: &Option<Cells>,
) {
    if let Some(cells) = cells {
        assert!(
            &fx.state_db_cells() == cells,
            "{format:?}: the auth cells changed"
        );
    } else {
        assert!(
            &gateway_files(&fx.state_dir()) == before,
            "{format:?}: the store changed"
        );
    }
}

fn one_sentence(run: &Run) {
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("codex-profiler: "))
        .collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

fn retire_with(fx: &Fixture, setup: impl Fn(&mut std::process::Command)) -> Run {
    let mut c = cli::command(fx.home());
    c.args([
        "--state-dir",
        &fx.state_arg(),
        "retire",
        "alice@example.com",
    ]);
    setup(&mut c);
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_full_disk_during_a_write_is_a_clear_error_and_nothing_is_torn() {
    for format in [Format::StateDb, Format::JsonSingle] {
        let fx = example_store(format);
        let before = gateway_files(&fx.state_dir());
        let cells = matches!(format, Format::StateDb).then(|| fx.state_db_cells());
        let run = retire_with(&fx, |c| unsafe {
            c.pre_exec(|| {
                // Writes past 2 KiB fail with EFBIG, as on a full disk; the signal that
                // would kill the writer is ignored, as a disk-full ENOSPC kills nothing.
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let lim = libc::rlimit {
                    rlim_cur: 2048,
                    rlim_max: 2048,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        });
        assert_eq!(run.code, 1, "{format:?}: {}\n{}", run.stdout, run.stderr);
        one_sentence(&run);
        same_store(&fx, format, &before, &cells);
        no_leftovers(&fx.state_dir());
        // With room again, the same change goes through.
        let run = cli(&fx, &["retire", "alice@example.com"]);
        run.expect_code(0);
    }
}

fn chown_tree(dir: &Path, uid: u32) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        std::os::unix::fs::lchown(&d, Some(uid), Some(uid)).unwrap();
        if d.is_dir() {
            for e in std::fs::read_dir(&d).unwrap() {
                stack.push(e.unwrap().path());
            }
        }
    }
}

fn set_tree_writable(dir: &Path, writable: bool) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mode = std::fs::metadata(&d).unwrap().permissions().mode();
        let mode = if writable {
            mode | 0o200
        } else {
            mode & !0o222
        };
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
        if d.is_dir() {
            for e in std::fs::read_dir(&d).unwrap() {
                stack.push(e.unwrap().path());
            }
        }
    }
}

#[test]
fn a_read_only_state_dir_is_a_clear_error_and_nothing_changes() {
    // Root ignores file modes: run the writer as an unprivileged user that owns the fixture.
    let as_root = unsafe { libc::geteuid() } == 0;
    const NOBODY: u32 = 65534;
    for format in [Format::StateDb, Format::JsonSingle] {
        let fx = example_store(format);
        if as_root {
            chown_tree(fx.home(), NOBODY);
        }
        let cells = matches!(format, Format::StateDb).then(|| fx.state_db_cells());
        set_tree_writable(&fx.state_dir(), false);
        let before = gateway_files(&fx.state_dir());
        let run = retire_with(&fx, |c| {
            if as_root {
                c.uid(NOBODY).gid(NOBODY);
            }
        });
        assert_ne!(run.code, 0, "{format:?}: {}\n{}", run.stdout, run.stderr);
        one_sentence(&run);
        set_tree_writable(&fx.state_dir(), true);
        same_store(&fx, format, &before, &cells);
        no_leftovers(&fx.state_dir());
    }
}
