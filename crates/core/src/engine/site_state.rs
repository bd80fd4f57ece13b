//! The configured site across processes: a process that ends cleanly leaves, beside the
//! site's pages, what its index lists, with the database's generation and checksums of the
//! texts and templates the pages were written with. The next process takes that list, and so
//! writes only the pages its changes touch, if the database, the texts and the templates are
//! still the same. Otherwise (a crash after a change, a restored database, edited templates, a
//! site folder emptied by hand) its first write is the whole site, as before.

use super::Engine;
use crate::domain::{ChannelId, DigestId, Lang};
use crate::site::IndexEntry;
use chrono::{DateTime, Utc};
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
    /// Checksums of the texts and the templates the pages were written with.
    texts: u32,
    templates: u32,
    lang: Lang,
    listed: Vec<Listed>,
}

/// One digest as the index lists it ([`IndexEntry`], its zone by name).
#[derive(Serialize, Deserialize)]
struct Listed {
    id: DigestId,
    title: String,
    lang: Lang,
    channel: Option<ChannelId>,
    published: DateTime<Utc>,
    zone: String,
    count: usize,
    summary: String,
}

impl Listed {
    fn of(e: &IndexEntry) -> Listed {
        Listed {
            id: e.id,
            title: e.title.clone(),
            lang: e.lang,
            channel: e.channel,
            published: e.published,
            zone: e.zone.name().to_owned(),
            count: e.count,
            summary: e.summary.clone(),
        }
    }

    fn entry(self) -> Option<IndexEntry> {
        Some(IndexEntry {
            id: self.id,
            title: self.title,
            lang: self.lang,
            channel: self.channel,
            published: self.published,
            zone: self.zone.parse().ok()?,
            count: self.count,
            summary: self.summary,
        })
    }
}

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
    /// it, if the database, the texts and the templates are as they were then.
    pub fn adopt_site(&self) {
        let Some(dir) = &self.settings.site_dir else {
            return;
        };
        let Some(generation) = self.store.generation() else {
            return;
        };
        let left = self
            .disk
            .read(&state_path(dir))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<SiteState>(&bytes).ok())
            .filter(|state| {
                state.generation == generation
                    && (state.texts, state.templates, state.lang) == self.site_inputs()
            });
        let Some(state) = left else {
            return;
        };
        let entries: Option<BTreeMap<DigestId, IndexEntry>> = state
            .listed
            .into_iter()
            .map(|l| l.entry().map(|e| (e.id, e)))
            .collect();
        let mut writer = self
            .site_writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if writer.entries.is_none() && !writer.repair {
            writer.entries = entries;
        }
    }

    /// At a clean end, when no request runs: writes what waits for the site, then leaves its
    /// index for the next process. A site that could not be written leaves none, so the next
    /// process writes it whole.
    pub fn leave_site(&self) {
        let Some(dir) = &self.settings.site_dir else {
            return;
        };
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
            if let Err(e) = self.disk.remove_file(&path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("could not remove {}: {e}", path.display());
                }
            }
            return;
        };
        let (texts, templates, lang) = self.site_inputs();
        let state = SiteState {
            generation,
            texts,
            templates,
            lang,
            listed: entries.values().map(Listed::of).collect(),
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
