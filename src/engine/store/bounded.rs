//! Reading a store file from outside safely: only a regular file (a FIFO would block for ever,
//! `/dev/zero` would fill memory), at most [`MAX_FILE_BYTES`], and JSON nested at most
//! [`MAX_DEPTH`] levels. The depth bound is what OpenClaw can round-trip: its runtime reads any
//! depth, but `JSON.stringify` on Node 24 overflows past about 4,450 levels (measured), so no
//! store OpenClaw wrote is deeper. serde_json's own limit (128) would call such a store "not
//! valid JSON"; we lift it, check the depth ourselves first, and run with thread stacks large
//! enough for it (see `cli::stack`).

use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use serde::Deserialize as _;
use serde_json::Value;

use super::error::StoreError;

/// The largest store file read (far above 20,000 profiles).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// The deepest JSON nesting read.
pub const MAX_DEPTH: usize = 5_000;

/// Read a regular file whole, within the size bound; `Ok(None)` when it does not exist.
pub(crate) fn read_file(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; the check below then refuses it.
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io("read", path, &e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| StoreError::io("read", path, &e))?;
    if !meta.is_file() {
        return Err(StoreError::NotAFile(path.to_owned()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(path));
    }
    read_bounded(file, path).map(Some)
}

fn read_bounded(file: File, path: &Path) -> Result<Vec<u8>, StoreError> {
    let mut bytes = Vec::new();
    // The file may grow between the size check and the read: read one byte past the bound.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| StoreError::io("read", path, &e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(path));
    }
    Ok(bytes)
}

fn too_large(path: &Path) -> StoreError {
    StoreError::TooLarge {
        path: path.to_owned(),
        limit_mib: MAX_FILE_BYTES / (1024 * 1024),
    }
}

/// Parse JSON from a store, within the depth bound.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Value, StoreError> {
    if depth(bytes) > MAX_DEPTH {
        return Err(StoreError::TooDeep {
            path: path.to_owned(),
            limit: MAX_DEPTH,
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    let v = Value::deserialize(&mut de).map_err(|_| StoreError::NotJson(path.to_owned()))?;
    de.end().map_err(|_| StoreError::NotJson(path.to_owned()))?;
    Ok(v)
}

/// The deepest nesting of `[`/`{` outside strings (a malformed text gives some number; the
/// parser then refuses it).
pub(crate) fn depth(bytes: &[u8]) -> usize {
    let (mut d, mut max, mut in_str, mut esc) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                d += 1;
                max = max.max(d);
            }
            b']' | b'}' => d = d.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(d: usize) -> String {
        format!("{}1{}", "{\"a\":".repeat(d), "}".repeat(d))
    }

    #[test]
    fn depth_counts_outside_strings_only() {
        assert_eq!(depth(br#"{"a":[1,{"b":"[[[{{"}]}"#), 3);
        assert_eq!(depth(br#"{"a":"\"[["}"#), 1);
        assert_eq!(depth(b"1"), 0);
    }

    #[test]
    fn deep_json_up_to_the_bound_parses_and_beyond_is_its_own_error() {
        let p = Path::new("x.json");
        // Deeper than serde_json's default 128, as deep as OpenClaw can write; on a thread with
        // the stack the binary gives its threads.
        let ok = std::thread::Builder::new()
            .stack_size(crate::engine::STACK_BYTES)
            .spawn(move || {
                let v = parse(p, nested(4_500).as_bytes()).is_ok();
                let far = parse(p, nested(MAX_DEPTH + 1).as_bytes());
                (v, far.map(|_| ()).map_err(|e| e.to_string()))
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(ok.0);
        let e = ok.1.unwrap_err();
        assert!(e.contains("5000 levels"), "{e}");
        assert!(matches!(parse(p, b"{} {}"), Err(StoreError::NotJson(_))));
    }

    #[test]
    fn a_fifo_or_device_is_refused_without_blocking_and_big_files_are_bounded() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("auth-profiles.json");
        let c = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(read_file(&fifo), Err(StoreError::NotAFile(_))));
        assert!(matches!(
            read_file(Path::new("/dev/zero")),
            Err(StoreError::NotAFile(_))
        ));
        assert!(matches!(read_file(&d.path().join("none")), Ok(None)));
        let big = d.path().join("big.json");
        let f = File::create(&big).unwrap();
        f.set_len(MAX_FILE_BYTES + 1).unwrap();
        let e = read_file(&big).unwrap_err();
        assert!(matches!(e, StoreError::TooLarge { .. }), "{e}");
        assert!(e.to_string().contains("256 MiB"), "{e}");
    }
}
