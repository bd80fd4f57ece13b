//! The starter library: lessons kept as Markdown files with TOML front matter under `lessons/`,
//! embedded in the binary and importable from a folder. Importing is keyed by each lesson's
//! `key`, so importing the same files twice changes nothing.
//!
//! An import checks every file before it writes anything, then writes a thousand lessons per
//! batch, each batch its lessons and their index entries at once (each posting list read and
//! written once per batch). A folder is read twice, once to check and once to write, so memory
//! holds one batch of files, never the whole library: time grows with the number of files, and
//! memory does not.
//!
//! File format: a `+++` fenced TOML block (key, order, steps, perspective, tags, source), then a
//! Dutch block and optionally an English block, each `# title`, `## what happened`, `## the lesson`.

use super::{encode, Engine, Failure};
use crate::disk::Disk;
use crate::domain::*;
use crate::search;
use crate::store::{Batch, Tree};
use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

static EMBEDDED: include_dir::Dir<'_> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../lessons");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    key: String,
    order: String,
    #[serde(default)]
    steps: Vec<u8>,
    perspective: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    source: Option<String>,
}

/// One parsed library file.
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryLesson {
    pub key: String,
    pub order: Order,
    pub steps: Vec<Step>,
    pub perspective: Option<Perspective>,
    pub tags: Vec<String>,
    pub source: Option<String>,
    pub nl: LessonText,
    pub en: Option<LessonText>,
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// The library files built into the binary, as (name, content), sorted by name.
pub fn embedded_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = EMBEDDED
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "md"))
        .filter_map(|f| {
            Some((
                f.path().display().to_string(),
                f.contents_utf8()?.to_owned(),
            ))
        })
        .collect();
    files.sort();
    files
}

/// Lessons written per batch of an import.
const IMPORT_BATCH: usize = 1_000;

/// The `.md` files of a folder, as (path, content), sorted by name.
pub fn folder_files(disk: &dyn Disk, dir: &Path) -> Result<Vec<(String, String)>> {
    folder_paths(disk, dir)?
        .into_iter()
        .map(|path| read_file(disk, &path))
        .collect()
}

/// The paths of the `.md` files of a folder, sorted by name.
fn folder_paths(disk: &dyn Disk, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    let entries = disk
        .list(dir)
        .with_context(|| format!("cannot read the folder {}", dir.display()))?;
    for path in entries {
        if path.extension().is_some_and(|e| e == "md") {
            paths.push(path);
        }
    }
    // Sorted as their names print, as the files were always sorted.
    paths.sort_by_cached_key(|p| p.display().to_string());
    if paths.is_empty() {
        bail!("{} holds no lesson files (*.md)", dir.display());
    }
    Ok(paths)
}

