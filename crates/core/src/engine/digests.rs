//! Digests: a moderator composes a selection of approved lessons (by period, learning order and
//! step), previews it as a draft, and publishes it to the channel. A lesson already published is
//! left out of later digests unless the moderator asks for it again, and the starter library's
//! lessons only when asked for. A published digest is a record: it keeps its lessons as it
//! published them.

use super::{clean_line, encode, limits, Ctx, Engine, Failure, Outcome};
use crate::domain::*;
use crate::reply::{Action, Reply};
use crate::search::{self, SearchQuery};
use crate::site::{self, Appearance, IndexEntry, PublishedDigest, PublishedLesson};
use crate::store::{Batch, Tree};
use crate::text::keys as k;
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What changed in the published site since the configured site was last written: the digests
/// and the lessons whose pages follow.
#[derive(Debug, Default)]
pub(super) struct SiteChanges {
    digests: BTreeSet<DigestId>,
    lessons: BTreeSet<LessonId>,
    /// What a deletion's reply left for the upkeep ([`Engine::site_defer`]); written only
    /// once [`Engine::site_take_deferred`] adds it to the rest.
    later_digests: BTreeSet<DigestId>,
    later_lessons: BTreeSet<LessonId>,
}

impl SiteChanges {
    pub(super) fn is_empty(&self) -> bool {
        self.digests.is_empty()
            && self.lessons.is_empty()
            && self.later_digests.is_empty()
            && self.later_lessons.is_empty()
    }
}

/// The configured site as this process last wrote it.
#[derive(Debug, Default)]
pub(super) struct SiteWriter {
    /// What the index lists, per digest; `None` until this process wrote the whole site (or
    /// took the site as the last process left it, `site_state.rs`), so the first write is
    /// whole.
    pub(super) entries: Option<BTreeMap<DigestId, IndexEntry>>,
    /// A write failed: the next one writes the whole site.
    pub(super) repair: bool,
}

impl Engine {
    fn digest(&self, lang: Lang, id: DigestId) -> Result<Digest, Failure> {
        self.load::<Digest>(Tree::Digests, &id.key())?
            .ok_or_else(|| self.refuse(lang, k::DIGEST_NOT_FOUND, json!({"id": id.to_string()})))
    }

    /// Approved lessons that may match a digest's filter. The index narrows them by learning
    /// order, step and the period's end (a lesson approved by then was created by then; a day
    /// later, as the index keeps days in UTC and the period is in the collaboration's zone),
    /// so only those are read; the caller checks the rest of the filter on each.
    fn approved_for(&self, filter: &DigestFilter) -> Result<Vec<Lesson>, Failure> {
        let query = SearchQuery {
            order: filter.order,
            step: filter.step,
            to: filter.to.and_then(|d| d.succ_opt()),
            ..SearchQuery::default()
        };
        let mut out = Vec::new();
        for id in search::matching(self.store.as_ref(), &query)? {
            let Some(lesson) = self.load::<Lesson>(Tree::Lessons, &LessonId(id).key())? else {
                return Err(Failure::Internal(anyhow::anyhow!(
                    "index names lesson L{id}, which is not stored"
                )));
            };
            out.push(lesson);
        }
        Ok(out)
    }

    /// The digests of a channel already published: what "published before" means for the
    /// next digest there. The same lesson may well appear in the digests of several.
    fn published_here(&self, channel: Option<ChannelId>) -> Result<Vec<DigestId>, Failure> {
        Ok(self
            .load_all::<Digest>(Tree::Digests, &[])?
            .into_iter()
            .filter(|d| d.channel == channel && d.status == DigestStatus::Published)
            .map(|d| d.id)
            .collect())
    }

    /// Approved lessons for a digest of `channel`: its own and the academy's own (the library,
    /// lessons shared outside any collaboration) that match the filter (its period in days of
    /// `zone`), and the lessons from
    /// elsewhere its moderators took in, whatever the filter.
    fn digest_candidates(
        &self,
        channel: Option<ChannelId>,
        filter: &DigestFilter,
        zone: Tz,
    ) -> Result<Vec<Lesson>, Failure> {
        let academy = self.academy()?;
        let here = self.published_here(channel)?;
        let own = |l: &Lesson| {
            l.channel == channel || l.channel.is_none_or(|c| academy.collaboration(c).is_none())
        };
        let mut out: Vec<Lesson> = self
            .approved_for(filter)?
            .into_iter()
            .filter(|l| own(l) && matches_filter(l, filter, &here, zone))
            .collect();
        if let Some(c) = channel {
            let viewer = super::shared::Viewer {
                channel: Some(c),
                server: academy.collaboration(c).and_then(|c| c.server),
            };
            for t in self.taken(c)? {
                if out.iter().any(|l| l.id == t.lesson) {
                    continue;
                }
                if let Some(l) = self.load::<Lesson>(Tree::Lessons, &t.lesson.key())? {
                    if l.is_public() && academy.lesson_reaches(&l, &viewer) {
                        out.push(l);
                    }
                }
            }
        }
        Ok(out)
    }

