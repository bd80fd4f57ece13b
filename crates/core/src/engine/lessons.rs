//! Sharing, editing, reading and finding lessons.
//!
//! The anonymity rule: a lesson's author id is stored (so the author can edit, export and delete
//! it) but no reply, search result or digest names an author unless the lesson is named; a
//! lesson attributed to a layer shows only the layer ("someone from a municipality").

use super::{
    clean_line, clean_text, encode, limits, Ctx, Engine, Failure, LessonChanges, LessonDraft,
    Outcome,
};
use crate::domain::*;
use crate::reply::{Action, Reply};
use crate::search::{self, SearchQuery};
use crate::store::{Batch, Tree};
use crate::text::keys as k;
use serde_json::json;

/// A lesson's cleaned and checked fields.
struct Checked {
    text: LessonText,
    steps: Vec<Step>,
    tags: Vec<String>,
}

impl Engine {
    /// Writes a lesson and the difference in its index entries into `batch`.
    pub(super) fn put_lesson(
        &self,
        batch: &mut Batch,
        old: Option<&Lesson>,
        new: &Lesson,
    ) -> Result<(), Failure> {
        if let Some(old) = old.filter(|o| !o.published_in.is_empty()) {
            if published_form(old) != published_form(new) {
                self.keep_published_version(batch, old)?;
            }
        }
        let before = old.map(search::index_entries).unwrap_or_default();
        let after = search::index_entries(new);
        search::write_index(self.store.as_ref(), batch, &before, &after)?;
        if let Some(key) = &new.key {
            batch.put(
                Tree::LessonIndex,
                search::library_key(key),
                new.id.key().to_vec(),
            );
        }
        batch.put(Tree::Lessons, new.id.key().to_vec(), encode(new)?);
        self.site_lesson_written(old, Some(new));
        Ok(())
    }

    /// A published lesson is about to change: every digest that published it keeps the version
    /// it published, unless it kept one already (that one is older, so it is what was
    /// published). Reads the batch's own pending writes, so several lessons changed in one
    /// batch all land in the digest.
    fn keep_published_version(&self, batch: &mut Batch, old: &Lesson) -> Result<(), Failure> {
        for id in &old.published_in {
            let key = id.key();
            let bytes = match batch.pending(Tree::Digests, &key) {
                Some(Some(pending)) => Some(pending.to_vec()),
                Some(None) => None,
                None => self.store.get(Tree::Digests, &key)?,
            };
            let Some(bytes) = bytes else {
                continue;
            };
            let mut digest: Digest = super::decode(Tree::Digests, &key, &bytes)?;
            if digest.as_published.iter().any(|l| l.id == old.id) {
                continue;
            }
            let mut kept = old.clone();
            // The record keeps the words and the credit, not who wrote or reviewed it.
            kept.author = None;
            kept.reviewed_by = None;
            digest.as_published.push(kept);
            batch.put(Tree::Digests, key.to_vec(), encode(&digest)?);
        }
        Ok(())
    }

    /// Removes a lesson and all its index entries.
    pub(super) fn remove_lesson(&self, batch: &mut Batch, lesson: &Lesson) -> Result<(), Failure> {
        self.remove_lesson_from(batch, lesson, false)
    }

    /// Removes a lesson, leaving its id in the index's lists until the upkeep takes it out
    /// ([`search::remove_later`]); every read leaves it out at once.
    pub(super) fn remove_lesson_later(
        &self,
        batch: &mut Batch,
        lesson: &Lesson,
    ) -> Result<(), Failure> {
        self.remove_lesson_from(batch, lesson, true)
    }

    fn remove_lesson_from(
        &self,
        batch: &mut Batch,
        lesson: &Lesson,
        lists_later: bool,
    ) -> Result<(), Failure> {
        // Who applied it goes with it; a lookup failure leaves those for the next delete.
        if let Ok(applications) = self.store.scan_prefix(Tree::Applications, &lesson.id.key()) {
            for (key, _) in applications {
                batch.remove(Tree::Applications, key);
            }
        }
        if lists_later {
            search::remove_later(self.store.as_ref(), batch, lesson)?;
        } else {
            search::write_index(
                self.store.as_ref(),
                batch,
                &search::index_entries(lesson),
                &Default::default(),
            )?;
        }
        if let Some(key) = &lesson.key {
            batch.remove(Tree::LessonIndex, search::library_key(key));
        }
        batch.remove(Tree::Lessons, lesson.id.key().to_vec());
        self.site_lesson_written(Some(lesson), None);
        Ok(())
    }

