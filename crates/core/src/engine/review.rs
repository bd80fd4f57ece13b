//! Moderation: the queue of lessons waiting for review, and approving, editing, rejecting with a
//! reason (which the author is told) and featuring.

use super::{clean_text, limits, Ctx, Engine, Failure, LessonChanges, Outcome};
use crate::domain::*;
use crate::reply::{Action, Notice, Reply};
use crate::search;
use crate::store::Batch;
use crate::text::keys as k;
use serde_json::json;

/// Lessons shown per queue reply; each gets its own buttons, within Discord's 25.
const QUEUE_PAGE: usize = 5;

impl Engine {
    pub(super) fn review_queue(&self, ctx: &Ctx, page: usize) -> Outcome {
        let lang = ctx.actor.lang;
        self.require_moderator(ctx)?;
        let pending = search::status_set(self.store.as_ref(), LessonStatus::Pending)?;
        let keys = self.reviewable_ids(ctx, pending)?;
        let count = usize::try_from(keys.len()).unwrap_or(usize::MAX);
        let pages = count.div_ceil(QUEUE_PAGE).max(1);
        let page = page.min(pages - 1);
        let mut reply = self.page_header(
            lang,
            (count, page, pages),
            k::REVIEW_EMPTY,
            k::REVIEW_WAITING,
            k::REVIEW_TITLE,
        );
        // Lessons due for re-review are shown once, with the first page: how many, and the
        // oldest few.
        let stale = if page == 0 {
            self.reviewable_ids(ctx, self.stale_lessons()?)?
        } else {
            search::Ids::new()
        };
        let shown = keys.iter().skip(page * QUEUE_PAGE).take(QUEUE_PAGE);
        for id in shown.map(LessonId) {
            let lesson = self.lesson(lang, id)?;
            let text = lesson.text_for(lang);
            // One summary gives the heading and, as its first line, the meta line.
            let (heading, summary) = self.lesson_summary(lang, &lesson, false);
            let body = format!(
                "{}\n{}: {}\n{}: {}",
                summary.lines().next().unwrap_or_default(),
                self.text.plain(lang, k::LESSON_HAPPENED),
                text.happened,
                self.text.plain(lang, k::LESSON_LESSON),
                text.lesson
            );
            reply = reply
                .section(heading, body)
                .choice(
                    self.t(
                        lang,
                        k::REVIEW_APPROVE_BUTTON,
                        json!({"id": id.to_string()}),
                    ),
                    Action::Approve(id),
                )
                .choice(
                    self.t(lang, k::REVIEW_REJECT_BUTTON, json!({"id": id.to_string()})),
                    Action::Reject(id),
                )
                .choice(
                    self.t(lang, k::REVIEW_EDIT_BUTTON, json!({"id": id.to_string()})),
                    Action::ReviewEdit(id),
                );
        }
        reply = self.page_choices(lang, reply, (page, pages), Action::ReviewPage);
        if !stale.is_empty() {
            let mut lines = vec![self.t(
                lang,
                k::REVIEW_STALE_BODY,
                json!({"count": stale.len(), "months": self.settings.re_review_months}),
            )];
            for id in stale.iter().take(QUEUE_PAGE).map(LessonId) {
                let lesson = self.lesson(lang, id)?;
                let (heading, _) = self.lesson_summary(lang, &lesson, false);
                lines.push(format!("• {heading}"));
                reply = reply
                    .choice(
                        self.t(
                            lang,
                            k::REVIEW_CONFIRM_BUTTON,
                            json!({"id": id.to_string()}),
                        ),
                        Action::Approve(id),
                    )
                    .choice(
                        self.t(lang, k::REVIEW_EDIT_BUTTON, json!({"id": id.to_string()})),
                        Action::ReviewEdit(id),
                    );
            }
            reply = reply.section(
                self.text.plain(lang, k::REVIEW_STALE_TITLE),
                lines.join("\n"),
            );
        }
        Ok(reply)
    }

    fn notify_author(&self, lesson: &Lesson, key: &str, extra: serde_json::Value) -> Vec<Notice> {
        let Some(author) = lesson.author else {
            return Vec::new();
        };
        let lang = lesson.lang;
        let mut data = json!({"id": lesson.id.to_string(), "title": lesson.text.title});
        if let (Some(obj), Some(more)) = (data.as_object_mut(), extra.as_object()) {
            obj.extend(more.clone());
        }
        vec![Notice {
            to: author,
            text: self.t(lang, key, data),
        }]
    }

    /// Stores `lesson` over `old` as the moderator's decision, with who made it and when, and
    /// says `key` about it to them.
    fn record_decision(
        &self,
        ctx: &Ctx,
        old: &Lesson,
        mut lesson: Lesson,
        key: &str,
    ) -> Result<(Lesson, Reply), Failure> {
        lesson.reviewed_at = Some(self.now());
        lesson.reviewed_by = Some(ctx.actor.id);
        let reply = self.save_reviewed(ctx.actor.lang, old, &lesson, key)?;
        Ok((lesson, reply))
    }

