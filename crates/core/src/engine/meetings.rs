//! Learning meetings — the academy "virtueel, maar ook fysiek": a moderator plans a meeting at
//! a time, in a voice channel or at an address, and the academy proposes its agenda from the
//! collaboration's recent lessons, its open questions and where the last reveal left the group
//! apart. Members say they will come. In Discord the meeting becomes a scheduled event of the
//! server; in the site, a page. When it is over, the channel gets the one button with which a
//! moderator asks the group for the meeting's lessons.
//!
//! A meeting's time is typed and shown as every time in the academy: in the collaboration's
//! zone (Europe/Amsterdam unless it chose another), in the Dutch forms `crate::time` reads.

use super::shared::Viewer;
use super::{clean_line, encode, limits, Ctx, Engine, Failure, Outcome, Recipient};
use crate::domain::*;
use crate::meter;
use crate::reply::{Action, Reply};
use crate::search::{self, SearchQuery};
use crate::site::{AgendaItem, MeetingPage};
use crate::store::{Batch, Tree};
use crate::text::keys as k;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// How long a meeting lasts when the moderator does not say.
const DEFAULT_MINUTES: u32 = 120;
const MIN_MINUTES: u32 = 15;
const MAX_MINUTES: u32 = 12 * 60;
/// What an agenda proposes at most, per kind.
const AGENDA_LESSONS: usize = 5;
const AGENDA_QUESTIONS: usize = 5;
const AGENDA_THEMES: usize = 10;
/// Discord's limits on a scheduled event.
const EVENT_NAME: usize = 100;
const EVENT_DESCRIPTION: usize = 1000;