/// One file as (path, content).
fn read_file(disk: &dyn Disk, path: &Path) -> Result<(String, String)> {
    let content = disk
        .read_to_string(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok((path.display().to_string(), content))
}

/// One file, read and parsed.
fn read_lesson(disk: &dyn Disk, path: &Path) -> Result<LibraryLesson> {
    let (name, content) = read_file(disk, path)?;
    parse_library_file(&name, &content)
}

/// Refuses two files with the same key, before anything is written.
fn check_unique<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<()> {
    let mut seen = HashSet::new();
    for key in keys {
        if !seen.insert(key) {
            bail!("two library files share the key {key:?}");
        }
    }
    Ok(())
}

/// A language block while parsing: its line, its title, and its sections (line, text).
type Block = (usize, String, Vec<(usize, String)>);

/// Parses one library file; errors name the file and, where it helps, the line.
pub fn parse_library_file(name: &str, content: &str) -> Result<LibraryLesson> {
    let content = content.replace("\r\n", "\n");
    let mut lines = content.lines().enumerate();
    match lines.next() {
        Some((_, "+++")) => {}
        _ => bail!("{name}: line 1 must be `+++`, opening the front matter"),
    }
    let mut front = String::new();
    let mut body_start = None;
    for (i, line) in lines.by_ref() {
        if line == "+++" {
            body_start = Some(i + 1);
            break;
        }
        front.push_str(line);
        front.push('\n');
    }
    let Some(body_start) = body_start else {
        bail!("{name}: the front matter is not closed by a `+++` line")
    };
    let fm: FrontMatter = toml::from_str(&front)
        .map_err(|e| anyhow!("{name}: front matter: {}", e.to_string().trim()))?;
    if fm.key.is_empty()
        || !fm
            .key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        bail!(
            "{name}: key `key` must be a lowercase slug (a-z, 0-9, -), found {:?}",
            fm.key
        );
    }
    let order = Order::parse_user(&fm.order).ok_or_else(|| {
        anyhow!(
            "{name}: key `order` must be first, second or third, found {:?}",
            fm.order
        )
    })?;
    let mut steps = Vec::new();
    for n in &fm.steps {
        let s = Step::from_number(*n)
            .ok_or_else(|| anyhow!("{name}: key `steps` holds {n}; steps are 1 to 5"))?;
        if !steps.contains(&s) {
            steps.push(s);
        }
    }
    let perspective = match &fm.perspective {
        None => None,
        Some(p) => Some(Perspective::parse_user(p).ok_or_else(|| {
            anyhow!("{name}: key `perspective` must be lawful, performing, networking or participating, found {p:?}")
        })?),
    };
    let mut tags = Vec::new();
    for t in &fm.tags {
        let tag = search::normalize_tag(t)
            .ok_or_else(|| anyhow!("{name}: key `tags` holds an empty tag"))?;
        tags.push(tag);
    }

    // Body: blocks of `# title`, `## …` (what happened), `## …` (the lesson).
    let mut blocks: Vec<Block> = Vec::new();
    for (i, line) in content.lines().enumerate().skip(body_start) {
        if let Some(title) = line.strip_prefix("# ") {
            blocks.push((i + 1, title.trim().to_owned(), Vec::new()));
        } else if line.starts_with("## ") {
            let Some(block) = blocks.last_mut() else {
                bail!(
                    "{name}: line {}: a `##` section before any `# title`",
                    i + 1
                )
            };
            // The heading's own words are not kept: section order says what each holds.
            block.2.push((i + 1, String::new()));
        } else if line.starts_with('#') {
            bail!(
                "{name}: line {}: only `#` titles and `##` sections are allowed",
                i + 1
            );
        } else if let Some(section) = blocks.last_mut().and_then(|b| b.2.last_mut()) {
            section.1.push_str(line);
            section.1.push('\n');
        } else if !line.trim().is_empty() {
            bail!("{name}: line {}: text outside a section", i + 1);
        }
    }
    let mut texts = Vec::new();
    for (line, title, sections) in &blocks {
        if title.is_empty() {
            bail!("{name}: line {line}: the title is empty");
        }
        if sections.len() != 2 {
            bail!("{name}: line {line}: `# {title}` needs exactly two `##` sections (what happened, the lesson), found {}", sections.len());
        }
        for (l, body) in sections {
            if body.trim().is_empty() {
                bail!("{name}: line {l}: the section is empty");
            }
        }
        texts.push(LessonText {
            title: title.clone(),
            happened: sections[0].1.trim().to_owned(),
            lesson: sections[1].1.trim().to_owned(),
        });
    }
    let mut texts = texts.into_iter();
    let nl = texts
        .next()
        .ok_or_else(|| anyhow!("{name}: no `# title` with the Dutch text"))?;
    let en = texts.next();
    if texts.next().is_some() {
        bail!("{name}: at most two language blocks (Dutch, then English)");
    }
    Ok(LibraryLesson {
        key: fm.key,
        order,
        steps,
        perspective,
        tags,
        source: fm.source,
        nl,
        en,
    })
}

impl Engine {
    /// Imports library files. Every file is checked first: one bad file, or two with the same
    /// key, stops the import before any write.
    pub fn import_library(&self, files: &[(String, String)]) -> Result<ImportReport> {
        let parsed = files
            .iter()
            .map(|(name, content)| parse_library_file(name, content))
            .collect::<Result<Vec<_>>>()?;
        check_unique(parsed.iter().map(|p| p.key.as_str()))?;
        let mut report = ImportReport::default();
        for chunk in parsed.chunks(IMPORT_BATCH) {
            self.import_batch(chunk, &mut report)?;
        }
        Ok(report)
    }

    /// Imports the `.md` files of a folder; returns how many there were and what changed.
    /// Every file is read and checked first (one bad file, or two with the same key, stops the
    /// import before any write), then read again and written a batch at a time. Each batch
    /// lands whole; an import cut short is finished by running it again.
    pub fn import_library_folder(&self, dir: &Path) -> Result<(usize, ImportReport)> {
        self.import_folder_in_batches(dir, IMPORT_BATCH)
    }

    fn import_folder_in_batches(
        &self,
        dir: &Path,
        per_batch: usize,
    ) -> Result<(usize, ImportReport)> {
        let disk = self.disk.as_ref();
        let paths = folder_paths(disk, dir)?;
        let mut keys = Vec::with_capacity(paths.len());
        for path in &paths {
            keys.push(read_lesson(disk, path)?.key);
        }
        check_unique(keys.iter().map(String::as_str))?;
        drop(keys);
        let mut report = ImportReport::default();
        for chunk in paths.chunks(per_batch.max(1)) {
            let parsed = chunk
                .iter()
                .map(|path| read_lesson(disk, path))
                .collect::<Result<Vec<_>>>()?;
            self.import_batch(&parsed, &mut report)?;
        }
        Ok((paths.len(), report))
    }

