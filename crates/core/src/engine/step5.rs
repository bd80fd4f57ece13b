//! Step 5 across collaborations: step 5 asks how a collaboration relates to the others, and so
//! how it organises its own learning. A member reads, side by side, the last revealed step-5
//! answers of the other collaborations that allow it, so ways of organising travel too. The
//! answers are shown without the names of who wrote them: they were written for their group.

use super::shared::Viewer;
use super::{Ctx, Engine, Outcome};
use crate::domain::*;
use crate::reply::Reply;
use crate::store::Tree;
use crate::text::keys as k;
use serde_json::json;

/// Collaborations shown at most, newest reveal first.
const SHOWN: usize = 10;

impl Engine {
    /// The most recent revealed round of `step` in a channel.
    fn last_revealed(
        &self,
        channel: ChannelId,
        step: Step,
    ) -> Result<Option<Round>, super::Failure> {
        let keys = self
            .store
            .scan_prefix(Tree::RoundsByChannel, &channel.key())?;
        for (key, _) in keys.iter().rev() {
            let Some(id) = key.get(8..).and_then(RoundId::from_key) else {
                continue;
            };
            if let Some(r) = self.load::<Round>(Tree::Rounds, &id.key())? {
                if r.step == step && r.revealed_at.is_some() {
                    return Ok(Some(r));
                }
            }
        }
        Ok(None)
    }

    pub(super) fn step5_elsewhere(&self, ctx: &Ctx) -> Outcome {
        let lang = ctx.actor.lang;
        let academy = self.academy()?;
        let viewer = Viewer::of(ctx);
        let mut found = Vec::new();
        for c in academy.all() {
            if Some(c.channel) == viewer.channel
                || !c.sharing.step5
                || !academy.servers_meet(c.server, viewer.server)
            {
                continue;
            }
            let Some(round) = self.last_revealed(c.channel, Step::Relate)? else {
                continue;
            };
            let answers = self.answers(round.id)?;
            if answers.is_empty() {
                continue;
            }
            found.push((round, c, answers));
        }
        found.sort_by_key(|(r, _, _)| std::cmp::Reverse(r.revealed_at));
        let question = &self.text.academy(lang).step(Step::Relate).question;
        let mut reply = Reply::private(if found.is_empty() {
            self.t(lang, k::STEP5_NONE, json!({"question": question}))
        } else {
            self.t(
                lang,
                k::STEP5_INTRO,
                json!({"question": question, "count": found.len().min(SHOWN)}),
            )
        })
        .titled(self.text.plain(lang, k::STEP5_TITLE));
        for (round, c, answers) in found.into_iter().take(SHOWN) {
            let heading = self.t(
                lang,
                k::STEP5_HEADING,
                json!({
                    "name": academy.name_elsewhere(self, lang, c),
                    "date": round.revealed_at.map(|d| crate::time::date(lang, self.zone_of(c), d)),
                    "count": answers.len(),
                }),
            );
            let body: Vec<String> = answers.iter().map(|a| format!("• {}", a.text)).collect();
            reply = reply.section(heading, body.join("\n"));
        }
        Ok(reply)
    }
}
