//! Files only for the academy's user. The database, its lock and socket, backups and a member's
//! own data export hold everyone's answers and names, so they are created readable and writable
//! by their owner alone, and every file that is written beside its final name and then renamed
//! is created exclusively under a fresh name: a symbolic link or a file someone else put there
//! is never followed, truncated or reused.
//!
//! The binary also sets the process's file creation mask to owner-only
//! ([`owner_only_from_now_on`]), because sled creates its files and folders itself, and keeps
//! creating snapshot files while it runs. The published site is the one exception: it is
//! meant to be read by others (see [`write_public`]).

use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Mode of a private file and of a private folder.
pub const PRIVATE_FILE: u32 = 0o600;
pub const PRIVATE_DIR: u32 = 0o700;
/// Mode of a file and a folder of the published site.
pub const PUBLIC_FILE: u32 = 0o644;
pub const PUBLIC_DIR: u32 = 0o755;

/// From now on, everything this process creates is for its owner only, whoever creates it
/// (sled included). The mask only takes permissions away; modes set explicitly afterwards
/// (the site's) are not affected.
#[cfg(unix)]
pub fn owner_only_from_now_on() {
    use rustix::fs::Mode;
    rustix::process::umask(Mode::RWXG | Mode::RWXO);
}

#[cfg(not(unix))]
pub fn owner_only_from_now_on() {}

/// Creates `dir` and any missing parents, each created one for the owner only. Folders that
/// exist already are left as they are: they may be shared on purpose (`/var/lib`).
pub fn private_dir_all(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR);
    builder.create(dir)
}

/// Makes `dir` and everything in it the owner's alone: folders 0700, files 0600. Symbolic links
/// are not followed. For a database made before the academy created its files this way.
#[cfg(unix)]
pub fn restrict(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(dir)?;
    let wanted = if meta.is_dir() {
        PRIVATE_DIR
    } else if meta.is_file() {
        PRIVATE_FILE
    } else {
        return Ok(());
    };
    if meta.permissions().mode() & 0o777 != wanted {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(wanted))?;
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(dir)? {
            restrict(&entry?.path())?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn restrict(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// A new file beside `target`, created exclusively under a name nobody can predict, for the
/// owner only. Removed when dropped, unless it is persisted to `target`.
pub fn temp_beside(target: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(PRIVATE_FILE));
    }
    builder.tempfile_in(dir)
}

/// Writes `bytes` to `target` for the owner only: beside it first, then renamed over it, so a
/// reader sees the old file or the whole new one.
pub fn write_private(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_beside(target, bytes, PRIVATE_FILE)
}

/// Writes `bytes` to `target` readable by everyone, as the published site is meant to be: it
/// holds only published digests and lessons, with the attribution their authors chose.
pub fn write_public(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_beside(target, bytes, PUBLIC_FILE)
}

/// Creates the folder `dir` (and missing parents) readable by everyone, for the published site.
pub fn public_dir_all(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        public_dir_all(parent)?;
    }
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        other => other?,
    }
    set_mode(dir, PUBLIC_DIR)
}