    pub(super) fn digest_compose(
        &self,
        ctx: &Ctx,
        title: Option<String>,
        filter: DigestFilter,
    ) -> Outcome {
        let ui = ctx.actor.lang;
        self.require_moderator(ctx)?;
        if let (Some(from), Some(to)) = (filter.from, filter.to) {
            if from > to {
                return Err(self.refuse(ui, k::DIGEST_BAD_PERIOD, json!({})));
            }
        }
        let collab = match ctx.channel {
            Some(c) => self.load::<Collaboration>(Tree::Collaborations, &c.key())?,
            None => None,
        };
        let lang = collab.as_ref().map(|c| c.lang).unwrap_or(ui);
        let title = match title.map(|t| clean_line(&t)) {
            Some(t) => {
                self.check_text(ui, k::FIELD_TITLE, &t, limits::TITLE)?;
                t
            }
            None => self.t(
                lang,
                k::DIGEST_DEFAULT_TITLE,
                json!({"date": crate::time::date(lang, self.zone_in(ctx.channel), self.now())}),
            ),
        };
        let _guard = self.lock();
        let lessons = self.digest_candidates(ctx.channel, &filter, self.zone_in(ctx.channel))?;
        if lessons.is_empty() {
            return Err(self.refuse(
                ui,
                k::DIGEST_EMPTY,
                json!({"republish": filter.republish, "library": filter.library}),
            ));
        }
        let mut batch = Batch::new();
        let id = DigestId(self.next_id(&mut batch, "digest")?);
        let digest = Digest {
            id,
            title,
            lang,
            channel: ctx.channel,
            filter,
            lessons: order_for_digest(&lessons),
            status: DigestStatus::Draft,
            composed_by: Some(ctx.actor.id),
            composed_at: self.now(),
            published_at: None,
            as_published: Vec::new(),
        };
        batch.put(Tree::Digests, id.key().to_vec(), encode(&digest)?);
        self.commit(batch)?;
        let fresh: Vec<(Lesson, bool)> = lessons.iter().map(|l| (l.clone(), false)).collect();
        let mut reply = self.digest_reply(&digest, &fresh)?;
        reply.visibility = crate::reply::Visibility::Private;
        reply.body = format!(
            "{}\n\n{}",
            self.t(ui, k::DIGEST_PREVIEW, json!({"id": id.to_string()})),
            reply.body
        );
        if let Some(channel) = ctx.channel {
            let unanswered = self.unanswered_for(channel, &self.published_here(ctx.channel)?)?;
            if let Some((heading, body)) = self.unanswered_section(lang, &unanswered) {
                reply = reply.section(heading, body);
            }
        }
        Ok(reply.choice(
            self.t(ui, k::DIGEST_PUBLISH_BUTTON, json!({"id": id.to_string()})),
            Action::PublishDigest(id),
        ))
    }