    fn check_fields(
        &self,
        lang: Lang,
        title: &str,
        happened: &str,
        lesson: &str,
        steps: &[Step],
        tags: &[String],
    ) -> Result<Checked, Failure> {
        let title = clean_line(title);
        let happened = clean_text(happened);
        let lesson = clean_text(lesson);
        self.check_text(lang, k::FIELD_TITLE, &title, limits::TITLE)?;
        self.check_text(lang, k::FIELD_HAPPENED, &happened, limits::LESSON_FIELD)?;
        self.check_text(lang, k::FIELD_LESSON, &lesson, limits::LESSON_FIELD)?;
        let mut steps = steps.to_vec();
        steps.sort();
        steps.dedup();
        let mut clean_tags = Vec::new();
        for raw in tags {
            if raw.trim().is_empty() {
                continue;
            }
            let Some(tag) = search::normalize_tag(raw) else {
                return Err(self.refuse(lang, k::LESSON_BAD_TAG, json!({"tag": clean_line(raw)})));
            };
            if tag.chars().count() > limits::TAG {
                return Err(self.refuse(lang, k::LESSON_BAD_TAG, json!({"tag": clean_line(raw)})));
            }
            if !clean_tags.contains(&tag) {
                clean_tags.push(tag);
            }
        }
        if clean_tags.len() > limits::TAGS {
            return Err(self.refuse(lang, k::LESSON_TOO_MANY_TAGS, json!({"max": limits::TAGS})));
        }
        Ok(Checked {
            text: LessonText {
                title,
                happened,
                lesson,
            },
            steps,
            tags: clean_tags,
        })
    }

    pub(super) fn check_attribution(
        &self,
        ctx: &Ctx,
        attribution: Attribution,
    ) -> Result<Option<Layer>, Failure> {
        let layer = self.member(ctx.actor.id)?.and_then(|m| m.layer);
        if attribution == Attribution::Layer && layer.is_none() {
            return Err(self.refuse(ctx.actor.lang, k::LESSON_NEEDS_LAYER, json!({})));
        }
        Ok(layer)
    }

    pub(super) fn lesson_share(&self, ctx: &Ctx, draft: LessonDraft) -> Outcome {
        let lang = ctx.actor.lang;
        let checked = self.check_fields(
            lang,
            &draft.title,
            &draft.happened,
            &draft.lesson,
            &draft.steps,
            &draft.tags,
        )?;
        let layer = self.check_attribution(ctx, draft.attribution)?;
        let guard = self.lock();
        let mut batch = Batch::new();
        let id = LessonId(self.next_id(&mut batch, "lesson")?);
        let now = self.now();
        let lesson = Lesson {
            id,
            key: None,
            channel: ctx.channel,
            author: Some(ctx.actor.id),
            author_name: Some(
                clean_line(&ctx.actor.name)
                    .chars()
                    .take(limits::NAME)
                    .collect(),
            ),
            author_layer: layer,
            attribution: draft.attribution,
            lang,
            text: checked.text,
            translation: None,
            order: draft.order,
            steps: checked.steps,
            perspective: draft.perspective,
            tags: checked.tags,
            source: None,
            status: LessonStatus::Pending,
            rejection_reason: None,
            featured: false,
            created_at: now,
            updated_at: now,
            reviewed_at: None,
            reviewed_by: None,
            published_in: Vec::new(),
        };
        self.put_lesson(&mut batch, None, &lesson)?;
        self.commit_unlocking(guard, batch)?;
        Ok(Reply::private(self.t(
            lang,
            k::LESSON_SHARED,
            json!({
                "id": id.to_string(),
                "title": lesson.text.title,
                "attribution": self.attribution(lang, &lesson),
            }),
        ))
        .choice(
            self.text.plain(lang, k::LESSON_SHOW_BUTTON),
            Action::ShowLesson(id),
        ))
    }