    /// Writes one batch of parsed lessons: new keys become lessons, changed ones are updated,
    /// the rest left alone; the index follows in the same commit.
    fn import_batch(&self, parsed: &[LibraryLesson], report: &mut ImportReport) -> Result<()> {
        let _guard = self.lock();
        let mut batch = Batch::new();
        let mut index = search::IndexDelta::default();
        let mut work = Vec::new();
        for p in parsed {
            let existing = match self
                .store
                .get(Tree::LessonIndex, &search::library_key(&p.key))?
            {
                Some(id) => {
                    let id = LessonId::from_key(&id)
                        .ok_or_else(|| anyhow!("library index for {} is damaged", p.key))?;
                    self.load::<Lesson>(Tree::Lessons, &id.key())
                        .map_err(Failure::into_error)?
                }
                None => None,
            };
            work.push((p, existing));
        }
        let new_count = work.iter().filter(|(_, e)| e.is_none()).count() as u64;
        let mut new_ids = self
            .reserve_ids(&mut batch, "lesson", new_count)
            .map_err(Failure::into_error)?;
        let mut changed = false;
        for (p, existing) in work {
            let now = self.now();
            let fresh = |id| Lesson {
                id,
                key: Some(p.key.clone()),
                channel: None,
                author: None,
                author_name: None,
                author_layer: None,
                attribution: Attribution::Anonymous,
                lang: Lang::Nl,
                text: p.nl.clone(),
                translation: p.en.clone(),
                order: p.order,
                steps: p.steps.clone(),
                perspective: p.perspective,
                tags: p.tags.clone(),
                source: p.source.clone(),
                status: LessonStatus::Approved,
                rejection_reason: None,
                featured: false,
                created_at: now,
                updated_at: now,
                reviewed_at: Some(now),
                reviewed_by: None,
                published_in: Vec::new(),
            };
            let (old, lesson) = match existing {
                None => {
                    let id = new_ids
                        .next()
                        .ok_or_else(|| anyhow!("ran out of reserved lesson ids"))?;
                    report.added += 1;
                    (None, fresh(LessonId(id)))
                }
                Some(old) => {
                    let mut updated = fresh(old.id);
                    // Keep what curation and time added.
                    updated.status = old.status;
                    updated.featured = old.featured;
                    updated.published_in = old.published_in.clone();
                    updated.created_at = old.created_at;
                    updated.reviewed_at = old.reviewed_at;
                    updated.reviewed_by = old.reviewed_by;
                    updated.rejection_reason = old.rejection_reason.clone();
                    updated.updated_at = old.updated_at;
                    if updated == old {
                        report.unchanged += 1;
                        continue;
                    }
                    updated.updated_at = now;
                    report.updated += 1;
                    (Some(old), updated)
                }
            };
            let before = old.as_ref().map(search::index_entries).unwrap_or_default();
            index.change(&before, &search::index_entries(&lesson));
            batch.put(
                Tree::LessonIndex,
                search::library_key(&p.key),
                lesson.id.key().to_vec(),
            );
            batch.put(
                Tree::Lessons,
                lesson.id.key().to_vec(),
                encode(&lesson).map_err(Failure::into_error)?,
            );
            changed = true;
        }
        if changed {
            index.write(self.store.as_ref(), &mut batch)?;
            self.commit(batch).map_err(Failure::into_error)?;
        }
        Ok(())
    }

