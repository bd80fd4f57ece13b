//! Doing and learning (figure 2): members place the collaboration on the yield/lessons 2×2 —
//! little or much yield, few or many lessons — when a moderator asks; the result is shown as the
//! figure and kept, so the group sees how it moves over time.

use super::{clean_line, encode, limits, Ctx, Engine, Outcome};
use crate::domain::*;
use crate::reply::{Action, Reply};
use crate::search::time_key;
use crate::store::{Batch, Tree};
use crate::text::keys as k;
use chrono::{Datelike, Duration};
use serde_json::json;
use std::collections::BTreeMap;

/// The cell of figure 2, in the figure's order: little_few, little_many, much_few, much_many.
pub fn cell(much_yield: bool, many_lessons: bool) -> usize {
    usize::from(much_yield) * 2 + usize::from(many_lessons)
}

/// How long a placement counts as current.
const CURRENT_DAYS: i64 = 90;

impl Engine {
    pub(super) fn place(&self, ctx: &Ctx, much_yield: bool, many_lessons: bool) -> Outcome {
        let lang = ctx.actor.lang;
        let guard = self.lock();
        let collab = self.require_collaboration(ctx)?;
        let p = Placement {
            channel: collab.channel,
            user: ctx.actor.id,
            name: clean_line(&ctx.actor.name)
                .chars()
                .take(limits::NAME)
                .collect(),
            much_yield,
            many_lessons,
            at: self.now(),
        };
        let mut batch = Batch::new();
        batch.put(
            Tree::Placements,
            [
                collab.channel.key().as_slice(),
                &time_key(p.at),
                &ctx.actor.id.key(),
            ]
            .concat(),
            encode(&p)?,
        );
        self.commit_unlocking(guard, batch)?;
        let cells = &self.text.academy(lang).doing_learning.cells;
        let text = [
            &cells.little_few,
            &cells.little_many,
            &cells.much_few,
            &cells.much_many,
        ][cell(much_yield, many_lessons)];
        Ok(Reply::private(self.t(
            lang,
            k::DOING_SAVED,
            json!({"cell": text}),
        )))
    }

    /// A moderator asks the group to place the collaboration: one message, four buttons.
    pub(super) fn ask_doing_learning(&self, ctx: &Ctx) -> Outcome {
        self.require_moderator(ctx)?;
        let collab = self.require_collaboration(ctx)?;
        let lang = collab.lang;
        let dl = &self.text.academy(lang).doing_learning;
        let mut reply = Reply::channel(format!(
            "{}\n\n{}",
            self.text.plain(lang, k::DOING_ASK),
            dl.note
        ))
        .titled(dl.title.clone());
        let cells = [
            (&dl.cells.little_few, false, false),
            (&dl.cells.little_many, false, true),
            (&dl.cells.much_few, true, false),
            (&dl.cells.much_many, true, true),
        ];
        for (text, y, l) in cells {
            let label = text.split(':').next().unwrap_or(text).to_owned();
            reply = reply.choice(label, Action::Place(y, l));
        }
        Ok(reply)
    }

    /// Where the group placed the collaboration lately (each member's latest placement in the
    /// last 90 days), as figure 2, and how that moved per quarter.
    pub(super) fn doing_learning(&self, ctx: &Ctx) -> Outcome {
        let lang = ctx.actor.lang;
        let collab = self.require_collaboration(ctx)?;
        let all: Vec<Placement> = self.load_all(Tree::Placements, &collab.channel.key())?;
        let since = self.now() - Duration::days(CURRENT_DAYS);
        let mut latest: BTreeMap<UserId, &Placement> = BTreeMap::new();
        for p in all.iter().filter(|p| p.at >= since) {
            latest.insert(p.user, p);
        }
        let mut counts = [0u32; 4];
        for p in latest.values() {
            counts[cell(p.much_yield, p.many_lessons)] += 1;
        }
        // Per quarter: each member's last placement in it.
        let mut quarters: BTreeMap<String, BTreeMap<UserId, &Placement>> = BTreeMap::new();
        let zone = self.zone_of(&collab);
        for p in &all {
            // The quarter the collaboration was in, in its own time.
            let local = crate::time::local_date(zone, p.at);
            let q = self.t(
                lang,
                k::DOING_QUARTER,
                json!({"year": local.year(), "quarter": local.month0() / 3 + 1}),
            );
            quarters.entry(q).or_default().insert(p.user, p);
        }
        let dl = &self.text.academy(lang).doing_learning;
        let short = |s: &String| s.split(':').next().unwrap_or(s).to_owned();
        let names = [
            short(&dl.cells.little_few),
            short(&dl.cells.little_many),
            short(&dl.cells.much_few),
            short(&dl.cells.much_many),
        ];
        let history: Vec<String> = quarters
            .iter()
            .map(|(q, members)| {
                let mut c = [0u32; 4];
                for p in members.values() {
                    c[cell(p.much_yield, p.many_lessons)] += 1;
                }
                let parts: Vec<String> = names
                    .iter()
                    .zip(c)
                    .filter(|(_, n)| *n > 0)
                    .map(|(name, n)| format!("{name} {n}"))
                    .collect();
                format!("{q}: {}", parts.join(", "))
            })
            .collect();
        let mut body = self.t(
            lang,
            k::DOING_RESULT,
            json!({
                "count": latest.len(),
                "distribution": names.iter().zip(counts).filter(|(_, n)| *n > 0).map(|(name, n)| format!("{name} {n}")).collect::<Vec<_>>().join(", "),
            }),
        );
        // Where the group placed itself: the cell (or cells) most chose, as the figure marks it.
        let most = counts.iter().copied().max().unwrap_or(0);
        if most > 0 {
            let cells: Vec<&str> = names
                .iter()
                .zip(counts)
                .filter(|(_, n)| *n == most)
                .map(|(name, _)| name.as_str())
                .collect();
            body.push('\n');
            body.push_str(&self.t(
                lang,
                k::DOING_PLACED,
                json!({"cells": cells.join(", "), "tied": cells.len() > 1}),
            ));
        }
        let mut reply = Reply::private(body).titled(dl.title.clone());
        if !history.is_empty() {
            reply = reply.section(self.text.plain(lang, k::DOING_HISTORY), history.join("\n"));
        }
        let figure = crate::figures::DoingLearningFigure {
            title: dl.title.clone(),
            yield_axis: dl.yield_axis.clone(),
            lessons_axis: dl.lessons_axis.clone(),
            little: self.text.plain(lang, k::SITE_LITTLE),
            much: self.text.plain(lang, k::SITE_MUCH),
            few: self.text.plain(lang, k::SITE_FEW),
            many: self.text.plain(lang, k::SITE_MANY),
            cells: [
                dl.cells.little_few.clone(),
                dl.cells.little_many.clone(),
                dl.cells.much_few.clone(),
                dl.cells.much_many.clone(),
            ],
            counts: Some(counts),
            marks: Vec::new(),
            placed: self.text.plain(lang, k::DOING_PLACED_HERE),
        };
        self.attach_figure(
            &mut reply,
            &crate::figures::doing_learning_svg(&figure),
            format!("{}.png", self.text.plain(lang, k::DOING_FILE)),
        );
        Ok(reply)
    }
}