    pub(super) fn digest_publish(&self, ctx: &Ctx, id: DigestId) -> Outcome {
        let ui = ctx.actor.lang;
        self.require_moderator(ctx)?;
        let guard = self.lock();
        let mut digest = self.digest(ui, id)?;
        if digest.status == DigestStatus::Published {
            return Err(self.refuse(
                ui,
                k::DIGEST_ALREADY_PUBLISHED,
                json!({"id": id.to_string()}),
            ));
        }
        // Check again: lessons may have been rejected, deleted or published since the draft.
        let here = self.published_here(digest.channel)?;
        let taken: Vec<LessonId> = match digest.channel {
            Some(c) => self.taken(c)?.into_iter().map(|t| t.lesson).collect(),
            None => Vec::new(),
        };
        let mut lessons = Vec::new();
        for lid in &digest.lessons {
            if let Some(l) = self.load::<Lesson>(Tree::Lessons, &lid.key())? {
                let fresh =
                    digest.filter.republish || !l.published_in.iter().any(|d| here.contains(d));
                if l.is_public() && (fresh || taken.contains(&l.id)) {
                    lessons.push(l);
                }
            }
        }
        if lessons.is_empty() {
            return Err(self.refuse(
                ui,
                k::DIGEST_EMPTY,
                json!({"republish": digest.filter.republish, "library": digest.filter.library}),
            ));
        }
        let mut batch = Batch::new();
        for old in &lessons {
            let mut l = old.clone();
            l.published_in.push(id);
            self.put_lesson(&mut batch, Some(old), &l)?;
        }
        digest.lessons = lessons.iter().map(|l| l.id).collect();
        digest.status = DigestStatus::Published;
        digest.published_at = Some(self.now());
        batch.put(Tree::Digests, id.key().to_vec(), encode(&digest)?);
        // A lesson taken in from elsewhere is taken once.
        if let Some(c) = digest.channel {
            for l in lessons.iter().filter(|l| taken.contains(&l.id)) {
                batch.remove(Tree::Taken, [c.key(), l.id.key()].concat());
            }
        }
        // Questions still without an answer are listed, once, in the digest as posted.
        let unanswered = match digest.channel {
            Some(c) => self.unanswered_for(c, &here)?,
            None => Vec::new(),
        };
        for q in &unanswered {
            let mut q = q.clone();
            q.listed_in.push(id);
            batch.put(Tree::Questions, q.id.key().to_vec(), encode(&q)?);
        }
        self.commit(batch)?;
        // Noted while the write lock is held, so whoever takes the list under it finds this
        // publication with it.
        self.site_touched(digest.lessons.iter().copied(), [id]);
        // Decided and saved: the pages, the chat text and the figure are made from what was
        // just committed, without keeping every other member's answer waiting behind them.
        drop(guard);
        self.refresh_site();
        let fresh: Vec<(Lesson, bool)> = lessons.iter().map(|l| (l.clone(), false)).collect();
        let published = self.published(&digest, &fresh);
        let mut reply = self.published_reply(&published)?;
        if let Some((heading, body)) = self.unanswered_section(digest.lang, &unanswered) {
            reply = reply.section(heading, body);
        }
        // The figure travels with the digest: where its lessons sit among the perspectives.
        let figures = site::figures_for(&self.text, &published);
        self.attach_figure(
            &mut reply,
            &figures.quadrant_svg,
            format!(
                "{id}-{}.png",
                self.text.plain(digest.lang, k::PERSPECTIVES_FILE)
            ),
        );
        Ok(reply)
    }

    /// A digest with its lessons as the site and the chat templates see them: attributed in
    /// the digest's language, anonymous lessons without a name. Each lesson comes with
    /// whether it changed since this digest published it.
    fn published(&self, digest: &Digest, lessons: &[(Lesson, bool)]) -> PublishedDigest {
        let by_id: HashMap<LessonId, &(Lesson, bool)> =
            lessons.iter().map(|pair| (pair.0.id, pair)).collect();
        let lessons = digest
            .lessons
            .iter()
            .filter_map(|id| by_id.get(id).copied())
            .map(|(l, edited_since)| self.published_lesson(digest.lang, l, *edited_since))
            .collect();
        PublishedDigest {
            digest: digest.clone(),
            lessons,
            zone: self.zone_in(digest.channel),
        }
    }

    /// One lesson as a digest in `lang` shows it.
    fn published_lesson(&self, lang: Lang, l: &Lesson, edited_since: bool) -> PublishedLesson {
        self.published_owned(lang, l.clone(), edited_since)
    }

    /// [`Engine::published_lesson`] taking the lesson, so it is not held twice.
    fn published_owned(&self, lang: Lang, l: Lesson, edited_since: bool) -> PublishedLesson {
        PublishedLesson {
            // The library is credited as such; an anonymous member is not credited at all.
            by: (l.attribution != Attribution::Anonymous
                || (l.author.is_none() && l.key.is_some()))
            .then(|| self.attribution(lang, &l)),
            applied: self.applications(l.id).map(|a| a.len()).unwrap_or(0),
            notes: self.applied_notes(lang, l.id).unwrap_or_default(),
            edited_since,
            lesson: l,
        }
    }

