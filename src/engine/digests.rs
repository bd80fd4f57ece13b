//! Digests: a moderator composes a selection of approved lessons (by period, learning order and
//! step), previews it as a draft, and publishes it to the channel. A lesson already published is
//! left out of later digests unless the moderator asks for it again.

use super::{clean_line, encode, limits, Ctx, Engine, Failure, Outcome};
use crate::domain::*;
use crate::reply::{Action, Reply};
use crate::search::{self, SearchQuery};
use crate::site::{self, PublishedDigest, PublishedLesson};
use crate::store::{Batch, Tree};
use crate::text::keys as k;
use chrono::NaiveDate;
use serde_json::json;
use std::collections::HashMap;

impl Engine {
    fn digest(&self, lang: Lang, id: DigestId) -> Result<Digest, Failure> {
        self.load::<Digest>(Tree::Digests, &id.key())?
            .ok_or_else(|| self.refuse(lang, k::DIGEST_NOT_FOUND, json!({"id": id.to_string()})))
    }

    /// Approved lessons matching a digest's filter. The index narrows them by learning order,
    /// step and the period's end (a lesson approved by then was created by then), so only
    /// those are read; the rest of the filter is checked on each.
    fn digest_candidates(&self, filter: &DigestFilter) -> Result<Vec<Lesson>, Failure> {
        let query = SearchQuery {
            order: filter.order,
            step: filter.step,
            to: filter.to,
            ..SearchQuery::default()
        };
        let mut out = Vec::new();
        for id in search::matching(self.store.as_ref(), &query)? {
            let Some(lesson) = self.load::<Lesson>(Tree::Lessons, &LessonId(id).key())? else {
                return Err(Failure::Internal(anyhow::anyhow!(
                    "index names lesson L{id}, which is not stored"
                )));
            };
            if matches_filter(&lesson, filter) {
                out.push(lesson);
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
                json!({"date": self.now().format("%Y-%m-%d").to_string()}),
            ),
        };
        let _guard = self.lock();
        let lessons = self.digest_candidates(&filter)?;
        if lessons.is_empty() {
            return Err(self.refuse(ui, k::DIGEST_EMPTY, json!({"republish": filter.republish})));
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
        };
        batch.put(Tree::Digests, id.key().to_vec(), encode(&digest)?);
        self.commit(batch)?;
        let mut reply = self.digest_reply(&digest, &lessons)?;
        reply.visibility = crate::reply::Visibility::Private;
        reply.body = format!(
            "{}\n\n{}",
            self.t(ui, k::DIGEST_PREVIEW, json!({"id": id.to_string()})),
            reply.body
        );
        Ok(reply.choice(
            self.t(ui, k::DIGEST_PUBLISH_BUTTON, json!({"id": id.to_string()})),
            Action::PublishDigest(id),
        ))
    }