    /// Applies changes to a lesson's fields, checking them as a new lesson would be checked.
    pub(super) fn apply_changes(
        &self,
        ctx: &Ctx,
        lesson: &mut Lesson,
        changes: LessonChanges,
    ) -> Result<(), Failure> {
        let lang = ctx.actor.lang;
        let current = lesson.text.clone();
        let checked = self.check_fields(
            lang,
            changes.title.as_deref().unwrap_or(&current.title),
            changes.happened.as_deref().unwrap_or(&current.happened),
            changes.lesson.as_deref().unwrap_or(&current.lesson),
            changes.steps.as_deref().unwrap_or(&lesson.steps),
            changes.tags.as_deref().unwrap_or(&lesson.tags),
        )?;
        if let Some(a) = changes.attribution {
            // Only the author chooses how they are named.
            if lesson.author != Some(ctx.actor.id) {
                return Err(self.refuse(
                    lang,
                    k::LESSON_NOT_YOURS,
                    json!({"id": lesson.id.to_string()}),
                ));
            }
            lesson.author_layer = self.check_attribution(ctx, a)?;
            lesson.attribution = a;
        }
        lesson.text = checked.text;
        lesson.steps = checked.steps;
        lesson.tags = checked.tags;
        if let Some(o) = changes.order {
            lesson.order = o;
        }
        if let Some(p) = changes.perspective {
            lesson.perspective = Some(p);
        }
        lesson.updated_at = self.now();
        Ok(())
    }

    /// Under the write lock: refuses an edit made on a version of the lesson that is no longer
    /// current, and keeps of `changes` only what differs from the lesson as it is. A form sends
    /// every field it shows; what the editor left as it was is no change.
    pub(super) fn what_changes(
        &self,
        lang: Lang,
        current: &Lesson,
        mut changes: LessonChanges,
        version: Option<u64>,
    ) -> Result<LessonChanges, Failure> {
        if version.is_some_and(|v| v != content_version(current)) {
            return Err(self.refuse(
                lang,
                k::LESSON_CHANGED,
                json!({"id": current.id.to_string()}),
            ));
        }
        let same =
            |new: &Option<String>, old: &str| new.as_deref().map(str::trim) == Some(old.trim());
        if same(&changes.title, &current.text.title) {
            changes.title = None;
        }
        if same(&changes.happened, &current.text.happened) {
            changes.happened = None;
        }
        if same(&changes.lesson, &current.text.lesson) {
            changes.lesson = None;
        }
        if changes.tags.as_ref().is_some_and(|tags| {
            let typed: Vec<&str> = tags
                .iter()
                .map(|t| t.trim())
                .filter(|t| !t.is_empty())
                .collect();
            typed == current.tags.iter().map(String::as_str).collect::<Vec<_>>()
        }) {
            changes.tags = None;
        }
        if changes.is_empty() {
            return Err(self.refuse(lang, k::LESSON_NO_CHANGES, json!({})));
        }
        Ok(changes)
    }

    pub(super) fn lesson_edit(
        &self,
        ctx: &Ctx,
        id: LessonId,
        changes: LessonChanges,
        version: Option<u64>,
    ) -> Outcome {
        let lang = ctx.actor.lang;
        if changes.is_empty() {
            return Err(self.refuse(lang, k::LESSON_NO_CHANGES, json!({})));
        }
        let _guard = self.lock();
        let old = self.lesson(lang, id)?;
        if old.author != Some(ctx.actor.id) {
            return Err(self.refuse(lang, k::LESSON_NOT_YOURS, json!({"id": id.to_string()})));
        }
        let changes = self.what_changes(lang, &old, changes, version)?;
        let mut lesson = old.clone();
        self.apply_changes(ctx, &mut lesson, changes)?;
        // An edited lesson is read again before others see it.
        let back_to_review = lesson.status != LessonStatus::Pending;
        lesson.status = LessonStatus::Pending;
        lesson.rejection_reason = None;
        let mut batch = Batch::new();
        self.put_lesson(&mut batch, Some(&old), &lesson)?;
        self.commit(batch)?;
        Ok(Reply::private(self.t(
            lang,
            k::LESSON_EDITED,
            json!({"id": id.to_string(), "title": lesson.text.title, "back_to_review": back_to_review}),
        )))
    }