    /// The lessons of a digest as it shows them. A draft shows the approved lessons as they
    /// are now. A published digest is a record: each lesson as it was published, also when
    /// its author has since edited it (marked as changed since); only a lesson deleted at its
    /// author's request, or rejected by a moderator without a change, is gone from it.
    fn digest_lessons(&self, digest: &Digest) -> Result<Vec<(Lesson, bool)>, Failure> {
        let mut out = Vec::new();
        for id in &digest.lessons {
            let Some(current) = self.load::<Lesson>(Tree::Lessons, &id.key())? else {
                continue;
            };
            if digest.status == DigestStatus::Draft {
                if current.is_public() {
                    out.push((current, false));
                }
                continue;
            }
            out.extend(shown_as(digest, current));
        }
        Ok(out)
    }

    /// The digest as read by everyone, from the `digest.chat` template: lessons grouped by
    /// learning order and step, featured first.
    fn digest_reply(&self, digest: &Digest, lessons: &[(Lesson, bool)]) -> Outcome {
        self.published_reply(&self.published(digest, lessons))
    }

    fn published_reply(&self, published: &PublishedDigest) -> Outcome {
        let body = site::chat(&self.text, &self.templates, published)?;
        Ok(Reply::channel(body)
            .markdown()
            .titled(published.digest.title.clone()))
    }

    /// Every published digest with its lessons as it published them (see
    /// [`Engine::digest_lessons`]).
    pub fn published_digests(&self) -> Result<Vec<PublishedDigest>, Failure> {
        let digests: Vec<Digest> = self.load_all(Tree::Digests, &[])?;
        let mut out = Vec::new();
        for digest in digests
            .into_iter()
            .filter(|d| d.status == DigestStatus::Published)
        {
            let lessons = self.digest_lessons(&digest)?;
            out.push(self.published(&digest, &lessons));
        }
        Ok(out)
    }

    /// Writes the static site of all published digests to `dir`; the same database gives the
    /// same files.
    pub fn export_site(&self, dir: &std::path::Path) -> anyhow::Result<site::WriteReport> {
        Ok(self.whole_site(dir)?.0)
    }

    /// The whole site written to `dir`, with what its index lists. Written a page at a time:
    /// a digest's pages from its lessons, then each lesson's page from the lesson and the
    /// digests that show it, so memory holds the digests' records, one digest's lessons and,
    /// per lesson, where it appeared, never every page or every lesson. The bytes are those
    /// of [`site::build`].
    fn whole_site(
        &self,
        dir: &std::path::Path,
    ) -> anyhow::Result<(site::WriteReport, BTreeMap<DigestId, IndexEntry>)> {
        let mut oldest_first: Vec<Digest> = self
            .load_all::<Digest>(Tree::Digests, &[])
            .map_err(Failure::into_error)?
            .into_iter()
            .filter(|d| d.status == DigestStatus::Published)
            .collect();
        oldest_first.sort_by_key(|d| (d.published_at.unwrap_or(d.composed_at), d.id));
        let mut pages = site::Pages::start(self.disk.as_ref(), dir)?;
        let mut entries = BTreeMap::new();
        // Per lesson: the language of the first digest that shows it, the newest one (whose
        // version its page shows) and every one, oldest first.
        let mut appeared: BTreeMap<LessonId, (Lang, usize, Vec<usize>)> = BTreeMap::new();
        for (at, digest) in oldest_first.iter().enumerate() {
            let outline = self.put_digest_pages(&mut pages, digest)?;
            entries.insert(digest.id, outline.index_entry());
            for id in outline.lessons() {
                let entry = appeared
                    .entry(id)
                    .or_insert_with(|| (digest.lang, at, Vec::new()));
                entry.1 = at;
                entry.2.push(at);
            }
        }
        for (id, (lang, newest, shown_in)) in appeared {
            let newest = &oldest_first[newest];
            let shown = self
                .load::<Lesson>(Tree::Lessons, &id.key())
                .map_err(Failure::into_error)?
                .and_then(|current| shown_as(newest, current));
            // Read again since its digest was written; gone or rejected meanwhile.
            let Some((lesson, edited_since)) = shown else {
                continue;
            };
            let p = self.published_owned(newest.lang, lesson, edited_since);
            let appearances: Vec<Appearance> = shown_in
                .iter()
                .map(|at| Appearance {
                    digest: oldest_first[*at].id,
                    title: oldest_first[*at].title.clone(),
                })
                .collect();
            pages.put(
                &site::lesson_file_name(id),
                &site::lesson_page(&self.text, &self.templates, lang, &p, &appearances)?,
            )?;
        }
        let listed: Vec<&IndexEntry> = entries.values().collect();
        site::put_index_files(
            &mut pages,
            &self.text,
            &self.templates,
            self.settings.default_lang,
            &listed,
        )?;
        let meetings = self.meeting_pages().map_err(Failure::into_error)?;
        pages.put_all(&site::meeting_pages(
            &self.text,
            &self.templates,
            &meetings,
        )?)?;
        Ok((pages.finish_whole()?, entries))
    }

