//! Published digests as files an organisation can put on its intranet or send around: Markdown,
//! a static HTML site with a page per lesson, and an Atom feed, in the digest's language.
//!
//! Many government networks block Discord; these files are how the lessons travel beyond it.
//! Everything here is derived from the store, so the same database always gives the same bytes:
//! built whole, or page by page for what a change touched (the engine decides which), each page
//! the same either way, and a deleted lesson's page removed.

mod meeting;
mod templates;
mod view;

pub use meeting::{meeting_pages, AgendaItem, AgendaReveal, MeetingPage};
pub use templates::{escape_markdown, Templates};
pub use view::{
    build, chat, digest_files, digest_page, figures_for, index_files, lesson_file_name,
    lesson_page, put_index_files, quadrant, write_digest_page, Appearance, DigestOutline, Figures,
    IndexEntry, PublishedDigest, PublishedLesson, SiteFiles, LESSONS_AT_A_TIME, SUMMARY_TITLES,
};

use crate::disk::Disk;
use anyhow::{Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What writing the site changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WriteReport {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// The folders whose pages come and go with the records.
const PAGE_FOLDERS: [&str; 4] = ["digests", "lessons", "figures", "meetings"];

/// Writes the whole site under `dir`, leaving identical files untouched and removing pages that
/// are no longer part of the site (a lesson deleted at its author's request, say).
pub fn write(disk: &dyn Disk, dir: &Path, files: &SiteFiles) -> Result<WriteReport> {
    update(disk, dir, files, &BTreeSet::new(), &PAGE_FOLDERS)
}

/// Writes part of the site under `dir`: `files` (identical ones left untouched), removes the
/// pages named in `remove`, and in each folder of `complete` (which `files` holds whole) every
/// page that is not in `files`.
pub fn update(
    disk: &dyn Disk,
    dir: &Path,
    files: &SiteFiles,
    remove: &BTreeSet<String>,
    complete: &[&str],
) -> Result<WriteReport> {
    let mut pages = Pages::start(disk, dir)?;
    for (name, bytes) in files {
        pages.put(name, bytes)?;
    }
    for name in remove.iter().filter(|n| !files.contains_key(*n)) {
        pages.remove(name)?;
    }
    pages.finish(complete)
}

/// The site written a page at a time as each is made, so a site of any size never has all
/// its pages in memory at once: only their names, for removing those no longer in it.
pub struct Pages<'a> {
    disk: &'a dyn Disk,
    dir: PathBuf,
    report: WriteReport,
    /// The names of the pages put, relative to the site's folder: a path per page of a site
    /// of 100,000 lessons would be twice the memory.
    wanted: BTreeSet<Box<str>>,
}

impl<'a> Pages<'a> {
    /// Makes the site's folder.
    pub fn start(disk: &'a dyn Disk, dir: &Path) -> Result<Pages<'a>> {
        // The site is meant to be published (on an intranet, by a web server running as
        // another user): its folders and pages are readable by everyone, unlike everything
        // else the academy writes. It holds only published digests and lessons.
        // The folders above it are not part of the site (the export folder, which also holds
        // members' data exports): those that are missing are made for the owner only.
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            disk.private_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        disk.public_dir_all(dir)
            .with_context(|| format!("cannot create the site folder {}", dir.display()))?;
        Ok(Pages {
            disk,
            dir: dir.to_owned(),
            report: WriteReport::default(),
            wanted: BTreeSet::new(),
        })
    }

    /// Writes the page `name` (a path under the site's folder), unless it is already there
    /// with these bytes.
    pub fn put(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.dir.join(name);
        let same = self.disk.read(&path).is_ok_and(|old| old == bytes);
        self.wanted.insert(name.into());
        if same {
            self.report.unchanged += 1;
            return Ok(());
        }
        if let Some(parent) = path.parent() {
            self.disk
                .public_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        // Written beside under a fresh name and renamed, so a reader never sees half a page.
        self.disk
            .write_public(&path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        self.report.written += 1;
        Ok(())
    }

    /// Writes the page `name` as `write` makes it, a piece at a time, straight into a new
    /// file that replaces the old page only once whole; the pieces are compared with the old
    /// page as they come, so an unchanged page is left as it is without either being held
    /// whole.
    pub fn put_with(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut dyn std::io::Write) -> Result<()>,
    ) -> Result<()> {
        let path = self.dir.join(name);
        self.wanted.insert(name.into());
        if let Some(parent) = path.parent() {
            self.disk
                .public_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let old = self
            .disk
            .is_file(&path)
            .then(|| self.disk.open(&path).ok())
            .flatten();
        let file = self
            .disk
            .create_public(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let mut page = Compared {
            file,
            old: old.map(std::io::BufReader::new),
            scratch: Vec::new(),
        };
        write(&mut page).with_context(|| format!("cannot write {}", path.display()))?;
        if page.same()? {
            self.report.unchanged += 1;
            return Ok(());
        }
        page.file
            .persist()
            .with_context(|| format!("cannot write {}", path.display()))?;
        self.report.written += 1;
        Ok(())
    }

    /// Every page of `files`.
    pub fn put_all(&mut self, files: &SiteFiles) -> Result<()> {
        files
            .iter()
            .try_for_each(|(name, bytes)| self.put(name, bytes))
    }

    /// Removes the page `name`, if it is there.
    pub fn remove(&mut self, name: &str) -> Result<()> {
        let path = self.dir.join(name);
        match self.disk.remove_file(&path) {
            Ok(()) => self.report.removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("cannot remove {}", path.display()));
            }
        }
        Ok(())
    }

    /// Removes, in each folder of `complete` (whose pages were all put), every page not put;
    /// what was written, left and removed.
    pub fn finish(mut self, complete: &[&str]) -> Result<WriteReport> {
        for sub in complete {
            let folder = self.dir.join(sub);
            if !self.disk.exists(&folder) {
                continue;
            }
            // Read a page at a time, so the folder's listing is never held beside `wanted`.
            let (disk, dir, wanted) = (self.disk, &self.dir, &self.wanted);
            let mut removed = 0;
            disk.each_in(&folder, &mut |path| {
                if disk.is_file(&path)
                    && !page_name(dir, &path).is_some_and(|n| wanted.contains(n.as_str()))
                {
                    disk.remove_file(&path).map_err(|e| {
                        std::io::Error::new(
                            e.kind(),
                            format!("cannot remove {}: {e}", path.display()),
                        )
                    })?;
                    removed += 1;
                }
                Ok(())
            })
            .with_context(|| format!("cannot list {}", folder.display()))?;
            self.report.removed += removed;
        }
        Ok(self.report)
    }

    /// Finishes the whole site: every page folder is complete.
    pub fn finish_whole(self) -> Result<WriteReport> {
        self.finish(&PAGE_FOLDERS)
    }
}

/// The name a page at `path` was put under: its path below `dir`, its parts joined by `/`
/// whatever the system's separator is; `None` if it is not below `dir` or not text.
fn page_name(dir: &Path, path: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = path
        .strip_prefix(dir)
        .ok()?
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect();
    Some(parts?.join("/"))
}

/// A new page being written, compared with the old one as it comes.
struct Compared<'a> {
    file: Box<dyn crate::disk::NewFile + 'a>,
    /// The old page, while it is the same so far.
    old: Option<std::io::BufReader<Box<dyn std::io::Read + Send>>>,
    scratch: Vec<u8>,
}

impl Compared<'_> {
    /// Whether the new page is the old one: the same so far, and the old one ends here too.
    fn same(&mut self) -> Result<bool> {
        let Some(old) = &mut self.old else {
            return Ok(false);
        };
        let mut byte = [0u8; 1];
        Ok(std::io::Read::read(old, &mut byte)? == 0)
    }
}

impl std::io::Write for Compared<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        if let Some(old) = &mut self.old {
            self.scratch.resize(n, 0);
            let same = std::io::Read::read_exact(old, &mut self.scratch).is_ok()
                && self.scratch[..] == buf[..n];
            if !same {
                self.old = None;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