    /// A lesson's current text and tags, for pre-filling an edit form: for its author, or for a
    /// moderator (only a moderator `for_review`). `own` tells which, so the form is saved as an edit or as a review edit.
    pub fn lesson_form(
        &self,
        ctx: &Ctx,
        id: LessonId,
        for_review: bool,
    ) -> Result<LessonForm, Failure> {
        let lang = ctx.actor.lang;
        if for_review {
            self.require_moderator(ctx)?;
        }
        let lesson = if for_review {
            self.reviewable(ctx, id)?
        } else {
            self.lesson(lang, id)?
        };
        let own = lesson.author == Some(ctx.actor.id);
        let may_edit = own || (ctx.actor.role.can_moderate() && self.reviewable(ctx, id).is_ok());
        if !may_edit {
            return Err(if lesson.is_public() {
                self.refuse(lang, k::LESSON_NOT_YOURS, json!({"id": id.to_string()}))
            } else {
                self.refuse(lang, k::LESSON_NOT_FOUND, json!({"id": id.to_string()}))
            });
        }
        let version = content_version(&lesson);
        Ok(LessonForm {
            text: lesson.text,
            tags: lesson.tags,
            own,
            version,
        })
    }

    /// How the author is shown on a lesson, never more than the author chose.
    pub(super) fn attribution(&self, lang: Lang, lesson: &Lesson) -> String {
        if lesson.author.is_none() && lesson.key.is_some() {
            return self.text.plain(lang, k::LESSON_BY_LIBRARY);
        }
        self.person_attribution(
            lang,
            lesson.attribution,
            lesson.author_name.as_deref(),
            lesson.author_layer,
        )
    }

    /// How a person is shown under what they wrote, never more than they chose: their name
    /// (and layer), only their government layer, or nobody.
    pub(super) fn person_attribution(
        &self,
        lang: Lang,
        attribution: Attribution,
        name: Option<&str>,
        layer: Option<Layer>,
    ) -> String {
        let a = self.text.academy(lang);
        match (attribution, layer) {
            (Attribution::Named, layer) => self.t(
                lang,
                k::LESSON_BY_NAMED,
                json!({
                    "name": name.unwrap_or_default(),
                    "layer": layer.map(|l| a.layer(l).name.clone()),
                }),
            ),
            (Attribution::Layer, Some(l)) => a.layer(l).attribution.clone(),
            _ => self.text.plain(lang, k::LESSON_BY_ANONYMOUS),
        }
    }

    fn meta_line(&self, lang: Lang, lesson: &Lesson) -> String {
        let a = self.text.academy(lang);
        let steps: Vec<String> = lesson
            .steps
            .iter()
            .map(|s| s.number().to_string())
            .collect();
        let meta = self.t(
            lang,
            k::LESSON_META,
            json!({
                "order": a.order(lesson.order).name,
                "steps": (!steps.is_empty()).then(|| steps.join(", ")),
                "perspective": lesson.perspective.map(|p| a.perspective(p).name.clone()),
                "by": self.attribution(lang, lesson),
                "featured": lesson.featured,
            }),
        );
        match self.applied_line(lang, lesson.id) {
            Some(applied) => format!("{meta} · {applied}"),
            None => meta,
        }
    }

    fn status_name(&self, lang: Lang, status: LessonStatus) -> String {
        self.text.plain(
            lang,
            match status {
                LessonStatus::Pending => k::STATUS_PENDING,
                LessonStatus::Approved => k::STATUS_APPROVED,
                LessonStatus::Rejected => k::STATUS_REJECTED,
            },
        )
    }

    /// A lesson as a list entry: heading and a short body.
    pub(super) fn lesson_summary(
        &self,
        lang: Lang,
        lesson: &Lesson,
        with_status: bool,
    ) -> (String, String) {
        let text = lesson.text_for(lang);
        let excerpt = super::shorten(&text.lesson, 280);
        let mut body = format!("{}\n{}", self.meta_line(lang, lesson), excerpt);
        if with_status {
            body = format!(
                "{}: {}\n{body}",
                self.text.plain(lang, k::LESSON_STATUS_LABEL),
                self.status_name(lang, lesson.status)
            );
        }
        (format!("{} · {}", lesson.id, text.title), body)
    }