    pub(super) fn digest_publish(&self, ctx: &Ctx, id: DigestId) -> Outcome {
        let ui = ctx.actor.lang;
        self.require_moderator(ctx)?;
        let _guard = self.lock();
        let mut digest = self.digest(ui, id)?;
        if digest.status == DigestStatus::Published {
            return Err(self.refuse(
                ui,
                k::DIGEST_ALREADY_PUBLISHED,
                json!({"id": id.to_string()}),
            ));
        }
        // Check again: lessons may have been rejected, deleted or published since the draft.
        let mut lessons = Vec::new();
        for lid in &digest.lessons {
            if let Some(l) = self.load::<Lesson>(Tree::Lessons, &lid.key())? {
                if l.is_public() && (digest.filter.republish || l.published_in.is_empty()) {
                    lessons.push(l);
                }
            }
        }
        if lessons.is_empty() {
            return Err(self.refuse(
                ui,
                k::DIGEST_EMPTY,
                json!({"republish": digest.filter.republish}),
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
        self.commit(batch)?;
        self.refresh_site();
        let published = self.published(&digest, &lessons);
        let mut reply = self.published_reply(&published)?;
        // The figure travels with the digest: where its lessons sit among the perspectives.
        let figures = site::figures_for(&self.text, &published);
        super::attach_figure(
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
    /// the digest's language, anonymous lessons without a name.
    fn published(&self, digest: &Digest, lessons: &[Lesson]) -> PublishedDigest {
        let by_id: HashMap<LessonId, &Lesson> = lessons.iter().map(|l| (l.id, l)).collect();
        let lessons = digest
            .lessons
            .iter()
            .filter_map(|id| by_id.get(id).copied())
            .map(|l| PublishedLesson {
                lesson: l.clone(),
                // The library is credited as such; an anonymous member is not credited at all.
                by: (l.attribution != Attribution::Anonymous
                    || (l.author.is_none() && l.key.is_some()))
                .then(|| self.attribution(digest.lang, l)),
                applied: self.applications(l.id).map(|a| a.len()).unwrap_or(0),
            })
            .collect();
        PublishedDigest {
            digest: digest.clone(),
            lessons,
        }
    }

    /// The digest as read by everyone, from the `digest.chat` template: lessons grouped by
    /// learning order and step, featured first.
    fn digest_reply(&self, digest: &Digest, lessons: &[Lesson]) -> Outcome {
        self.published_reply(&self.published(digest, lessons))
    }

    fn published_reply(&self, published: &PublishedDigest) -> Outcome {
        let body = site::chat(&self.text, &self.templates, published)?;
        Ok(Reply::channel(body)
            .markdown()
            .titled(published.digest.title.clone()))
    }

    /// Every published digest with its lessons as they are now: a deleted lesson is gone, one
    /// no longer public is left out.
    pub fn published_digests(&self) -> Result<Vec<PublishedDigest>, Failure> {
        let digests: Vec<Digest> = self.load_all(Tree::Digests, &[])?;
        let mut out = Vec::new();
        for digest in digests
            .into_iter()
            .filter(|d| d.status == DigestStatus::Published)
        {
            let mut lessons = Vec::new();
            for id in &digest.lessons {
                if let Some(l) = self.load::<Lesson>(Tree::Lessons, &id.key())? {
                    if l.is_public() {
                        lessons.push(l);
                    }
                }
            }
            out.push(self.published(&digest, &lessons));
        }
        Ok(out)
    }

    /// Writes the static site of all published digests to `dir`; the same database gives the
    /// same files.
    pub fn export_site(&self, dir: &std::path::Path) -> anyhow::Result<site::WriteReport> {
        let digests = self
            .published_digests()
            .map_err(|f| anyhow::anyhow!("{f}"))?;
        let files = site::build(
            &self.text,
            &self.templates,
            self.settings.default_lang,
            &digests,
        )?;
        site::write(dir, &files)
    }

    /// Brings the configured site up to date. The database is the record; a site that cannot
    /// be written is logged and rebuilt by `academie export site`.
    pub(super) fn refresh_site(&self) {
        if let Some(dir) = &self.settings.site_dir {
            if let Err(e) = self.export_site(dir) {
                tracing::error!("could not update the site in {}: {e:#}", dir.display());
            }
        }
    }

    pub(super) fn digest_show(&self, ctx: &Ctx, id: DigestId) -> Outcome {
        let lang = ctx.actor.lang;
        let digest = self.digest(lang, id)?;
        if digest.status == DigestStatus::Draft && !ctx.actor.role.can_moderate() {
            return Err(self.refuse(lang, k::DIGEST_NOT_FOUND, json!({"id": id.to_string()})));
        }
        let mut lessons = Vec::new();
        for lid in &digest.lessons {
            if let Some(l) = self.load::<Lesson>(Tree::Lessons, &lid.key())? {
                if l.is_public() {
                    lessons.push(l);
                }
            }
        }
        let mut reply = self.digest_reply(&digest, &lessons)?;
        reply.visibility = crate::reply::Visibility::Private;
        Ok(reply)
    }

    pub(super) fn digest_list(&self, ctx: &Ctx) -> Outcome {
        let lang = ctx.actor.lang;
        let moderator = ctx.actor.role.can_moderate();
        let digests: Vec<Digest> = self.load_all(Tree::Digests, &[])?;
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
                        "count": d.lessons.len(),
                        "draft": d.status == DigestStatus::Draft,
                        "date": d.published_at.unwrap_or(d.composed_at).format("%Y-%m-%d").to_string(),
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

fn in_period(date: NaiveDate, filter: &DigestFilter) -> bool {
    filter.from.is_none_or(|f| date >= f) && filter.to.is_none_or(|t| date <= t)
}

fn matches_filter(lesson: &Lesson, filter: &DigestFilter) -> bool {
    let approved_on = lesson.reviewed_at.unwrap_or(lesson.created_at).date_naive();
    lesson.is_public()
        && in_period(approved_on, filter)
        && filter.order.is_none_or(|o| lesson.order == o)
        && filter.step.is_none_or(|s| lesson.steps.contains(&s))
        && (filter.republish || lesson.published_in.is_empty())
}

/// Featured lessons first, then by learning order, then oldest first.
fn order_for_digest(lessons: &[Lesson]) -> Vec<LessonId> {
    let mut sorted: Vec<&Lesson> = lessons.iter().collect();
    sorted.sort_by_key(|l| (l.order, !l.featured, l.id));
    sorted.into_iter().map(|l| l.id).collect()
}
