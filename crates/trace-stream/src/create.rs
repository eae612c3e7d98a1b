//! How the files of a trace are created: never through a planted symlink, with the trace's
//! mode (private — files `0600`, directories `0700` — unless the caller asks otherwise).
//!
//! A trace directory may be shared (`/tmp/traces`), and anyone who can create files in it
//! could plant `trace.bin -> ~/.bashrc`; opening that name for writing would make the
//! recording user overwrite the link's target. So no file of a trace is ever opened by its
//! final name for writing:
//!
//! - [`create_replacing`] creates the file by its final name with `O_CREAT | O_EXCL` when
//!   nothing is there (the kernel refuses any existing entry, a symlink included, without
//!   following it); when something is, it creates a new file under an unpredictable temporary
//!   name in the same directory, exclusively too, and renames it over the final name: an
//!   existing regular file is replaced, a symlink at that name is replaced too (its target is
//!   never touched). Either way it gets its mode. The events file is streamed into through
//!   the returned handle. (A fresh trace directory thus costs no rename per file: one per
//!   test for the pytest plugin's traces.)
//! - [`write_replacing`] always goes through a temporary sibling, with the whole content
//!   written and synced before the rename (atomic small files: a reader never sees a
//!   half-written one); [`write_replacing_with`] may leave the sync out (a trace that is not
//!   durable), and then also writes a file that does not exist yet by its final name, in one
//!   `write`, exclusively as above.
//! - [`open_append`] opens a file to append to (a log): created with `O_EXCL` when missing,
//!   otherwise opened with `O_NOFOLLOW` and refused when it is a symlink or not a regular file.
//! - [`create_dirs`] creates the missing directories of a path with the directory mode; a
//!   directory that already exists keeps its mode.
//!
//! Modes are applied exactly, whatever the process umask (`fchmod` after creation when the
//! umask took bits away). On platforms without Unix permissions the modes are ignored.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use crate::error::{Result, TraceStreamError};

/// The default mode of trace files: read and write for the owner only.
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// The mode of a directory holding files of `file_mode`: the same bits plus search (`x`)
/// wherever reading is allowed (`0600` → `0700`, `0644` → `0755`, `0640` → `0750`).
pub fn dir_mode(file_mode: u32) -> u32 {
    let file_mode = file_mode & 0o777;
    file_mode | ((file_mode & 0o444) >> 2)
}

/// The temporary sibling of `path`: `.NAME.XXXXXXXXXX.tmp` (random), created exclusively.
fn temporary_sibling(path: &Path, mode: u32) -> io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp").rand_bytes(10);
    permissions(&mut builder, mode);
    let tmp = builder.tempfile_in(dir)?;
    set_mode(tmp.as_file(), mode)?;
    Ok(tmp)
}

/// A new, empty file of `mode` created by the name `path` itself (read and write), or `None`
/// when something, a symlink included, is already there (never followed nor opened).
fn create_exclusive(path: &Path, mode: u32) -> io::Result<Option<File>> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create_new(true);
    permissions_on_open(&mut options, mode);
    match options.open(path) {
        Ok(file) => {
            set_mode(&file, mode)?;
            Ok(Some(file))
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(e),
    }
}

/// Creates a new, empty file of `mode` and moves it to `path` (replacing what is there, a
/// symlink included, without ever following it); returns it open for writing.
pub fn create_replacing(path: &Path, mode: u32) -> Result<File> {
    let io = |e| TraceStreamError::io("cannot create", path, e);
    if let Some(file) = create_exclusive(path, mode).map_err(io)? {
        return Ok(file);
    }
    let tmp = temporary_sibling(path, mode).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))
}

/// Writes `bytes` into a new file of `mode`, syncs it and moves it to `path` (replacing what
/// is there, a symlink included, without ever following it).
pub fn write_replacing(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    write_replacing_with(path, bytes, mode, true)
}