    /// A whole lesson, as shown to a reader.
    fn lesson_full(&self, lang: Lang, lesson: &Lesson, with_status: bool) -> Reply {
        let text = lesson.text_for(lang);
        let mut reply = Reply::private(self.meta_line(lang, lesson))
            .titled(format!("{} · {}", lesson.id, text.title))
            .section(
                self.text.plain(lang, k::LESSON_HAPPENED),
                text.happened.clone(),
            )
            .section(self.text.plain(lang, k::LESSON_LESSON), text.lesson.clone());
        if !lesson.tags.is_empty() {
            let tags: Vec<String> = lesson.tags.iter().map(|t| format!("#{t}")).collect();
            reply = reply.section(self.text.plain(lang, k::LESSON_TAGS), tags.join(" "));
        }
        if let Some(source) = &lesson.source {
            reply = reply.section(self.text.plain(lang, k::LESSON_SOURCE), source.clone());
        }
        let notes = self.applied_notes(lang, lesson.id).unwrap_or_default();
        if !notes.is_empty() {
            let lines: Vec<String> = notes
                .iter()
                .map(|(date, note)| format!("• {date}: {note}"))
                .collect();
            reply = reply.section(self.text.plain(lang, k::APPLIED_NOTES), lines.join("\n"));
        }
        if with_status {
            let status = self.t(
                lang,
                k::LESSON_STATUS_LINE,
                json!({
                    "status": self.status_name(lang, lesson.status),
                    "reason": lesson.rejection_reason,
                    "published": lesson.published_in.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "),
                }),
            );
            reply = reply.section(self.text.plain(lang, k::LESSON_STATUS_LABEL), status);
        }
        reply
    }

    pub(super) fn lesson_show(&self, ctx: &Ctx, id: LessonId) -> Outcome {
        let lang = ctx.actor.lang;
        let lesson = self.lesson(lang, id)?;
        let own = lesson.author == Some(ctx.actor.id);
        let moderator = ctx.actor.role.can_moderate();
        if !self.may_read(ctx, &lesson)? {
            // Not yet public, or kept within another collaboration: to this reader it does
            // not exist.
            return Err(self.refuse(lang, k::LESSON_NOT_FOUND, json!({"id": id.to_string()})));
        }
        let mut reply = self.lesson_full(lang, &lesson, own || moderator);
        let viewer = super::shared::Viewer::of(ctx);
        if let Some(from) = self.academy()?.origin(self, lang, &lesson, &viewer) {
            reply.body = format!("{}\n{from}", reply.body);
            if moderator && lesson.is_public() && ctx.channel.is_some() {
                reply = reply.choice(
                    self.text.plain(lang, k::SHARED_TAKE_BUTTON),
                    Action::TakeLesson(id),
                );
            }
        }
        if lesson.is_public() {
            reply = reply.choice(
                self.text.plain(lang, k::APPLIED_BUTTON),
                Action::Applied(id),
            );
        }
        if own {
            reply = reply.choice(
                self.text.plain(lang, k::LESSON_EDIT_BUTTON),
                Action::EditLesson(id),
            );
        }
        Ok(reply)
    }

    /// The lessons a search finds, with its period in local days: the index keeps UTC days,
    /// so the days at either end are widened by one and the lessons on them checked one by one.
    pub(super) fn find_lessons(
        &self,
        query: &SearchQuery,
        zone: chrono_tz::Tz,
        hidden: &[ChannelId],
    ) -> Result<Vec<LessonId>, Failure> {
        let find = |q: &SearchQuery| search::find_except(self.store.as_ref(), q, hidden);
        if query.from.is_none() && query.to.is_none() {
            return Ok(find(query)?);
        }
        let day = chrono::Duration::days(1);
        let wide = SearchQuery {
            from: query.from.map(|d| d - day),
            to: query.to.map(|d| d + day),
            ..query.clone()
        };
        let mut edges = std::collections::HashSet::new();
        for (from, to) in [
            query.from.map(|d| (d - day, d)),
            query.to.map(|d| (d, d + day)),
        ]
        .into_iter()
        .flatten()
        {
            let edge = SearchQuery {
                from: Some(from),
                to: Some(to),
                ..query.clone()
            };
            edges.extend(find(&edge)?);
        }
        let mut out = Vec::new();
        for id in find(&wide)? {
            if edges.contains(&id) {
                let Some(lesson) = self.load::<Lesson>(Tree::Lessons, &id.key())? else {
                    continue;
                };
                let local = crate::time::local_date(zone, lesson.created_at);
                if query.from.is_some_and(|f| local < f) || query.to.is_some_and(|t| local > t) {
                    continue;
                }
            }
            out.push(id);
        }
        Ok(out)
    }