fn signup_key(meeting: MeetingId, user: UserId) -> Vec<u8> {
    [meeting.key(), user.key()].concat()
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// What an adapter needs to put a meeting in the server's calendar (a Discord scheduled event).
#[derive(Clone, Debug, PartialEq)]
pub struct EventPlan {
    pub server: ServerId,
    pub meeting: MeetingId,
    /// At most 100 characters.
    pub name: String,
    /// At most 1,000 characters: the agenda.
    pub description: String,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    pub place: MeetingPlace,
}

impl Engine {
    fn meeting(&self, lang: Lang, id: MeetingId) -> Result<Meeting, Failure> {
        self.load::<Meeting>(Tree::Meetings, &id.key())?
            .ok_or_else(|| self.refuse(lang, k::MEETING_NOT_FOUND, json!({"id": id.to_string()})))
    }

    /// A meeting of the collaboration acted in; another's is, here, not there.
    fn own_meeting(&self, ctx: &Ctx, id: MeetingId) -> Result<Meeting, Failure> {
        // A meeting belongs to a collaboration's channel: outside one, there is none to find.
        self.require_channel(ctx)?;
        let m = self.meeting(ctx.actor.lang, id)?;
        if ctx.channel != Some(m.channel) {
            return Err(self.refuse(
                ctx.actor.lang,
                k::MEETING_NOT_FOUND,
                json!({"id": id.to_string()}),
            ));
        }
        Ok(m)
    }

    fn sign_ups(&self, id: MeetingId) -> Result<Vec<SignUp>, Failure> {
        let mut list: Vec<SignUp> = self.load_all(Tree::SignUps, &id.key())?;
        list.sort_by_key(|s| s.at);
        Ok(list)
    }

    /// What the academy proposes for a meeting of `c`: its newest approved lessons, its open
    /// questions, and the themes of its last reveal that only one person raised.
    fn propose_agenda(&self, c: &Collaboration) -> Result<Agenda, Failure> {
        let lessons = search::find(
            self.store.as_ref(),
            &SearchQuery {
                channel: Some(c.channel),
                ..SearchQuery::default()
            },
        )?
        .into_iter()
        .take(AGENDA_LESSONS)
        .collect();
        let academy = self.academy()?;
        let viewer = Viewer::collaboration(c);
        let mut questions: Vec<Question> = self
            .load_all::<Question>(Tree::Questions, &[])?
            .into_iter()
            .filter(|q| {
                q.asker.is_some()
                    && q.harvest.as_ref().is_none_or(|h| h.lesson.is_none())
                    && Self::question_reaches(&academy, q, &viewer)
            })
            .collect();
        // The collaboration's own questions first, then the newest.
        questions.sort_by_key(|q| (q.channel != c.channel, std::cmp::Reverse(q.id)));
        let questions = questions
            .into_iter()
            .take(AGENDA_QUESTIONS)
            .map(|q| q.id)
            .collect();
        Ok(Agenda {
            lessons,
            questions,
            reveal: self.last_reveal_apart(c)?,
        })
    }

    /// Where the last revealed step-1 round of `c` left the group apart: the agreement its
    /// reveal showed, and the key terms only one person used — without saying who. Only step 1
    /// is measured at its reveal, so only step 1 is summed up here.
    fn last_reveal_apart(&self, c: &Collaboration) -> Result<Option<AgendaReveal>, Failure> {
        let keys = self
            .store
            .scan_prefix(Tree::RoundsByChannel, &c.channel.key())?;
        for (key, _) in keys.iter().rev() {
            let Some(id) = key.get(8..).and_then(RoundId::from_key) else {
                continue;
            };
            let Some(round) = self.load::<Round>(Tree::Rounds, &id.key())? else {
                continue;
            };
            if round.revealed_at.is_none() || round.step != Step::Issue {
                continue;
            }
            let answers = self.answers(round.id)?;
            let m = meter::agreement(&super::rounds::named(&answers), c.lang);
            // Only words that were compared are one person's own: with answers that were not
            // (one answer, or each alone in its language) the reveal lists none either. (A word
            // written in answers of both languages is in nobody's list: see the meter.)
            let compared = if m.score.is_some() {
                &m.unique[..]
            } else {
                &[]
            };
            let mut apart: Vec<String> = Vec::new();
            for u in compared {
                for t in &u.terms {
                    if !apart.contains(&t.display) && apart.len() < AGENDA_THEMES {
                        apart.push(t.display.clone());
                    }
                }
            }
            let agreement = round
                .meter
                .as_ref()
                .and_then(|f| f.score)
                .or(m.score)
                .map(|s| (s * 100.0).round() as u32);
            return Ok(Some(AgendaReveal {
                round: round.id,
                step: round.step,
                agreement,
                apart,
            }));
        }
        Ok(None)
    }

    /// A meeting as it reads now, in `lang`: the agenda's lessons as they are (an anonymous
    /// one without its author; one no longer public left out) and its questions still there.
    /// `site`: for the site, where a voice channel cannot be linked.
    fn meeting_page(&self, m: &Meeting, lang: Lang, site: bool) -> Result<MeetingPage, Failure> {
        let collab = self.load::<Collaboration>(Tree::Collaborations, &m.channel.key())?;
        let mut lessons = Vec::new();
        for id in &m.agenda.lessons {
            let Some(l) = self
                .load::<Lesson>(Tree::Lessons, &id.key())?
                .filter(Lesson::is_public)
            else {
                continue;
            };
            let anonymous = l.attribution == Attribution::Anonymous && l.key.is_none();
            lessons.push(AgendaItem {
                id: l.id.to_string(),
                title: l.text_for(lang).title.clone(),
                by: (!anonymous).then(|| self.attribution(lang, &l)),
            });
        }
        let mut questions = Vec::new();
        for id in &m.agenda.questions {
            if let Some(q) = self
                .load::<Question>(Tree::Questions, &id.key())?
                .filter(|q| q.asker.is_some())
            {
                questions.push(AgendaItem {
                    id: q.id.to_string(),
                    title: super::questions::headline(&q.text),
                    by: None,
                });
            }
        }
        let reveal = m.agenda.reveal.as_ref().map(|r| crate::site::AgendaReveal {
            summary: self.t(
                lang,
                k::MEETING_REVEAL_SUMMARY,
                json!({
                    "round": r.round.to_string(),
                    "step": self.step_label(lang, r.step),
                    "agreement": r.agreement.map(|a| a.to_string()),
                    "themes": !r.apart.is_empty(),
                }),
            ),
            apart: r.apart.clone(),
        });
        Ok(MeetingPage {
            lang,
            id: m.id.to_string(),
            title: m.title.clone(),
            task: collab.filter(|c| c.sharing.name).map(|c| c.task),
            when: self.meeting_time(lang, m),
            place: self.place_text(lang, &m.place, site),
            lessons,
            questions,
            reveal,
        })
    }

    fn place_text(&self, lang: Lang, place: &MeetingPlace, site: bool) -> String {
        match place {
            MeetingPlace::Voice(_) if site => self.text.plain(lang, k::MEETING_ONLINE),
            MeetingPlace::Voice(c) => {
                self.t(lang, k::MEETING_VOICE, json!({"channel": c.0.to_string()}))
            }
            MeetingPlace::Address(a) => a.clone(),
        }
    }

    /// The agenda as chat text.
    fn agenda_text(&self, lang: Lang, page: &MeetingPage) -> String {
        let lessons: Vec<String> = page
            .lessons
            .iter()
            .map(|l| match &l.by {
                Some(by) => format!("{} · {} — {by}", l.id, l.title),
                None => format!("{} · {}", l.id, l.title),
            })
            .collect();
        let questions: Vec<String> = page
            .questions
            .iter()
            .map(|q| format!("{} · {}", q.id, q.title))
            .collect();
        self.t(
            lang,
            k::MEETING_AGENDA,
            json!({
                "lessons": lessons,
                "questions": questions,
                "reveal": page.reveal.as_ref().map(|r| r.summary.clone()),
                "apart": page.reveal.as_ref().map(|r| r.apart.join(", ")).filter(|a| !a.is_empty()),
            }),
        )
    }

    /// A meeting as the channel sees it: when, where, the agenda and who comes, with the
    /// button that signs up (pressed again, off).
    fn meeting_reply(&self, lang: Lang, m: &Meeting) -> Result<Reply, Failure> {
        self.meeting_view(lang, m, None)
    }

    /// A meeting as `viewer` sees it for themselves: who already signed up is offered to sign
    /// off, not to sign up again; a meeting that is over offers neither.
    fn meeting_view(
        &self,
        lang: Lang,
        m: &Meeting,
        viewer: Option<UserId>,
    ) -> Result<Reply, Failure> {
        let page = self.meeting_page(m, lang, false)?;
        let sign_ups = self.sign_ups(m.id)?;
        let coming = sign_ups.len();
        let in_site = self.settings.site_dir.is_some() && self.meeting_in_site(m)?;
        let over = viewer.is_some() && m.ends <= self.now();
        let signed_up = viewer.is_some_and(|v| sign_ups.iter().any(|s| s.user == v));
        let id = m.id.to_string();
        let (hint, button) = if over {
            let ended = json!({"id": id, "title": m.title, "coming": coming});
            (self.t(lang, k::MEETING_ENDED, ended), None)
        } else if signed_up {
            (
                self.t(lang, k::MEETING_COMING_HINT, json!({"id": id})),
                Some(k::MEETING_LEAVE_BUTTON),
            )
        } else {
            (
                self.t(lang, k::MEETING_JOIN_HINT, json!({"id": id})),
                Some(k::MEETING_JOIN_BUTTON),
            )
        };
        let body = format!(
            "{}\n\n{}\n\n{hint}",
            self.t(
                lang,
                k::MEETING_WHEN_WHERE,
                json!({
                    "when": page.when,
                    "place": page.place,
                    "coming": coming,
                    "page": in_site.then(|| format!("meetings/{}.html", m.id)),
                }),
            ),
            self.agenda_text(lang, &page),
        );
        let reply = Reply::channel(body).titled(self.t(
            lang,
            k::MEETING_TITLE,
            json!({"id": id, "title": m.title}),
        ));
        Ok(match button {
            Some(label) => reply.choice(self.text.plain(lang, label), Action::JoinMeeting(m.id)),
            None => reply,
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn meeting_plan(
        &self,
        ctx: &Ctx,
        starts: super::When,
        minutes: Option<u32>,
        title: Option<String>,
        address: Option<String>,
        voice: Option<ChannelId>,
    ) -> Outcome {
        let lang = ctx.actor.lang;
        self.require_moderator(ctx)?;
        let collab = self.require_collaboration(ctx)?;
        let starts = crate::time::resolve(starts, self.now(), self.zone_of(&collab));
        if starts <= self.now() {
            return Err(self.refuse(lang, k::MEETING_IN_PAST, json!({})));
        }
        let minutes = minutes.unwrap_or(DEFAULT_MINUTES);
        if !(MIN_MINUTES..=MAX_MINUTES).contains(&minutes) {
            return Err(self.refuse(
                lang,
                k::MEETING_BAD_LENGTH,
                json!({"min": MIN_MINUTES, "max": MAX_MINUTES}),
            ));
        }
        let address = address.map(|a| clean_line(&a)).filter(|a| !a.is_empty());
        let place = match (address, voice) {
            (Some(a), None) => {
                self.check_text(lang, k::FIELD_ADDRESS, &a, limits::ADDRESS)?;
                MeetingPlace::Address(a)
            }
            (None, Some(v)) => MeetingPlace::Voice(v),
            _ => return Err(self.refuse(lang, k::MEETING_NEEDS_PLACE, json!({}))),
        };
        let title = match title.map(|t| clean_line(&t)) {
            Some(t) => {
                self.check_text(lang, k::FIELD_TITLE, &t, EVENT_NAME)?;
                t
            }
            None => clip(
                &self.t(
                    collab.lang,
                    k::MEETING_DEFAULT_TITLE,
                    json!({"task": collab.task}),
                ),
                EVENT_NAME,
            ),
        };
        let guard = self.lock();
        let agenda = self.propose_agenda(&collab)?;
        let mut batch = Batch::new();
        let id = MeetingId(self.next_id(&mut batch, "meeting")?);
        let meeting = Meeting {
            id,
            channel: collab.channel,
            title,
            starts,
            ends: starts + Duration::minutes(i64::from(minutes)),
            place,
            planned_by: Some(ctx.actor.id),
            planned_at: self.now(),
            agenda,
            event: None,
            lessons_asked: None,
        };
        batch.put(Tree::Meetings, id.key().to_vec(), encode(&meeting)?);
        self.schedule(&mut batch, meeting.ends, super::JobKind::MeetingEnded(id))?;
        let reply = self.meeting_reply(collab.lang, &meeting)?;
        if collab.server.is_some() {
            // The server's calendar: the adapter makes the scheduled event from the plan.
            self.send_later(&mut batch, Recipient::Event(id), reply.clone())?;
        }
        self.commit(batch)?;
        // The site is written after the lock, as it follows every change.
        drop(guard);
        self.refresh_site();
        Ok(reply)
    }

    pub(super) fn meeting_agenda(&self, ctx: &Ctx, id: Option<MeetingId>) -> Outcome {
        let lang = ctx.actor.lang;
        let m = match id {
            Some(id) => self.own_meeting(ctx, id)?,
            None => {
                let collab = self.require_collaboration(ctx)?;
                let now = self.now();
                let mut mine: Vec<Meeting> = self
                    .load_all::<Meeting>(Tree::Meetings, &[])?
                    .into_iter()
                    .filter(|m| m.channel == collab.channel)
                    .collect();
                // The next one to come; else the last one held.
                mine.sort_by_key(|m| m.starts);
                let next = mine.iter().find(|m| m.ends > now).cloned();
                match next.or_else(|| mine.pop()) {
                    Some(m) => m,
                    None => return Err(self.refuse(lang, k::MEETING_NONE, json!({}))),
                }
            }
        };
        let mut reply = self.meeting_view(lang, &m, Some(ctx.actor.id))?;
        reply.visibility = crate::reply::Visibility::Private;
        Ok(reply)
    }

    /// The actor says they will come; asked again, that they no longer will.
    pub(super) fn meeting_join(&self, ctx: &Ctx, id: MeetingId) -> Outcome {
        let lang = ctx.actor.lang;
        let guard = self.lock();
        let m = self.own_meeting(ctx, id)?;
        if m.ends <= self.now() {
            return Err(self.refuse(lang, k::MEETING_OVER, json!({"id": id.to_string()})));
        }
        let key = signup_key(id, ctx.actor.id);
        let mut batch = Batch::new();
        let joining = self.load::<SignUp>(Tree::SignUps, &key)?.is_none();
        if joining {
            let s = SignUp {
                meeting: id,
                user: ctx.actor.id,
                name: clean_line(&ctx.actor.name)
                    .chars()
                    .take(limits::NAME)
                    .collect(),
                at: self.now(),
            };
            batch.put(Tree::SignUps, key, encode(&s)?);
        } else {
            batch.remove(Tree::SignUps, key);
        }
        self.commit_unlocking(guard, batch)?;
        let coming = self.sign_ups(id)?.len();
        Ok(Reply::private(self.t(
            lang,
            k::MEETING_JOINED,
            json!({
                "id": id.to_string(),
                "title": m.title,
                "when": self.meeting_time(lang, &m),
                "joining": joining,
                "coming": coming,
            }),
        )))
    }

    /// A moderator asks the group, in the channel, for what they learned at the meeting.
    pub(super) fn meeting_lessons(&self, ctx: &Ctx, id: MeetingId) -> Outcome {
        let lang = ctx.actor.lang;
        self.require_moderator(ctx)?;
        let _guard = self.lock();
        let mut m = self.own_meeting(ctx, id)?;
        if m.starts > self.now() {
            return Err(self.refuse(
                lang,
                k::MEETING_NOT_YET,
                json!({"id": id.to_string(), "when": self.meeting_time(lang, &m)}),
            ));
        }
        let collab = self.require_collaboration(ctx)?;
        m.lessons_asked = Some(self.now());
        let mut batch = Batch::new();
        batch.put(Tree::Meetings, id.key().to_vec(), encode(&m)?);
        self.commit(batch)?;
        let lang = collab.lang;
        Ok(Reply::channel(self.t(
            lang,
            k::MEETING_LESSONS_ASKED,
            json!({"id": id.to_string(), "title": m.title, "tag": meeting_tag(id)}),
        ))
        .titled(self.t(
            lang,
            k::MEETING_LESSONS_TITLE,
            json!({"id": id.to_string(), "title": m.title}),
        ))
        .choice(
            self.text.plain(lang, k::MEETING_SHARE_BUTTON),
            Action::ShareFromMeeting(id),
        ))
    }

    /// The meeting is over: the channel gets the one button with which a moderator asks the
    /// group for its lessons. (In the channel, not a direct message: rights are a server's,
    /// and a button in a direct message acts in no collaboration.)
    pub(super) fn meeting_ended(&self, batch: &mut Batch, id: MeetingId) -> Result<(), Failure> {
        let Some(m) = self.load::<Meeting>(Tree::Meetings, &id.key())? else {
            return Ok(());
        };
        if m.lessons_asked.is_some() {
            return Ok(());
        }
        let Some(collab) = self.load::<Collaboration>(Tree::Collaborations, &m.channel.key())?
        else {
            return Ok(());
        };
        let lang = collab.lang;
        let reply = Reply::channel(self.t(
            lang,
            k::MEETING_ENDED,
            json!({"id": id.to_string(), "title": m.title, "coming": self.sign_ups(id)?.len()}),
        ))
        .titled(self.t(
            lang,
            k::MEETING_TITLE,
            json!({"id": id.to_string(), "title": m.title}),
        ))
        .choice(
            self.text.plain(lang, k::MEETING_ASK_BUTTON),
            Action::AskMeetingLessons(id),
        );
        self.send_later(batch, Recipient::Channel(m.channel), reply)
    }

    /// What an adapter needs to make the meeting's scheduled event; `None` when the meeting
    /// is gone or its collaboration is on no server.
    pub fn event_plan(&self, id: MeetingId) -> Result<Option<EventPlan>, Failure> {
        let Some(m) = self.load::<Meeting>(Tree::Meetings, &id.key())? else {
            return Ok(None);
        };
        let Some(collab) = self.load::<Collaboration>(Tree::Collaborations, &m.channel.key())?
        else {
            return Ok(None);
        };
        let Some(server) = collab.server else {
            return Ok(None);
        };
        let page = self.meeting_page(&m, collab.lang, true)?;
        let description = format!(
            "{}\n\n{}",
            self.agenda_text(collab.lang, &page),
            self.t(
                collab.lang,
                k::MEETING_JOIN_HINT,
                json!({"id": id.to_string()})
            )
        );
        Ok(Some(EventPlan {
            server,
            meeting: id,
            name: clip(&m.title, EVENT_NAME),
            description: clip(&description, EVENT_DESCRIPTION),
            starts: m.starts,
            ends: m.ends,
            place: m.place.clone(),
        }))
    }

    /// Records the scheduled event the adapter made for a meeting.
    pub fn event_created(&self, id: MeetingId, event: u64) -> Result<(), Failure> {
        let _guard = self.lock();
        let Some(mut m) = self.load::<Meeting>(Tree::Meetings, &id.key())? else {
            return Ok(());
        };
        m.event = Some(event);
        let mut batch = Batch::new();
        batch.put(Tree::Meetings, id.key().to_vec(), encode(&m)?);
        self.commit(batch)
    }

    /// Whether a meeting's agenda goes into the site, which anyone may read: not for a
    /// collaboration that keeps its lessons private, whose agenda lists them.
    fn meeting_in_site(&self, m: &Meeting) -> Result<bool, Failure> {
        Ok(self
            .load::<Collaboration>(Tree::Collaborations, &m.channel.key())?
            .is_some_and(|c| c.sharing.lessons))
    }

    /// The page of every meeting that goes into the site, in its collaboration's language.
    pub(super) fn meeting_pages(&self) -> Result<Vec<MeetingPage>, Failure> {
        let mut out = Vec::new();
        for m in self.load_all::<Meeting>(Tree::Meetings, &[])? {
            if !self.meeting_in_site(&m)? {
                continue;
            }
            let lang = self
                .load::<Collaboration>(Tree::Collaborations, &m.channel.key())?
                .map_or(self.settings.default_lang, |c| c.lang);
            out.push(self.meeting_page(&m, lang, true)?);
        }
        Ok(out)
    }
}

/// The tag lessons from a meeting carry, so they can be found together (as a tag is stored:
/// folded words of two characters or more).
pub fn meeting_tag(id: MeetingId) -> String {
    format!("bijeenkomst-b{}", id.0)
}

impl Engine {
    /// A meeting's start as every reply, agenda and page shows it: in the zone of its
    /// collaboration.
    fn meeting_time(&self, lang: Lang, m: &Meeting) -> String {
        crate::time::date_time(lang, self.zone_in(Some(m.channel)), m.starts)
    }
}