    /// A published digest's two pages (HTML and Markdown) put into `pages`, the bytes of
    /// [`site::digest_files`], written a step's lessons at a time: its lessons are read once to
    /// outline it (ids and counts), then again a few at a time as each page is written, so a
    /// digest of the whole library is never in memory, nor is its page. A lesson removed
    /// between the readings is left out; the change that removed it writes the pages again.
    fn put_digest_pages(
        &self,
        pages: &mut site::Pages<'_>,
        digest: &Digest,
    ) -> anyhow::Result<site::DigestOutline> {
        let mut outline = site::DigestOutline::new(digest.clone(), self.zone_in(digest.channel));
        for id in &digest.lessons {
            if let Some((lesson, _)) = self.shown_in(digest, *id)? {
                outline.add(&lesson);
            }
        }
        let mut read = |ids: &[LessonId]| -> anyhow::Result<Vec<PublishedLesson>> {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some((lesson, edited_since)) = self.shown_in(digest, *id)? {
                    out.push(self.published_owned(digest.lang, lesson, edited_since));
                }
            }
            Ok(out)
        };
        for markdown in [false, true] {
            let name = format!(
                "digests/{}.{}",
                digest.id,
                if markdown { "md" } else { "html" }
            );
            pages.put_with(&name, |out| {
                site::write_digest_page(
                    &self.text,
                    &self.templates,
                    &outline,
                    markdown,
                    out,
                    &mut read,
                )
            })?;
        }
        Ok(outline)
    }

    /// One lesson of a digest as [`Engine::digest_lessons`] shows it, read alone.
    fn shown_in(&self, digest: &Digest, id: LessonId) -> anyhow::Result<Option<(Lesson, bool)>> {
        // Read in the digest's order, not the store's: in a pass (see `Store::get_in_pass`).
        let key = id.key();
        let Some(current) = self
            .store
            .get_in_pass(Tree::Lessons, &key)
            .map_err(|e| Failure::from(e).into_error())?
            .map(|bytes| super::decode::<Lesson>(Tree::Lessons, &key, &bytes))
            .transpose()
            .map_err(Failure::into_error)?
        else {
            return Ok(None);
        };
        if digest.status == DigestStatus::Draft {
            return Ok(current.is_public().then_some((current, false)));
        }
        Ok(shown_as(digest, current))
    }

    /// Hands the changed site to the file sink. Called after the write lock is released.
    pub(super) fn refresh_site(&self) {
        self.files.site_changed(self);
    }

    /// Remembers that the site's pages of these lessons and digests follow a change. Called
    /// with the change, under the write lock or after its commit, so whoever takes the list
    /// under the write lock finds each change in the store.
    pub(super) fn site_touched(
        &self,
        lessons: impl IntoIterator<Item = LessonId>,
        digests: impl IntoIterator<Item = DigestId>,
    ) {
        if self.settings.site_dir.is_none() {
            return;
        }
        let mut changes = self
            .site_changes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        changes.lessons.extend(lessons);
        changes.digests.extend(digests);
    }

    /// What the site waits for now, to tell afterwards which changes a request recorded.
    pub(super) fn site_changes_now(&self) -> SiteChanges {
        let changes = self
            .site_changes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        SiteChanges {
            digests: changes.digests.clone(),
            lessons: changes.lessons.clone(),
            ..SiteChanges::default()
        }
    }

    /// Leaves for the upkeep the pages that changes recorded since `before` touched, except
    /// the pages of the `gone` lessons, which are only removed: a deletion's reply removes the
    /// member's own pages, while a digest that showed their lessons may hold the whole library
    /// and is written again after the reply. Called under the write lock, so every change
    /// since `before` is the caller's. Whether anything was left.
    pub(super) fn site_defer(&self, before: &SiteChanges, gone: &[LessonId]) -> bool {
        let mut changes = self
            .site_changes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let digests: BTreeSet<DigestId> = changes
            .digests
            .difference(&before.digests)
            .copied()
            .collect();
        let lessons: BTreeSet<LessonId> = changes
            .lessons
            .difference(&before.lessons)
            .filter(|l| !gone.contains(l))
            .copied()
            .collect();
        if digests.is_empty() && lessons.is_empty() {
            return false;
        }
        changes.digests.retain(|d| !digests.contains(d));
        changes.lessons.retain(|l| !lessons.contains(l));
        changes.later_digests.extend(digests);
        changes.later_lessons.extend(lessons);
        true
    }

    /// Adds what deletions left for the upkeep to the changes the next write takes; whether
    /// there was any.
    pub(super) fn site_take_deferred(&self) -> bool {
        let mut changes = self
            .site_changes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let digests = std::mem::take(&mut changes.later_digests);
        let lessons = std::mem::take(&mut changes.later_lessons);
        let any = !digests.is_empty() || !lessons.is_empty();
        changes.digests.extend(digests);
        changes.lessons.extend(lessons);
        any
    }

    /// Whether the configured site waits for a write: its last one failed, or changes wait.
    /// Unlike [`Engine::site_waiting`], also while a write runs, which may have taken its
    /// changes before the last ones came.
    pub(super) fn site_needs_write(&self) -> bool {
        self.settings.site_dir.is_some()
            && (self.site_write_failed()
                || !self
                    .site_changes
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .is_empty())
    }

    /// Whether the configured site's last write failed, so pages may show what the store no
    /// longer holds until a write succeeds.
    pub(super) fn site_write_failed(&self) -> bool {
        self.settings.site_dir.is_some()
            && self
                .site_writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .repair
    }

    /// A lesson is written (`new`) or removed (`None`): if a published digest shows it and what
    /// the site shows of it changed, its page and those digests follow.
    pub(super) fn site_lesson_written(&self, old: Option<&Lesson>, new: Option<&Lesson>) {
        let digests: BTreeSet<DigestId> = old
            .iter()
            .chain(new.iter())
            .flat_map(|l| l.published_in.iter().copied())
            .collect();
        let Some(id) = new.or(old).map(|l| l.id) else {
            return;
        };
        if digests.is_empty() || matches!((old, new), (Some(a), Some(b)) if same_on_site(a, b)) {
            return;
        }
        self.site_touched([id], digests);
    }

    /// Brings the configured site up to date: the pages the changes since the last write
    /// touched, the index and the feed, the meetings' pages. The first time in a process, and
    /// after a write failed, the whole site is written instead (what this process knows of
    /// earlier changes may be lost with the previous one). The database is the record; a site
    /// that cannot be written is logged, and written whole at the next change or by `run_due`.
    pub fn write_configured_site(&self) {
        let Some(dir) = &self.settings.site_dir else {
            return;
        };
        let mut writer = self
            .site_writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Taken under the write lock: a change recorded while its batch was being built is in
        // the store by then.
        let known = writer.entries.take().filter(|_| !writer.repair);
        let changes = {
            let _guard = self.lock();
            let mut changes = self
                .site_changes
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // What waits for the upkeep stays, unless the whole site is written now anyway.
            let taken = SiteChanges {
                digests: std::mem::take(&mut changes.digests),
                lessons: std::mem::take(&mut changes.lessons),
                ..SiteChanges::default()
            };
            if known.is_none() {
                changes.later_digests.clear();
                changes.later_lessons.clear();
            }
            taken
        };
        let done = match known {
            Some(entries) => self.update_site(dir, entries, &changes),
            None => self.whole_site(dir).map(|(_, entries)| entries),
        };
        match done {
            Ok(entries) => {
                writer.entries = Some(entries);
                writer.repair = false;
            }
            Err(e) => {
                tracing::error!(
                    "could not update the site in {}; it is written whole next time: {e:#}",
                    dir.display()
                );
                writer.repair = true;
            }
        }
    }

    /// Whether the configured site waits for a write: one failed, or changes came since the
    /// last (an edit of a published lesson, say, which writes no files itself).
    pub(super) fn site_waiting(&self) -> bool {
        if self.settings.site_dir.is_none() {
            return false;
        }
        // Being written just now: that write takes what waits.
        let writer = match self.site_writer.try_lock() {
            Ok(writer) => writer,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return false,
        };
        writer.repair
            || (writer.entries.is_some()
                && !self
                    .site_changes
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .is_empty())
    }

    /// Writes what `changes` touched into the site at `dir`, whose index lists `entries`; the
    /// same bytes as the whole site for those pages. Returns what the index lists now.
    fn update_site(
        &self,
        dir: &std::path::Path,
        mut entries: BTreeMap<DigestId, IndexEntry>,
        changes: &SiteChanges,
    ) -> anyhow::Result<BTreeMap<DigestId, IndexEntry>> {
        // A collaboration that moved to another time zone shows other dates on all its digests.
        let channels: BTreeSet<Option<ChannelId>> = entries.values().map(|e| e.channel).collect();
        for channel in channels {
            let zone = self.zone_in(channel);
            if entries
                .values()
                .any(|e| e.channel == channel && e.zone != zone)
            {
                return Ok(self.whole_site(dir)?.1);
            }
        }
        let mut pages = site::Pages::start(self.disk.as_ref(), dir)?;
        let mut files = site::SiteFiles::new();
        let mut remove = BTreeSet::new();
        let mut lessons = BTreeMap::new();
        let mut touched = changes.digests.clone();
        for id in &changes.lessons {
            let lesson = self
                .load::<Lesson>(Tree::Lessons, &id.key())
                .map_err(Failure::into_error)?;
            if let Some(l) = &lesson {
                touched.extend(l.published_in.iter().copied());
            }
            lessons.insert(*id, lesson);
        }
        let mut digests: BTreeMap<DigestId, Option<Digest>> = BTreeMap::new();
        for id in &touched {
            let digest = self
                .load::<Digest>(Tree::Digests, &id.key())
                .map_err(Failure::into_error)?
                .filter(|d| d.status == DigestStatus::Published);
            match &digest {
                Some(d) => {
                    let outline = self.put_digest_pages(&mut pages, d)?;
                    entries.insert(*id, outline.index_entry());
                }
                None => {
                    remove.insert(format!("digests/{id}.html"));
                    remove.insert(format!("digests/{id}.md"));
                    entries.remove(id);
                }
            }
            digests.insert(*id, digest);
        }
        for (id, lesson) in &lessons {
            let name = site::lesson_file_name(*id);
            match lesson {
                Some(l) => match self.lesson_page(l, &mut digests)? {
                    Some(page) => {
                        files.insert(name, page);
                    }
                    None => {
                        remove.insert(name);
                    }
                },
                None => {
                    remove.insert(name);
                }
            }
        }
        let meetings = self.meeting_pages().map_err(Failure::into_error)?;
        files.extend(site::meeting_pages(&self.text, &self.templates, &meetings)?);
        pages.put_all(&files)?;
        let listed: Vec<&IndexEntry> = entries.values().collect();
        site::put_index_files(
            &mut pages,
            &self.text,
            &self.templates,
            self.settings.default_lang,
            &listed,
        )?;
        for name in remove.iter().filter(|n| !files.contains_key(*n)) {
            pages.remove(name)?;
        }
        pages.finish(&["meetings"])?;
        Ok(entries)
    }

    /// A lesson's page as the whole site has it, from the digests it was published in (read
    /// once into `digests`); `None` when no published digest shows it.
    fn lesson_page(
        &self,
        lesson: &Lesson,
        digests: &mut BTreeMap<DigestId, Option<Digest>>,
    ) -> anyhow::Result<Option<Vec<u8>>> {
        let mut shown: Vec<(&Digest, Lesson, bool)> = Vec::new();
        for id in &lesson.published_in {
            if !digests.contains_key(id) {
                let digest = self
                    .load::<Digest>(Tree::Digests, &id.key())
                    .map_err(Failure::into_error)?
                    .filter(|d| d.status == DigestStatus::Published);
                digests.insert(*id, digest);
            }
        }
        let mut seen = BTreeSet::new();
        for id in &lesson.published_in {
            let Some(Some(d)) = digests.get(id) else {
                continue;
            };
            if !seen.insert(*id) || !d.lessons.contains(&lesson.id) {
                continue;
            }
            if let Some((l, edited_since)) = shown_as(d, lesson.clone()) {
                shown.push((d, l, edited_since));
            }
        }
        shown.sort_by_key(|(d, _, _)| (d.published_at.unwrap_or(d.composed_at), d.id));
        let (Some((first, _, _)), Some((newest, l, edited_since))) = (shown.first(), shown.last())
        else {
            return Ok(None);
        };
        let p = self.published_lesson(newest.lang, l, *edited_since);
        let appeared: Vec<Appearance> = shown
            .iter()
            .map(|(d, _, _)| Appearance {
                digest: d.id,
                title: d.title.clone(),
            })
            .collect();
        Ok(Some(site::lesson_page(
            &self.text,
            &self.templates,
            first.lang,
            &p,
            &appeared,
        )?))
    }

    pub(super) fn digest_show(&self, ctx: &Ctx, id: DigestId) -> Outcome {
        let lang = ctx.actor.lang;
        let digest = self.digest(lang, id)?;
        if digest.status == DigestStatus::Draft && !ctx.actor.role.can_moderate() {
            return Err(self.refuse(lang, k::DIGEST_NOT_FOUND, json!({"id": id.to_string()})));
        }
        let lessons = self.digest_lessons(&digest)?;
        // What only the reader sees follows the reader's language: the digest's headings,
        // dates and attributions; the lessons read as they were written.
        let shown = Digest { lang, ..digest };
        let mut reply = self.digest_reply(&shown, &lessons)?;
        reply.visibility = crate::reply::Visibility::Private;
        Ok(reply)
    }

    pub(super) fn digest_list(&self, ctx: &Ctx) -> Outcome {
        let lang = ctx.actor.lang;
        let moderator = ctx.actor.role.can_moderate();
        let digests: Vec<Digest> = self.load_all(Tree::Digests, &[])?;
        // A deletion's upkeep takes the ids of its lessons out of the digests; until then
        // they are not counted.
        let exists = search::every_lesson(self.store.as_ref())?;
        let visible: Vec<&Digest> = digests
            .iter()
            .rev()
            .filter(|d| moderator || d.status == DigestStatus::Published)
            .collect();
        let lines: Vec<String> = visible
            .iter()
            .map(|d| {
                self.t(
                    lang,
                    k::DIGEST_LIST_ENTRY,
                    json!({
                        "id": d.id.to_string(),
                        "title": d.title,
                        "count": d.lessons.iter().filter(|l| exists.contains(l.0)).count(),
                        "draft": d.status == DigestStatus::Draft,
                        "date": crate::time::date(lang, self.zone_in(d.channel), d.published_at.unwrap_or(d.composed_at)),
                    }),
                )
            })
            .collect();
        let body = if lines.is_empty() {
            self.text.plain(lang, k::DIGEST_LIST_NONE)
        } else {
            lines.join("\n")
        };
        Ok(Reply::private(body).titled(self.text.plain(lang, k::DIGEST_LIST_TITLE)))
    }
}