    /// Imports the embedded starter library when the database holds no lessons yet.
    pub fn seed_library_if_empty(&self) -> Result<Option<ImportReport>> {
        // One entry is enough to know; a scan would read every lesson at each start.
        if self.store.last_with_prefix(Tree::Lessons, &[])?.is_some() {
            return Ok(None);
        }
        self.import_library(&embedded_files()).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson_file(key: &str, title: &str) -> String {
        format!(
            "+++\nkey = \"{key}\"\norder = \"second\"\nsteps = [1]\ntags = [\"rol\"]\n+++\n\
             # {title}\n\n## Wat er gebeurde\n\nWe begonnen zonder beeld.\n\n\
             ## De les\n\nBegin met het vraagstuk.\n"
        )
    }

    fn engine() -> Engine {
        Engine::new(
            std::sync::Arc::new(crate::store::MemoryStore::default()),
            std::sync::Arc::new(crate::text::Catalog::embedded().unwrap()),
            std::sync::Arc::new(super::super::SystemClock),
            super::super::Settings::default(),
        )
    }

    fn found(e: &Engine, word: &str) -> usize {
        let query = search::SearchQuery {
            text: Some(word.into()),
            ..Default::default()
        };
        search::find(e.store.as_ref(), &query).unwrap().len()
    }

    #[test]
    fn a_folder_imports_in_batches_whole_and_twice_changes_nothing() {
        let dir = Path::new("/lessons");
        let e = engine();
        for i in 0..5 {
            e.disk
                .write_private(
                    &dir.join(format!("{i}.md")),
                    lesson_file(&format!("les-{i}"), &format!("Les nummer{i}")).as_bytes(),
                )
                .unwrap();
        }
        let (count, report) = e.import_folder_in_batches(dir, 2).unwrap();
        assert_eq!((count, report.added, report.updated), (5, 5, 0));
        // Every lesson and its index entries landed, over three batches.
        for i in 0..5 {
            assert_eq!(found(&e, &format!("nummer{i}")), 1, "lesson {i} is found");
        }
        assert_eq!(found(&e, "vraagstuk"), 5);
        let (_, again) = e.import_folder_in_batches(dir, 2).unwrap();
        assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 5));
        // A changed file updates its lesson, and its words move in the index.
        e.disk
            .write_private(
                &dir.join("3.md"),
                lesson_file("les-3", "Les anders").as_bytes(),
            )
            .unwrap();
        let (_, changed) = e.import_folder_in_batches(dir, 2).unwrap();
        assert_eq!(
            (changed.added, changed.updated, changed.unchanged),
            (0, 1, 4)
        );
        assert_eq!(found(&e, "nummer3"), 0);
        assert_eq!(found(&e, "anders"), 1);
        assert_eq!(found(&e, "vraagstuk"), 5);
    }

    #[test]
    fn a_bad_or_repeated_file_in_a_later_batch_stops_the_import_before_any_write() {
        for last in [
            "+++\nkey = \"kapot\"\norder = \"vierde\"\n+++\n".to_string(),
            lesson_file("les-0", "Nogmaals"),
        ] {
            let dir = Path::new("/lessons");
            let e = engine();
            for i in 0..4 {
                e.disk
                    .write_private(
                        &dir.join(format!("{i}.md")),
                        lesson_file(&format!("les-{i}"), "Goed").as_bytes(),
                    )
                    .unwrap();
            }
            e.disk
                .write_private(&dir.join("9.md"), last.as_bytes())
                .unwrap();
            let err = e.import_folder_in_batches(dir, 2).unwrap_err();
            assert!(
                err.to_string().contains("9.md") || err.to_string().contains("les-0"),
                "{err}"
            );
            assert!(e.store.is_empty().unwrap(), "nothing was written");
        }
    }

    #[test]
    fn every_embedded_library_file_parses() {
        let files = embedded_files();
        assert!(files.len() >= 15, "{} files", files.len());
        let mut per_order = std::collections::HashMap::new();
        for (name, content) in &files {
            let l = parse_library_file(name, content).unwrap();
            assert!(l.en.is_some(), "{name} has no English text");
            *per_order.entry(l.order).or_insert(0) += 1;
        }
        for o in Order::ALL {
            assert!(per_order.get(o).copied().unwrap_or(0) >= 3, "{o:?}");
        }
    }

    #[test]
    fn malformed_files_name_the_file_and_line() {
        let cases = [
            ("no front matter", "# t\n", "line 1"),
            ("+++\nkey = \"a\"\norder = \"first\"\n", "", "not closed"),
            (
                "+++\nkey = \"a\"\norder = \"fourth\"\n+++\n# t\n## a\nx\n## b\ny\n",
                "",
                "order",
            ),
            (
                "+++\nkey = \"a\"\norder = \"first\"\nsteps = [6]\n+++\n# t\n## a\nx\n## b\ny\n",
                "",
                "steps",
            ),
            (
                "+++\nkey = \"a\"\norder = \"first\"\n+++\n# t\n## a\nx\n",
                "",
                "exactly two",
            ),
            (
                "+++\nkey = \"a\"\norder = \"first\"\ncolour = 1\n+++\n# t\n## a\nx\n## b\ny\n",
                "",
                "colour",
            ),
            (
                "+++\nkey = \"a\"\norder = \"first\"\n+++\n# t\n## a\nx\n### deep\n## b\ny\n",
                "",
                "line 8",
            ),
        ];
        for (content, _, want) in cases {
            let err = parse_library_file("les.md", content)
                .unwrap_err()
                .to_string();
            assert!(err.contains("les.md"), "{err}");
            assert!(err.contains(want), "want {want:?} in {err}");
        }
    }
}
