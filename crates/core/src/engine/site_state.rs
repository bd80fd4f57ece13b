//! The configured site across processes: a process that ends cleanly leaves, beside the
//! site's pages, what its index lists, with the database's generation and checksums of the
//! texts and templates the pages were written with. The next process takes that list, and so
//! writes only the pages its changes touch, if the database, the program's version, the texts
//! and the templates are still the same and the index's pages are there. Otherwise (a crash
//! after a change, a restored database, an upgrade, edited templates, a site folder emptied by
//! hand) its first write is the whole site, as before. The file is taken away at start and
//! written again at a clean end only.

use super::Engine;
use crate::domain::{DigestId, Lang};
use crate::site::IndexEntry;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Beside the site's pages; a dot file, so a web server serving the folder does not list it.
pub const STATE_FILE: &str = ".academie-site.json";

/// What a process leaves for the next.
#[derive(Serialize, Deserialize)]
struct SiteState {
    /// The database's generation when the site was last written ([`crate::store::Store::generation`]).
    generation: u64,
    /// The version of the academy that wrote the pages: its own code renders them too.
    version: String,
    /// How the index was made ([`SITE_FORMAT`]); absent before the index's summaries were
    /// cut short, whose entries hold every title.
    #[serde(default)]
    format: u32,
    /// Checksums of the texts and the templates the pages were written with.
    texts: u32,
    templates: u32,
    lang: Lang,
    listed: Vec<IndexEntry>,
}

/// Moves when what the index keeps of each digest changes within a version: a list of an
/// earlier format is not taken, and the next write is the whole site.
const SITE_FORMAT: u32 = 1;

fn state_path(dir: &Path) -> PathBuf {
    dir.join(STATE_FILE)
}

impl Engine {
    /// What the pages written now would be written with, besides the data.
    fn site_inputs(&self) -> (u32, u32, Lang) {
        (
            self.text.fingerprint(),
            self.templates.fingerprint(),
            self.settings.default_lang,
        )
    }

    /// At start, before anything is changed: takes the site's index as the last process left
    /// it, if the database, the program, the texts and the templates are as they were then and
    /// its pages are still there. The file is removed either way (and written again at a clean
    /// end), so a write that reaches the disk without moving the generation (sled flushes on
    /// its own too) is never trusted over by a later start.
    pub fn adopt_site(&self) {
        let Some(dir) = &self.settings.site_dir else {
            return;
        };
        let path = state_path(dir);
        let Ok(bytes) = self.disk.read(&path) else {
            return;
        };
        self.forget_site();
        let Some(generation) = self.store.generation() else {
            return;
        };
        let left = serde_json::from_slice::<SiteState>(&bytes)
            .ok()
            .filter(|state| {
                state.generation == generation
                    && state.version == env!("CARGO_PKG_VERSION")
                    && state.format == SITE_FORMAT
                    && (state.texts, state.templates, state.lang) == self.site_inputs()
            });
        let Some(state) = left else {
            return;
        };
        // A folder emptied by hand keeps this dot file: the index and every digest's pages
        // must still be there.
        let whole = self.disk.is_file(&dir.join("index.html"))
            && state.listed.iter().all(|l| {
                self.disk
                    .is_file(&dir.join(format!("digests/{}.html", l.id)))
                    && self.disk.is_file(&dir.join(format!("digests/{}.md", l.id)))
            });
        if !whole {
            return;
        }
        let entries: BTreeMap<DigestId, IndexEntry> =
            state.listed.into_iter().map(|e| (e.id, e)).collect();
        let mut writer = self
            .site_writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if writer.entries.is_none() && !writer.repair {
            writer.entries = Some(entries);
        }
    }

    /// Removes what a clean end left, for good: the next start writes the whole site.
    pub fn forget_site(&self) {
        let Some(dir) = &self.settings.site_dir else {
            return;
        };
        let path = state_path(dir);
        match self.disk.remove_file(&path) {
            Ok(()) => {
                if let Err(e) = self.disk.sync_dir(dir) {
                    tracing::warn!(
                        "could not make the removal of {} durable: {e}",
                        path.display()
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!("could not remove {}: {e}", path.display()),
        }
    }

    /// At a clean end, when no request runs: writes what waits for the site, then leaves its
    /// index for the next process. A site that could not be written leaves none, so the next
    /// process writes it whole.
    pub fn leave_site(&self) {
        let Some(dir) = &self.settings.site_dir else {
            return;
        };
        self.site_take_deferred();
        if self.site_waiting() {
            self.write_configured_site();
        }
        let path = state_path(dir);
        let writer = self
            .site_writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let _guard = self.lock();
        let pending = !self
            .site_changes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_empty();
        // What is applied is durable first, so the generation is the one the next start reads.
        let generation = self
            .store
            .sync()
            .ok()
            .and_then(|()| self.store.generation());
        let current = writer
            .entries
            .as_ref()
            .filter(|_| !writer.repair && !pending)
            .zip(generation);
        let Some((entries, generation)) = current else {
            drop(writer);
            self.forget_site();
            return;
        };
        let (texts, templates, lang) = self.site_inputs();
        let state = SiteState {
            generation,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            format: SITE_FORMAT,
            texts,
            templates,
            lang,
            listed: entries.values().cloned().collect(),
        };
        let written = serde_json::to_vec(&state)
            .map_err(std::io::Error::from)
            .and_then(|bytes| self.disk.write_public(&path, &bytes));
        if let Err(e) = written {
            tracing::warn!(
                "could not note in {} that the site is up to date; the next start writes it \
                 whole: {e}",
                path.display()
            );
        }
    }
}