/// [`write_replacing`], syncing the content before the rename only when `sync` (a reader
/// still never sees a half-written file; without the sync a crash of the machine, not of the
/// process, may lose it).
pub fn write_replacing_with(path: &Path, bytes: &[u8], mode: u32, sync: bool) -> Result<()> {
    let io = |e| TraceStreamError::io("cannot write", path, e);
    if !sync {
        if let Some(mut file) = create_exclusive(path, mode).map_err(io)? {
            return file.write_all(bytes).map_err(io);
        }
    }
    let mut tmp = temporary_sibling(path, mode).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    if sync {
        tmp.as_file().sync_data().map_err(io)?;
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Opens `path` for appending: a new file of `mode` when missing, else the existing regular
/// file — never through a symlink (refused, as is anything that is not a regular file).
pub fn open_append(path: &Path, mode: u32) -> Result<File> {
    let io = |e| TraceStreamError::io("cannot open", path, e);
    let mut create = OpenOptions::new();
    create.append(true).create_new(true);
    permissions_on_open(&mut create, mode);
    match create.open(path) {
        Ok(file) => {
            set_mode(&file, mode).map_err(io)?;
            return Ok(file);
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(e)),
    }
    let mut existing = OpenOptions::new();
    existing.append(true);
    no_follow(&mut existing);
    let file = existing.open(path).map_err(|e| {
        if is_symlink_refusal(&e) || fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink()) {
            io(io::Error::other(
                "it is a symbolic link; the recorder never writes through one (remove the link or choose another path)",
            ))
        } else {
            io(e)
        }
    })?;
    if !file.metadata().map_err(io)?.is_file() {
        return Err(io(io::Error::other("it is not a regular file")));
    }
    Ok(file)
}

/// Creates `dir` and its missing parents with the mode [`dir_mode`]`(file_mode)`; directories
/// that exist are left as they are.
pub fn create_dirs(dir: &Path, file_mode: u32) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(p) = at {
        if p.as_os_str().is_empty() || fs::symlink_metadata(p).is_ok() {
            break;
        }
        missing.push(p);
        at = p.parent();
    }
    let mode = dir_mode(file_mode);
    for d in missing.into_iter().rev() {
        match create_dir(d, mode) {
            Ok(()) => set_dir_mode(d, mode)?,
            // Created by someone else meanwhile: not ours to change.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(unix)]
mod platform {
    use std::fs::{self, File, OpenOptions, Permissions};
    use std::io;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    use std::path::Path;

    pub fn permissions(builder: &mut tempfile::Builder<'_, '_>, mode: u32) {
        builder.permissions(Permissions::from_mode(mode));
    }

    pub fn permissions_on_open(options: &mut OpenOptions, mode: u32) {
        options.mode(mode);
    }

    pub fn no_follow(options: &mut OpenOptions) {
        options.custom_flags(libc::O_NOFOLLOW);
    }

    pub fn is_symlink_refusal(err: &io::Error) -> bool {
        err.raw_os_error() == Some(libc::ELOOP)
    }

    /// Sets the exact mode; skipped (one `fstat`, no inode change) when the file was created
    /// with it already, the usual case, since `chmod` costs a journal update.
    pub fn set_mode(file: &File, mode: u32) -> io::Result<()> {
        if file.metadata()?.permissions().mode() & 0o7777 == mode {
            return Ok(());
        }
        file.set_permissions(Permissions::from_mode(mode))
    }

    pub fn create_dir(dir: &Path, mode: u32) -> io::Result<()> {
        fs::DirBuilder::new().mode(mode).create(dir)
    }

    /// As [`set_mode`] for the directory `dir` (just created).
    pub fn set_dir_mode(dir: &Path, mode: u32) -> io::Result<()> {
        if fs::metadata(dir)?.permissions().mode() & 0o7777 == mode {
            return Ok(());
        }
        fs::set_permissions(dir, Permissions::from_mode(mode))
    }
}

#[cfg(not(unix))]
mod platform {
    use std::fs::{self, File, OpenOptions};
    use std::io;
    use std::path::Path;

    pub fn permissions(_: &mut tempfile::Builder<'_, '_>, _: u32) {}
    pub fn permissions_on_open(_: &mut OpenOptions, _: u32) {}
    pub fn no_follow(_: &mut OpenOptions) {}
    pub fn is_symlink_refusal(_: &io::Error) -> bool {
        false
    }
    pub fn set_mode(_: &File, _: u32) -> io::Result<()> {
        Ok(())
    }
    pub fn create_dir(dir: &Path, _: u32) -> io::Result<()> {
        fs::create_dir(dir)
    }
    pub fn set_dir_mode(_: &Path, _: u32) -> io::Result<()> {
        Ok(())
    }
}

use platform::{
    create_dir, is_symlink_refusal, no_follow, permissions, permissions_on_open, set_dir_mode,
    set_mode,
};

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn mode_of(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn directory_modes_add_search_where_reading_is_allowed() {
        assert_eq!(dir_mode(0o600), 0o700);
        assert_eq!(dir_mode(0o644), 0o755);
        assert_eq!(dir_mode(0o640), 0o750);
        assert_eq!(dir_mode(0o660), 0o770);
    }

    #[test]
    fn a_symlink_at_the_name_is_replaced_never_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        let events = tmp.path().join("trace.bin");
        symlink(&victim, &events).unwrap();
        let mut f = create_replacing(&events, 0o600).unwrap();
        f.write_all(b"trace").unwrap();
        let json = tmp.path().join("trace_metadata.json");
        symlink(&victim, &json).unwrap();
        write_replacing(&json, b"{}", 0o640).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert!(!fs::symlink_metadata(&events).unwrap().is_symlink());
        assert_eq!(fs::read(&events).unwrap(), b"trace");
        assert_eq!(fs::read(&json).unwrap(), b"{}");
        assert_eq!(mode_of(&events), 0o600);
        assert_eq!(mode_of(&json), 0o640);
        // no temporary file is left behind
        let mut names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["trace.bin", "trace_metadata.json", "victim"]);
    }

    #[test]
    fn a_fresh_name_is_created_in_place_and_a_dangling_link_is_never_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let nowhere = tmp.path().join("nowhere");
        for sync in [false, true] {
            let events = tmp.path().join(format!("trace-{sync}.bin"));
            let json = tmp.path().join(format!("paths-{sync}.json"));
            // nothing there: created by the name itself, with the mode
            create_replacing(&events, 0o640)
                .unwrap()
                .write_all(b"e")
                .unwrap();
            write_replacing_with(&json, b"[1]", 0o640, sync).unwrap();
            assert_eq!(fs::read(&events).unwrap(), b"e");
            assert_eq!(fs::read(&json).unwrap(), b"[1]");
            assert_eq!((mode_of(&events), mode_of(&json)), (0o640, 0o640));
            // something there: replaced, also when it is a dangling symlink
            write_replacing_with(&json, b"[2]", 0o600, sync).unwrap();
            assert_eq!(fs::read(&json).unwrap(), b"[2]");
            for name in [&events, &json] {
                fs::remove_file(name).unwrap();
                symlink(&nowhere, name).unwrap();
            }
            create_replacing(&events, 0o600)
                .unwrap()
                .write_all(b"f")
                .unwrap();
            write_replacing_with(&json, b"[3]", 0o600, sync).unwrap();
            assert!(!nowhere.exists(), "a dangling link was followed");
            assert!(!fs::symlink_metadata(&events).unwrap().is_symlink());
            assert_eq!(fs::read(&events).unwrap(), b"f");
            assert_eq!(fs::read(&json).unwrap(), b"[3]");
        }
        let names = fs::read_dir(tmp.path()).unwrap().count();
        assert_eq!(names, 4, "a temporary file was left behind");
    }

    #[test]
    fn append_refuses_a_symlink_and_keeps_an_existing_file() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        let link = tmp.path().join("log");
        symlink(&victim, &link).unwrap();
        let err = open_append(&link, 0o600).unwrap_err();
        assert!(err.message().contains("symbolic link"), "{err}");
        let dangling = tmp.path().join("dangling");
        symlink(tmp.path().join("nowhere"), &dangling).unwrap();
        assert!(open_append(&dangling, 0o600).is_err());
        assert!(!tmp.path().join("nowhere").exists());
        assert_eq!(fs::read(&victim).unwrap(), b"precious");

        let log = tmp.path().join("real.log");
        open_append(&log, 0o600).unwrap().write_all(b"a\n").unwrap();
        open_append(&log, 0o600).unwrap().write_all(b"b\n").unwrap();
        assert_eq!(fs::read(&log).unwrap(), b"a\nb\n");
        assert_eq!(mode_of(&log), 0o600);
        assert!(open_append(tmp.path(), 0o600).is_err()); // a directory
    }

    #[test]
    fn created_directories_get_the_mode_existing_ones_keep_theirs() {
        let tmp = tempfile::tempdir().unwrap();
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let deep = tmp.path().join("a/b");
        create_dirs(&deep, 0o600).unwrap();
        assert_eq!(mode_of(&tmp.path().join("a")), 0o700);
        assert_eq!(mode_of(&deep), 0o700);
        assert_eq!(mode_of(tmp.path()), 0o755);
        create_dirs(&deep, 0o644).unwrap(); // exists: unchanged
        assert_eq!(mode_of(&deep), 0o700);
    }
}