fn write_beside(target: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let mut tmp = temp_beside(target)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    // Set on the open file, so the process's mask does not narrow it.
    #[cfg(unix)]
    if mode != PRIVATE_FILE {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.persist(target).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Opens `path` for writing without following a symbolic link in its last component and without
/// truncating it, creating it for the owner only: for the lock file beside the database.
pub fn open_lock(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(PRIVATE_FILE)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    let file = options.open(path)?;
    // A lock file made before the academy created its files for the owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(PRIVATE_FILE))?;
    }
    Ok(file)
}

/// The machine's disk, as the engine's [`academie_core::disk::Disk`]: private files and folders for the
/// academy's user, written beside their target under a fresh name and renamed into place; the
/// published site readable by everyone.
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalDisk;

impl academie_core::disk::Disk for LocalDisk {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn open(&self, path: &Path) -> std::io::Result<Box<dyn std::io::Read + Send>> {
        Ok(Box::new(File::open(path)?))
    }

    fn list(&self, dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
        std::fs::read_dir(dir)?
            .map(|entry| entry.map(|e| e.path()))
            .collect()
    }

    #[cfg(unix)]
    fn read_at(&self, path: &Path, at: u64, len: usize) -> std::io::Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let mut bytes = vec![0; len];
        File::open(path)?.read_exact_at(&mut bytes, at)?;
        Ok(bytes)
    }

    fn each_in(
        &self,
        dir: &Path,
        each: &mut dyn FnMut(std::path::PathBuf) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            each(entry?.path())?;
        }
        Ok(())
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn remove_file(&self, path: &Path) -> std::io::Result<()> {
        std::fs::remove_file(path)
    }

    fn private_dir_all(&self, dir: &Path) -> std::io::Result<()> {
        private_dir_all(dir)
    }

    fn public_dir_all(&self, dir: &Path) -> std::io::Result<()> {
        public_dir_all(dir)
    }

    fn write_private(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        write_private(path, bytes)
    }

    fn write_public(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        write_public(path, bytes)
    }

    fn create_private(
        &self,
        target: &Path,
    ) -> std::io::Result<Box<dyn academie_core::disk::NewFile>> {
        // Created exclusively under a fresh name, for the owner only: a file or link someone
        // placed beside the target is never used. Dropped (and so removed) unless persisted.
        Ok(Box::new(LocalFile {
            file: std::io::BufWriter::new(temp_beside(target)?),
            target: target.to_owned(),
        }))
    }

    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn create_public<'a>(
        &'a self,
        target: &Path,
    ) -> std::io::Result<Box<dyn academie_core::disk::NewFile + 'a>> {
        // As `write_public`, but a piece at a time: a digest's page may be larger than what
        // the academy should hold in memory.
        Ok(Box::new(PublicFile {
            file: std::io::BufWriter::new(temp_beside(target)?),
            target: target.to_owned(),
        }))
    }
}

/// A page of the site being written beside its target (see [`write_public`]).
struct PublicFile {
    file: std::io::BufWriter<tempfile::NamedTempFile>,
    target: std::path::PathBuf,
}

impl Write for PublicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl academie_core::disk::NewFile for PublicFile {
    fn persist(self: Box<Self>) -> std::io::Result<()> {
        let tmp = self.file.into_inner().map_err(|e| e.into_error())?;
        tmp.as_file().sync_all()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(PUBLIC_FILE))?;
        }
        tmp.persist(&self.target).map_err(|e| e.error)?;
        Ok(())
    }
}

struct LocalFile {
    file: std::io::BufWriter<tempfile::NamedTempFile>,
    target: std::path::PathBuf,
}

impl Write for LocalFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl academie_core::disk::NewFile for LocalFile {
    fn persist(self: Box<Self>) -> std::io::Result<()> {
        let tmp = self.file.into_inner().map_err(|e| e.into_error())?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.target).map_err(|e| e.error)?;
        match self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) => File::open(dir)?.sync_all(),
            None => File::open(".")?.sync_all(),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_symlink_or_a_foreign_file_at_the_old_temporary_name_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("export.json");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("export.json.tmp")).unwrap();
        write_private(&target, b"secret").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert_eq!(std::fs::read(&target).unwrap(), b"secret");
        assert_eq!(mode(&target), PRIVATE_FILE);
        write_public(&target, b"page").unwrap();
        assert_eq!(mode(&target), PUBLIC_FILE);
        // Nothing is left beside it but what was there.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
    }

    #[test]
    fn restrict_tightens_a_folder_and_its_files_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir_all(db.join("blobs")).unwrap();
        std::fs::write(db.join("conf"), b"x").unwrap();
        std::fs::write(db.join("blobs/1"), b"x").unwrap();
        let outside = dir.path().join("outside");
        std::fs::write(&outside, b"x").unwrap();
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(&outside, db.join("link")).unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o755)).unwrap();
        restrict(&db).unwrap();
        assert_eq!(mode(&db), PRIVATE_DIR);
        assert_eq!(mode(&db.join("blobs")), PRIVATE_DIR);
        assert_eq!(mode(&db.join("conf")), PRIVATE_FILE);
        assert_eq!(mode(&db.join("blobs/1")), PRIVATE_FILE);
        assert_eq!(mode(&outside), 0o644, "a link is not followed");
    }

    #[test]
    fn a_lock_file_that_is_a_symlink_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let lock = dir.path().join("db.lock");
        std::os::unix::fs::symlink(&victim, &lock).unwrap();
        assert!(open_lock(&lock).is_err());
        std::fs::remove_file(&lock).unwrap();
        open_lock(&lock).unwrap();
        assert_eq!(mode(&lock), PRIVATE_FILE);
    }
}