    pub(super) fn lesson_search(&self, ctx: &Ctx, query: SearchQuery) -> Outcome {
        let lang = ctx.actor.lang;
        // An empty period is a mistake to say, not a search that finds nothing.
        if let (Some(from), Some(to)) = (query.from, query.to) {
            if from > to {
                return Err(self.refuse(lang, k::DIGEST_BAD_PERIOD, json!({})));
            }
        }
        let viewer = super::shared::Viewer::of(ctx);
        let (academy, ids) = self.visible_matches(&viewer, &query, self.zone_in(ctx.channel))?;
        let size = self.settings.page_size.max(1);
        let pages = ids.len().div_ceil(size).max(1);
        let page = query.page.min(pages - 1);
        let mut reply = self.page_header(
            lang,
            (ids.len(), page, pages),
            k::SEARCH_NONE,
            k::SEARCH_FOUND,
            k::SEARCH_TITLE,
        );
        for id in ids.iter().skip(page * size).take(size) {
            // A search reads without the write lock: a lesson deleted or taken back between
            // the index and this read is left out rather than failing the whole search.
            let Some(lesson) = self
                .load::<Lesson>(Tree::Lessons, &id.key())?
                .filter(Lesson::is_public)
            else {
                continue;
            };
            let (heading, mut body) = self.lesson_summary(lang, &lesson, false);
            if let Some(from) = academy.origin(self, lang, &lesson, &viewer) {
                body = format!("{from}\n{body}");
            }
            reply = reply.section(heading, body);
        }
        Ok(self.page_choices(lang, reply, (page, pages), |page| {
            Action::SearchPage(Box::new(SearchQuery {
                page,
                ..query.clone()
            }))
        }))
    }

    pub(super) fn lesson_mine(&self, ctx: &Ctx) -> Outcome {
        let lang = ctx.actor.lang;
        let lessons = self.lessons_by(ctx.actor.id)?;
        let mut reply =
            Reply::private(self.t(lang, k::LESSON_MINE, json!({"count": lessons.len()})))
                .titled(self.text.plain(lang, k::LESSON_MINE_TITLE));
        for lesson in lessons.iter().rev() {
            let (heading, body) = self.lesson_summary(lang, lesson, true);
            reply = reply.section(heading, body);
        }
        Ok(reply)
    }

    /// All lessons a user wrote, oldest first, whatever their status.
    pub(super) fn lessons_by(&self, user: UserId) -> Result<Vec<Lesson>, Failure> {
        let keys = self
            .store
            .scan_prefix(Tree::LessonIndex, &search::author_prefix(user))?;
        let mut out = Vec::new();
        for (key, _) in keys {
            if let Some(id) = search::id_of(&key) {
                if let Some(l) = self.load::<Lesson>(Tree::Lessons, &id.key())? {
                    out.push(l);
                }
            }
        }
        Ok(out)
    }
}

/// What a reader of a published digest sees of a lesson: a change to any of it after
/// publication keeps the published version.
fn published_form(l: &Lesson) -> impl PartialEq + '_ {
    (
        (&l.text, &l.translation, &l.order, &l.steps, &l.perspective),
        (
            &l.tags,
            &l.attribution,
            &l.author_layer,
            &l.author_name,
            &l.source,
        ),
    )
}

/// A fingerprint of what an edit can change (FNV-1a over those fields): it changes with any
/// edit, whatever the clock says, and not with what others do to the lesson without editing it
/// (a review decision, featuring, a digest that publishes it, an application).
fn content_version(lesson: &Lesson) -> u64 {
    let editable = (
        (
            &lesson.text,
            &lesson.translation,
            &lesson.order,
            &lesson.steps,
        ),
        (
            &lesson.perspective,
            &lesson.tags,
            &lesson.attribution,
            &lesson.author_layer,
        ),
    );
    fnv1a(&serde_json::to_vec(&editable).unwrap_or_default())
}

/// What an edit form shows before the user changes it.
#[derive(Clone, Debug, PartialEq)]
pub struct LessonForm {
    pub text: LessonText,
    pub tags: Vec<String>,
    /// The actor wrote it (otherwise a moderator edits it in review).
    pub own: bool,
    /// Changes whenever the lesson does, so a form opened before someone else's edit is caught.
    pub version: u64,
}