    /// Stores `lesson` over `old`; the moderator's reply is `key`, naming the lesson.
    fn save_reviewed(
        &self,
        lang: Lang,
        old: &Lesson,
        lesson: &Lesson,
        key: &str,
    ) -> Result<Reply, Failure> {
        let mut batch = Batch::new();
        self.put_lesson(&mut batch, Some(old), lesson)?;
        self.commit(batch)?;
        Ok(Reply::private(self.t(
            lang,
            key,
            json!({"id": lesson.id.to_string(), "title": lesson.text_for(lang).title}),
        )))
    }

    pub(super) fn review_approve(&self, ctx: &Ctx, id: LessonId) -> Outcome {
        let lang = ctx.actor.lang;
        self.require_moderator(ctx)?;
        let _guard = self.lock();
        let old = self.reviewable(ctx, id)?;
        if old.status == LessonStatus::Approved && self.is_stale(&old)? {
            // Due for re-review: confirming it starts its clock again.
            let (_, reply) = self.record_decision(ctx, &old, old.clone(), k::REVIEW_RECONFIRMED)?;
            return Ok(reply);
        }
        if old.status == LessonStatus::Approved {
            return Err(self.refuse(
                lang,
                k::REVIEW_ALREADY_APPROVED,
                json!({"id": id.to_string()}),
            ));
        }
        let mut lesson = old.clone();
        lesson.status = LessonStatus::Approved;
        lesson.rejection_reason = None;
        let (lesson, reply) = self.record_decision(ctx, &old, lesson, k::REVIEW_APPROVED)?;
        let mut reply = reply.choice(
            self.t(
                lang,
                k::REVIEW_FEATURE_BUTTON,
                json!({"id": id.to_string()}),
            ),
            Action::Feature(id),
        );
        reply.notices = self.notify_author(&lesson, k::NOTICE_APPROVED, json!({}));
        Ok(reply)
    }

    pub(super) fn review_edit(
        &self,
        ctx: &Ctx,
        id: LessonId,
        changes: LessonChanges,
        version: Option<u64>,
    ) -> Outcome {
        let lang = ctx.actor.lang;
        self.require_moderator(ctx)?;
        if changes.is_empty() {
            return Err(self.refuse(lang, k::LESSON_NO_CHANGES, json!({})));
        }
        let _guard = self.lock();
        let old = self.reviewable(ctx, id)?;
        let changes = self.what_changes(lang, &old, changes, version)?;
        let mut lesson = old.clone();
        self.apply_changes(ctx, &mut lesson, changes)?;
        let mut reply = self.save_reviewed(lang, &old, &lesson, k::REVIEW_EDITED)?;
        if lesson.author != Some(ctx.actor.id) {
            reply.notices = self.notify_author(&lesson, k::NOTICE_EDITED, json!({}));
        }
        Ok(reply)
    }

    pub(super) fn review_reject(&self, ctx: &Ctx, id: LessonId, reason: String) -> Outcome {
        let lang = ctx.actor.lang;
        self.require_moderator(ctx)?;
        let reason = clean_text(&reason);
        self.check_text(lang, k::FIELD_REASON, &reason, limits::REASON)?;
        let _guard = self.lock();
        let old = self.reviewable(ctx, id)?;
        if old.status == LessonStatus::Rejected {
            return Err(self.refuse(
                lang,
                k::REVIEW_ALREADY_REJECTED,
                json!({"id": id.to_string()}),
            ));
        }
        let mut lesson = old.clone();
        lesson.status = LessonStatus::Rejected;
        lesson.featured = false;
        lesson.rejection_reason = Some(reason.clone());
        let (lesson, mut reply) = self.record_decision(ctx, &old, lesson, k::REVIEW_REJECTED)?;
        reply.notices = self.notify_author(&lesson, k::NOTICE_REJECTED, json!({"reason": reason}));
        Ok(reply)
    }

    pub(super) fn review_feature(&self, ctx: &Ctx, id: LessonId) -> Outcome {
        let lang = ctx.actor.lang;
        self.require_moderator(ctx)?;
        let _guard = self.lock();
        let old = self.reviewable(ctx, id)?;
        if old.status != LessonStatus::Approved {
            return Err(self.refuse(
                lang,
                k::REVIEW_FEATURE_NOT_APPROVED,
                json!({"id": id.to_string()}),
            ));
        }
        let mut lesson = old.clone();
        lesson.featured = !old.featured;
        let mut batch = Batch::new();
        self.put_lesson(&mut batch, Some(&old), &lesson)?;
        self.commit(batch)?;
        Ok(Reply::private(self.t(
            lang,
            k::REVIEW_FEATURED,
            json!({"id": id.to_string(), "title": lesson.text_for(lang).title, "featured": lesson.featured}),
        )))
    }
}