/// How a published digest shows a lesson it published, given the lesson as it is now: as it
/// published it (changed since), as it is, or not at all (rejected without a change).
fn shown_as(digest: &Digest, current: Lesson) -> Option<(Lesson, bool)> {
    match digest.as_published.iter().find(|l| l.id == current.id) {
        Some(kept) => Some((kept.clone(), true)),
        None if current.status == LessonStatus::Rejected => None,
        None => Some((current, false)),
    }
}

/// Whether two versions of a lesson show the same on the site: who reviewed it, when, and the
/// ids kept for its author are not shown.
fn same_on_site(a: &Lesson, b: &Lesson) -> bool {
    let mut a = a.clone();
    a.author = b.author;
    a.reviewed_by = b.reviewed_by;
    a.reviewed_at = b.reviewed_at;
    a.updated_at = b.updated_at;
    a.rejection_reason.clone_from(&b.rejection_reason);
    a == *b
}

fn in_period(date: NaiveDate, filter: &DigestFilter) -> bool {
    filter.from.is_none_or(|f| date >= f) && filter.to.is_none_or(|t| date <= t)
}

/// Whether a lesson fits a digest's filter; `here` are the digests already published where it
/// is composed, and the period is in days of `zone`.
fn matches_filter(lesson: &Lesson, filter: &DigestFilter, here: &[DigestId], zone: Tz) -> bool {
    let approved_on =
        crate::time::local_date(zone, lesson.reviewed_at.unwrap_or(lesson.created_at));
    lesson.is_public()
        && in_period(approved_on, filter)
        && filter.order.is_none_or(|o| lesson.order == o)
        && filter.step.is_none_or(|s| lesson.steps.contains(&s))
        && (filter.republish || !lesson.published_in.iter().any(|d| here.contains(d)))
        // A digest gathers what members shared; the starter library only when asked for.
        && (filter.library || lesson.key.is_none())
}

/// Featured lessons first, then by learning order, then oldest first.
fn order_for_digest(lessons: &[Lesson]) -> Vec<LessonId> {
    let mut sorted: Vec<&Lesson> = lessons.iter().collect();
    sorted.sort_by_key(|l| (l.order, !l.featured, l.id));
    sorted.into_iter().map(|l| l.id).collect()
}
