//! Fault injection for tests of code built on the local bus (feature
//! `test-util`): damaging a journal file where a known value lies, and a
//! small disk that fills up.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Every position where `needle` appears in `file`: the live copy of a value
/// and any stale copies the storage library left in freed pages.
///
/// # Panics
/// When the file cannot be read or does not hold `needle`.
pub fn positions(file: &Path, needle: &[u8]) -> Vec<usize> {
    let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let found: Vec<usize> = bytes
        .windows(needle.len())
        .enumerate()
        .filter(|(_, window)| *window == needle)
        .map(|(at, _)| at)
        .collect();
    assert!(
        !found.is_empty(),
        "{} not found in {}",
        String::from_utf8_lossy(needle),
        file.display()
    );
    found
}

/// Overwrites `len` bytes at each of `starts` with bytes that are neither
/// JSON nor UTF-8 nor a page type the storage library knows, and syncs.
///
/// # Panics
/// When the file cannot be written.
pub fn overwrite(file: &Path, starts: &[usize], len: usize) {
    let junk: Vec<u8> = (0..len as u32)
        .map(|i| ((i.wrapping_add(7)).wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80)
        .collect();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(file)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", file.display()));
    for &start in starts {
        f.seek(SeekFrom::Start(start as u64)).expect("seek");
        f.write_all(&junk).expect("write junk");
    }
    f.sync_all().expect("sync");
}

/// Damages the stored value holding `needle`: 16 bytes from the 5th byte of
/// every copy, leaving the page's structure intact (reads then find a record
/// that is not the JSON the bus wrote; the integrity check, a bad checksum).
pub fn damage_value(file: &Path, needle: &[u8]) {
    let starts: Vec<usize> = positions(file, needle).into_iter().map(|at| at + 4).collect();
    overwrite(file, &starts, 16);
}

/// Overwrites every whole 4 KiB page that holds `needle`.
pub fn damage_page(file: &Path, needle: &[u8]) {
    let mut pages: Vec<usize> = positions(file, needle).into_iter().map(|at| at / 4096 * 4096).collect();
    pages.dedup();
    overwrite(file, &pages, 4096);
}

/// A tmpfs of a given size mounted on a fresh temporary directory (needs
/// root), unmounted on drop: a disk a test can fill up and free again.
#[derive(Debug)]
pub struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts a tmpfs of `size` (e.g. `"4m"`); `Err` says why it could not
    /// (not root, no permission to mount), for the test to print as its
    /// reason to skip.
    pub fn mount(size: &str) -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("cannot create a directory: {e}"))?;
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(SmallDisk { dir })
    }

    /// The mount point.
    pub fn path(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// Writes a file of `bytes` zeros at `name` under the mount point, taking
    /// that much of the disk until it is removed.
    pub fn fill(&self, name: &str, bytes: usize) -> PathBuf {
        let file = self.dir.path().join(name);
        std::fs::write(&file, vec![0u8; bytes]).unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
        file
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.dir.path()).status();
    }
}
