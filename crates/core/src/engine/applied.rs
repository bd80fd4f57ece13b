//! The applied loop: members say they applied a lesson, with a short note; readers see how often
//! a lesson was applied; an approved lesson nobody applied (or re-confirmed) for months returns to
//! the moderators' queue, so the library stays alive instead of silting up.

use super::{clean_text, decode, encode, limits, Ctx, Engine, Failure, Outcome};
use crate::domain::*;
use crate::reply::{Action, Reply};
use crate::search;
use crate::store::{Batch, Tree};
use crate::text::keys as k;
use chrono::{DateTime, Months, Utc};
use serde_json::json;

/// When a lesson's record was created.
#[derive(serde::Deserialize)]
pub(super) struct LessonTimes {
    pub created_at: DateTime<Utc>,
}

impl Engine {
    /// Everyone's applications of a lesson, oldest first.
    pub(super) fn applications(&self, id: LessonId) -> Result<Vec<Application>, Failure> {
        let mut list: Vec<Application> = self.load_all(Tree::Applications, &id.key())?;
        list.sort_by_key(|a| a.at);
        Ok(list)
    }

    /// What members wrote when they applied a lesson, newest first, each with its date as
    /// `lang` writes it (in the academy's time zone, as the line "applied, last on …"); notes
    /// are shown without a name, since they travel to the site beyond the academy.
    pub(super) fn applied_notes(
        &self,
        lang: Lang,
        id: LessonId,
    ) -> Result<Vec<(String, String)>, Failure> {
        let zone = self.settings.time_zone;
        Ok(self
            .applications(id)?
            .into_iter()
            .rev()
            .filter(|a| !a.note.trim().is_empty())
            .map(|a| (crate::time::date(lang, zone, a.at), a.note))
            .collect())
    }

    /// "Applied 3 times", for a lesson's line in lists; `None` when nobody applied it yet. A
    /// store error leaves the line out rather than failing the whole list.
    pub(super) fn applied_line(&self, lang: Lang, id: LessonId) -> Option<String> {
        let list = self.applications(id).ok()?;
        let last = list.last()?;
        Some(self.t(
            lang,
            k::APPLIED_LINE,
            json!({"count": list.len(), "last": crate::time::date(lang, self.settings.time_zone, last.at)}),
        ))
    }

    pub(super) fn lesson_applied(&self, ctx: &Ctx, id: LessonId, note: String) -> Outcome {
        let lang = ctx.actor.lang;
        let note = clean_text(&note);
        if !note.is_empty() {
            self.check_text(lang, k::FIELD_NOTE, &note, limits::REASON)?;
        }
        let guard = self.lock();
        let lesson = self.lesson(lang, id)?;
        if !lesson.is_public() || !self.may_read(ctx, &lesson)? {
            return Err(self.refuse(lang, k::LESSON_NOT_FOUND, json!({"id": id.to_string()})));
        }
        let application = Application {
            lesson: id,
            user: ctx.actor.id,
            name: super::clean_line(&ctx.actor.name)
                .chars()
                .take(limits::NAME)
                .collect(),
            note,
            at: self.now(),
        };
        let mut batch = Batch::new();
        batch.put(
            Tree::Applications,
            [id.key(), ctx.actor.id.key()].concat(),
            encode(&application)?,
        );
        // Its page and its digests show how often it was applied. Noted while the write lock is
        // held, so whoever takes the list under it finds every committed change (a change that
        // fails to commit only has its pages written again as they are).
        self.site_touched([id], lesson.published_in.iter().copied());
        self.commit_unlocking(guard, batch)?;
        let count = self.applications(id)?.len();
        Ok(Reply::private(self.t(
            lang,
            k::APPLIED_SAVED,
            json!({"id": id.to_string(), "title": lesson.text_for(lang).title, "count": count}),
        ))
        .choice(
            self.text.plain(lang, k::LESSON_SHOW_BUTTON),
            Action::ShowLesson(id),
        ))
    }

    /// When a lesson last showed it is alive: approved or re-confirmed, or applied.
    fn last_sign_of_life(&self, lesson: &Lesson) -> Result<DateTime<Utc>, Failure> {
        let reviewed = lesson.reviewed_at.unwrap_or(lesson.created_at);
        let applied = self.applications(lesson.id)?.last().map(|a| a.at);
        Ok(applied.map_or(reviewed, |a| a.max(reviewed)))
    }

    /// The moment before which a lesson's last sign of life makes it due for re-review.
    fn re_review_cutoff(&self) -> Option<DateTime<Utc>> {
        self.now()
            .checked_sub_months(Months::new(self.settings.re_review_months))
    }

    /// Approved lessons nobody applied or re-confirmed in the configured number of months.
    /// Every approved lesson is on one review-day list, so those due are the approved ones
    /// less the lessons alive: reviewed after the cutoff's day, on that day after the cutoff
    /// (from the keys of the instants reviewed, no lesson read), or applied since (the lists
    /// of the months after the cutoff's, and that month's applications from the cutoff on).
    /// The work follows the months a lesson stays fresh, not the years of the library or of
    /// its applications.
    pub(super) fn stale_lessons(&self) -> Result<search::Ids, Failure> {
        let Some(cutoff) = self.re_review_cutoff() else {
            return Ok(search::Ids::new());
        };
        let store = self.store.as_ref();
        let day = cutoff.date_naive();
        let mut alive = match day.succ_opt() {
            Some(after) => search::reviewed_from(store, after)?,
            None => search::Ids::new(),
        };
        alive |= search::reviewed_on_from(store, cutoff)?;
        // Applied since the cutoff: alive, read from the applications of the period alone.
        alive |= self.applied_since(cutoff)?;
        Ok(search::status_set(store, LessonStatus::Approved)? - &alive)
    }

    /// When a lesson was created, decoded without the rest of its record: `/gezondheid`
    /// reads only the lessons on the edge of its period, for this.
    pub(super) fn lesson_times(&self, id: LessonId) -> Result<Option<LessonTimes>, Failure> {
        match self.store.get(Tree::Lessons, &id.key())? {
            Some(bytes) => Ok(Some(decode(Tree::Lessons, &id.key(), &bytes)?)),
            None => Ok(None),
        }
    }

    /// Whether an approved lesson is due for re-review.
    pub(super) fn is_stale(&self, lesson: &Lesson) -> Result<bool, Failure> {
        Ok(match self.re_review_cutoff() {
            Some(cutoff) => {
                lesson.status == LessonStatus::Approved && self.last_sign_of_life(lesson)? < cutoff
            }
            None => false,
        })
    }
}
