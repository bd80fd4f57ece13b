//! What others learned at this step: when a round starts, its question is followed by at most
//! three lessons from other collaborations tagged with that step, the ones applied most and
//! most recently, each with a button to read it. Only lessons the collaboration may see, and
//! never the name of an author who chose anonymity.

use super::shared::Viewer;
use super::{Engine, Failure};
use crate::domain::*;
use crate::reply::{Action, Reply};
use crate::search::{self, SearchQuery};
use crate::store::Tree;
use crate::text::keys as k;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};

/// Lessons suggested at a round's start, at most.
pub(super) const SUGGESTED: usize = 3;
/// After this long, a sign that a lesson matters (an application, its approval) counts half.
const HALF_LIFE_DAYS: f64 = 180.0;

/// How strongly a lesson is suggested: every application counts, halved for every half year
/// since it was made; the lesson's approval counts as half an application, aged the same way.
/// So a lesson applied often and lately comes first, and among lessons nobody applied yet,
/// the newest.
pub fn suggestion_score(
    applied: &[DateTime<Utc>],
    approved: DateTime<Utc>,
    now: DateTime<Utc>,
) -> f64 {
    let weight = |t: DateTime<Utc>| {
        let days = (now - t).num_seconds().max(0) as f64 / 86_400.0;
        0.5f64.powf(days / HALF_LIFE_DAYS)
    };
    applied.iter().map(|t| weight(*t)).sum::<f64>() + 0.5 * weight(approved)
}

impl Engine {
    /// The lessons of other collaborations to suggest to `collab` for `step`, best first.
    fn suggestions(&self, collab: &Collaboration, step: Step) -> Result<Vec<Lesson>, Failure> {
        let academy = self.academy()?;
        let viewer = Viewer::collaboration(collab);
        let mut hidden = academy.hidden(&viewer);
        hidden.push(collab.channel);
        let query = SearchQuery {
            step: Some(step),
            ..SearchQuery::default()
        };
        let mut ids = search::find_except(self.store.as_ref(), &query, &hidden)?;
        let candidates: HashSet<LessonId> = ids.iter().copied().collect();
        // Only lessons someone applied can outrank the newest ones: read those, then the
        // newest few, instead of every lesson of the step.
        let mut applied: BTreeMap<LessonId, Vec<DateTime<Utc>>> = BTreeMap::new();
        for a in self.load_all::<Application>(Tree::Applications, &[])? {
            if candidates.contains(&a.lesson) {
                applied.entry(a.lesson).or_default().push(a.at);
            }
        }
        ids.sort_by_key(|id| std::cmp::Reverse(*id));
        let from_elsewhere = |l: &Lesson| {
            l.is_public()
                && l.channel
                    .is_some_and(|c| c != collab.channel && academy.collaboration(c).is_some())
        };
        let now = self.now();
        let mut scored: Vec<(f64, Lesson)> = Vec::new();
        let mut seen = HashSet::new();
        let mut consider = |l: Lesson, scored: &mut Vec<(f64, Lesson)>| {
            if !seen.insert(l.id) || !from_elsewhere(&l) {
                return false;
            }
            let times = applied.get(&l.id).map(Vec::as_slice).unwrap_or_default();
            let approved = l.reviewed_at.unwrap_or(l.created_at);
            scored.push((suggestion_score(times, approved, now), l));
            true
        };
        for id in applied.keys() {
            if let Some(l) = self.load::<Lesson>(Tree::Lessons, &id.key())? {
                consider(l, &mut scored);
            }
        }
        let mut newest = 0;
        for id in &ids {
            if newest == SUGGESTED {
                break;
            }
            if let Some(l) = self.load::<Lesson>(Tree::Lessons, &id.key())? {
                if consider(l, &mut scored) {
                    newest += 1;
                }
            }
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.id.cmp(&a.1.id)));
        Ok(scored.into_iter().take(SUGGESTED).map(|(_, l)| l).collect())
    }

    /// Adds what others learned at the round's step to its announcement. A failure is logged
    /// and leaves the announcement as it was: the round itself has started.
    pub(super) fn add_suggestions(&self, reply: Reply, lang: Lang, round: &Round) -> Reply {
        let found = (|| -> Result<Vec<Lesson>, Failure> {
            match self.load::<Collaboration>(Tree::Collaborations, &round.channel.key())? {
                Some(c) => self.suggestions(&c, round.step),
                None => Ok(Vec::new()),
            }
        })();
        let lessons = match found {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("could not suggest lessons for {}: {e}", round.id);
                return reply;
            }
        };
        if lessons.is_empty() {
            return reply;
        }
        let academy = match self.academy() {
            Ok(a) => a,
            Err(e) => {
                tracing::error!("could not suggest lessons for {}: {e}", round.id);
                return reply;
            }
        };
        let viewer = Viewer {
            channel: Some(round.channel),
            server: academy.collaboration(round.channel).and_then(|c| c.server),
        };
        let mut lines = Vec::new();
        let mut reply = reply;
        for l in &lessons {
            let count = self.applications(l.id).map(|a| a.len()).unwrap_or(0);
            lines.push(self.t(
                lang,
                k::SUGGEST_ENTRY,
                json!({
                    "id": l.id.to_string(),
                    "title": l.text_for(lang).title,
                    "from": academy.origin(self, lang, l, &viewer),
                    "by": self.attribution(lang, l),
                    "applied": count,
                }),
            ));
            reply = reply.choice(
                self.t(lang, k::SUGGEST_BUTTON, json!({"id": l.id.to_string()})),
                Action::ShowLesson(l.id),
            );
        }
        reply.section(
            self.t(
                lang,
                k::SUGGEST_TITLE,
                json!({"step": self.step_label(lang, round.step)}),
            ),
            lines.join("\n"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn applied_often_and_lately_ranks_first() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let days = |n| now - Duration::days(n);
        let long_ago = days(900);
        let three_recent = suggestion_score(&[days(10), days(20), days(30)], long_ago, now);
        let one_recent = suggestion_score(&[days(10)], long_ago, now);
        let three_old = suggestion_score(&[days(700), days(720), days(740)], long_ago, now);
        let new_unapplied = suggestion_score(&[], days(1), now);
        assert!(three_recent > one_recent, "how often counts");
        assert!(one_recent > three_old, "how recent counts");
        assert!(
            one_recent > new_unapplied,
            "being applied counts more than being new"
        );
        assert!(
            new_unapplied > suggestion_score(&[], days(400), now),
            "among lessons nobody applied, the newest first"
        );
    }
}
