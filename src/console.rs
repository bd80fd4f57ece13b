//! The local console: the academy in a terminal, on a local database, with the same commands the
//! Discord bot offers, typed as slash commands. It is a thin adapter: it parses lines into
//! requests, hands them to the engine, and prints the replies.
//!
//! Console users are identified by name (`/as Fatima role:moderator`); a name always maps to the
//! same user id, so their answers and lessons are theirs again next time. The console starts in
//! one collaboration channel; `/kanaal NAME [server:NAME]` moves to another (on another server),
//! so learning across collaborations can be tried without Discord.

use crate::commands;
use crate::domain::{Actor, ChannelId, Lang, Role, ServerId, UserId};
use crate::engine::{Ctx, Engine, Failure};
use crate::reply::{Action, Reply, Visibility};
use crate::text::keys as k;
use anyhow::{Context, Result};
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// The console is one channel.
pub const CONSOLE_CHANNEL: ChannelId = ChannelId(1);

/// A stable id for a console name: FNV-1a over the lowercased name, never zero.
pub fn user_id_for(name: &str) -> UserId {
    UserId(crate::domain::fnv1a(name.trim().to_lowercase().as_bytes()).max(2))
}

/// A stable id for another console channel (`/kanaal Noord`), never the console's own.
pub fn channel_id_for(name: &str) -> ChannelId {
    let key = format!("channel:{}", name.trim().to_lowercase());
    ChannelId(crate::domain::fnv1a(key.as_bytes()).max(2))
}

/// A stable id for a server the console plays (`/kanaal Noord server:Provincie`).
pub fn server_id_for(name: &str) -> ServerId {
    let key = format!("server:{}", name.trim().to_lowercase());
    ServerId(crate::domain::fnv1a(key.as_bytes()).max(1))
}

pub struct Console<'a> {
    engine: &'a Engine,
    actor: Actor,
    /// The channel acted in (`/kanaal` moves), and its server (none: the console's own).
    channel: ChannelId,
    server: Option<ServerId>,
    /// Names of the channels visited, to say where a message goes.
    channels: HashMap<ChannelId, String>,
    /// Roles and languages chosen per name in this session.
    people: HashMap<UserId, Actor>,
    export_dir: PathBuf,
}

impl std::fmt::Debug for Console<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl<'a> Console<'a> {
    pub fn new(
        engine: &'a Engine,
        name: &str,
        role: Role,
        lang: Lang,
        export_dir: PathBuf,
    ) -> Console<'a> {
        let actor = Actor {
            id: user_id_for(name),
            name: name.trim().to_owned(),
            lang,
            role,
        };
        let mut people = HashMap::new();
        people.insert(actor.id, actor.clone());
        Console {
            engine,
            actor,
            channel: CONSOLE_CHANNEL,
            server: None,
            channels: HashMap::new(),
            people,
            export_dir,
        }
    }

    fn role_name(&self, role: Role) -> String {
        let key = match role {
            Role::Member => k::ROLE_MEMBER,
            Role::Moderator => k::ROLE_MODERATOR,
            Role::Admin => k::ROLE_ADMIN,
        };
        self.engine.catalog().plain(self.actor.lang, key)
    }

    fn say(&self, key: &str, data: serde_json::Value) -> String {
        self.engine.catalog().render(self.actor.lang, key, &data)
    }

    /// Reads commands until end of input or `/quit`, printing every reply.
    pub fn run(
        &mut self,
        input: impl BufRead,
        out: &mut dyn Write,
        interactive: bool,
    ) -> Result<()> {
        writeln!(
            out,
            "{}\n",
            self.say(
                k::CONSOLE_WELCOME,
                json!({"name": self.actor.name, "role": self.role_name(self.actor.role)})
            )
        )?;
        if let Some(report) = self.engine.seed_library_if_empty()? {
            writeln!(
                out,
                "{}\n",
                self.say(k::CONSOLE_LIBRARY_SEEDED, json!({"count": report.added}))
            )?;
        }
        if interactive {
            write!(out, "{}> ", self.actor.name)?;
            out.flush()?;
        }
        self.run_scheduled(out)?;
        for line in input.lines() {
            let line = line.context("cannot read the console input")?;
            if !self.handle_line(&line, out)? {
                break;
            }
            self.run_scheduled(out)?;
            if interactive {
                write!(out, "{}> ", self.actor.name)?;
                out.flush()?;
            }
        }
        Ok(())
    }

    /// Runs what fell due (a deadline, a reminder) and prints what the academy says on its own:
    /// channel messages as such, direct messages addressed to their person.
    pub fn run_scheduled(&mut self, out: &mut dyn Write) -> Result<()> {
        if let Err(e) = self.engine.run_due() {
            tracing::error!("scheduled work failed: {e}");
        }
        let waiting = match self.engine.outbox() {
            Ok(w) => w,
            Err(e) => {
                tracing::error!("cannot read the outbox: {e}");
                return Ok(());
            }
        };
        for message in waiting {
            match message.to {
                crate::engine::Recipient::Channel(c) => {
                    if c != self.channel {
                        // The console's own channel has no name of its own.
                        let name = match self.channels.get(&c) {
                            Some(name) => Some(name.clone()),
                            None if c == CONSOLE_CHANNEL => None,
                            None => Some(format!("#{}", c.0)),
                        };
                        writeln!(
                            out,
                            "\n→ {}",
                            self.say(k::CHANNELS_POSTED_IN, json!({"name": name}))
                        )?;
                    }
                    self.print_reply(&message.reply, out)?
                }
                crate::engine::Recipient::Event(_) => {
                    writeln!(out, "\n→ {}", self.say(k::CHANNELS_EVENT, json!({})))?;
                    self.print_reply(&message.reply, out)?
                }
                crate::engine::Recipient::User(user) => {
                    let to = self
                        .people
                        .get(&user)
                        .map(|a| a.name.clone())
                        .unwrap_or_else(|| format!("#{}", user.0));
                    writeln!(
                        out,
                        "\n✉ {}",
                        self.say(
                            k::CONSOLE_NOTICE,
                            json!({"to": to, "text": message.reply.body})
                        )
                    )?;
                }
            }
            if let Err(e) = self.engine.delivered(message.id) {
                tracing::error!("cannot clear a delivered message: {e}");
            }
        }
        Ok(())
    }

    /// Handles one typed line; returns false when the user asked to stop.
    pub fn handle_line(&mut self, line: &str, out: &mut dyn Write) -> Result<bool> {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return Ok(true);
        }
        let body = trimmed.trim_start_matches('/');
        let first = body.split_whitespace().next().unwrap_or("").to_lowercase();
        match first.as_str() {
            "quit" | "exit" | "stop" => return Ok(false),
            "as" | "als" => {
                self.switch_user(body[first.len()..].trim(), out)?;
                return Ok(true);
            }
            "channel" | "kanaal" => {
                self.switch_channel(body[first.len()..].trim(), out)?;
                return Ok(true);
            }
            _ => {}
        }
        let lang = self.actor.lang;
        let catalog = self.engine.catalog();
        let parsed = commands::parse_line(catalog, lang, body).and_then(|(spec, values)| {
            commands::to_request(
                catalog,
                lang,
                spec,
                &values,
                Some(self.channel),
                chrono::Utc::now(),
            )
        });
        let request = match parsed {
            Ok(r) => r,
            Err(refusal) => {
                writeln!(out, "⚠ {}\n", refusal.text)?;
                return Ok(true);
            }
        };
        let is_help = request == crate::engine::Request::Help;
        let ctx = Ctx {
            actor: self.actor.clone(),
            channel: Some(self.channel),
            server: self.server,
        };
        match self.engine.handle(&ctx, request) {
            Ok(reply) => {
                self.print_reply(&reply, out)?;
                if is_help {
                    writeln!(out, "{}", self.say(k::CONSOLE_HELP, json!({})))?;
                    writeln!(out, "{}\n", self.say(k::CHANNELS_HELP, json!({})))?;
                }
            }
            Err(Failure::Refused(r)) => writeln!(out, "⚠ {}\n", r.text)?,
            Err(Failure::Internal(e)) => {
                tracing::error!(error = format!("{e:#}"), "request failed");
                writeln!(out, "⚠ {}\n", self.engine.internal_error_text(lang))?;
            }
        }
        Ok(true)
    }

    fn switch_user(&mut self, args: &str, out: &mut dyn Write) -> Result<()> {
        // `/as NAME [role:…] [lang:…]`: words with an option prefix are options, the rest is the name.
        let mut name_words = Vec::new();
        let mut role = None;
        let mut lang = None;
        let mut valid = true;
        for word in args.split_whitespace() {
            let lower = word.to_lowercase();
            let value = |prefixes: &[&str]| {
                prefixes
                    .iter()
                    .find_map(|p| lower.strip_prefix(p))
                    .map(str::to_owned)
            };
            if let Some(v) = value(&["role:", "rol:"]) {
                role = Role::parse_user(&v);
                valid &= role.is_some();
            } else if let Some(v) = value(&["lang:", "taal:"]) {
                lang = Lang::parse_user(&v);
                valid &= lang.is_some();
            } else {
                name_words.push(word);
            }
        }
        let name = name_words.join(" ");
        if !valid || name.is_empty() || name.chars().count() > crate::engine::limits::NAME {
            writeln!(out, "⚠ {}\n", self.say(k::CONSOLE_BAD_AS, json!({})))?;
            return Ok(());
        }
        let id = user_id_for(&name);
        let known = self.people.get(&id);
        // A known person keeps their role and language unless new ones are given.
        let actor = Actor {
            id,
            name,
            role: role.or(known.map(|a| a.role)).unwrap_or(Role::Member),
            lang: lang.or(known.map(|a| a.lang)).unwrap_or(self.actor.lang),
        };
        self.people.insert(id, actor.clone());
        self.actor = actor;
        writeln!(
            out,
            "{}\n",
            self.say(
                k::CONSOLE_ACTING_AS,
                json!({"name": self.actor.name, "role": self.role_name(self.actor.role)})
            )
        )?;
        Ok(())
    }

    /// `/kanaal NAME [server:NAME]`: acts in another channel from now on, so several
    /// collaborations (on several servers) can be tried in one console. No name: back to the
    /// console's own channel.
    fn switch_channel(&mut self, args: &str, out: &mut dyn Write) -> Result<()> {
        let mut name_words = Vec::new();
        let mut server = None;
        for word in args.split_whitespace() {
            let lower = word.to_lowercase();
            match lower.strip_prefix("server:") {
                Some(v) if !v.is_empty() => server = Some(v.to_owned()),
                Some(_) => {
                    writeln!(out, "⚠ {}\n", self.say(k::CHANNELS_BAD, json!({})))?;
                    return Ok(());
                }
                None => name_words.push(word),
            }
        }
        let name = name_words.join(" ");
        if name.chars().count() > crate::engine::limits::NAME
            || (name.is_empty() && server.is_some())
        {
            writeln!(out, "⚠ {}\n", self.say(k::CHANNELS_BAD, json!({})))?;
            return Ok(());
        }
        if name.is_empty() {
            self.channel = CONSOLE_CHANNEL;
            self.server = None;
        } else {
            self.channel = channel_id_for(&name);
            self.server = server.as_deref().map(server_id_for);
            self.channels.insert(self.channel, name.clone());
        }
        let shown = (!name.is_empty()).then_some(name);
        writeln!(
            out,
            "{}\n",
            self.say(
                k::CHANNELS_SWITCHED,
                json!({"name": shown, "server": server})
            )
        )?;
        Ok(())
    }

    fn command_for(&self, action: &Action) -> String {
        let nl = self.actor.lang == Lang::Nl;
        let pick = |en: &str, nlc: &str| if nl { nlc.to_owned() } else { en.to_owned() };
        match action {
            Action::Answer(_) => pick("/answer submit text:…", "/antwoord geven tekst:…"),
            Action::RevealRound(_) => pick("/round reveal", "/ronde onthullen"),
            Action::CloseRound(_) => pick("/round close", "/ronde sluiten"),
            Action::ShowLesson(id) => pick(
                &format!("/lesson show id:{id}"),
                &format!("/les tonen id:{id}"),
            ),
            Action::Approve(id) => pick(
                &format!("/review approve id:{id}"),
                &format!("/beoordeling goedkeuren id:{id}"),
            ),
            Action::Reject(id) => pick(
                &format!("/review reject id:{id} reason:…"),
                &format!("/beoordeling afwijzen id:{id} reden:…"),
            ),
            Action::Feature(id) => pick(
                &format!("/review feature id:{id}"),
                &format!("/beoordeling uitlichten id:{id}"),
            ),
            Action::EditLesson(id) => pick(
                &format!("/lesson edit id:{id} …"),
                &format!("/les bewerken id:{id} …"),
            ),
            Action::SearchPage(q) => {
                let mut cmd = pick("/lesson search", "/les zoeken");
                if let Some(t) = &q.text {
                    cmd.push_str(&format!(" {}:{t}", if nl { "tekst" } else { "text" }));
                }
                cmd.push_str(&format!(
                    " {}:{}",
                    if nl { "pagina" } else { "page" },
                    q.page + 1
                ));
                cmd
            }
            Action::Vote(_, p) => pick(
                &format!("/vote perspective:{}", p.key()),
                &format!("/stem perspectief:{}", p.key()),
            ),
            Action::Place(y, l) => {
                let (much, little) = if nl {
                    ("veel", "weinig")
                } else {
                    ("much", "little")
                };
                let amount = |b: bool| if b { much } else { little };
                pick(
                    &format!("/doing place yield:{} lessons:{}", amount(*y), amount(*l)),
                    &format!(
                        "/doenleren plaatsen opbrengst:{} lessen:{}",
                        amount(*y),
                        amount(*l)
                    ),
                )
            }
            Action::Applied(id) => pick(
                &format!("/lesson applied id:{id} note:…"),
                &format!("/les toegepast id:{id} notitie:…"),
            ),
            Action::PublishDigest(id) => pick(
                &format!("/digest publish id:{id}"),
                &format!("/digest publiceren id:{id}"),
            ),
            Action::ConfirmDelete => pick(
                "/mydata delete confirm:yes",
                "/mijngegevens verwijderen bevestig:ja",
            ),
            Action::TakeLesson(id) => pick(
                &format!("/digest take id:{id}"),
                &format!("/digest overnemen id:{id}"),
            ),
            Action::AnswerQuestion(id) => pick(
                &format!("/question answer id:{id} text:…"),
                &format!("/vraag beantwoorden id:{id} tekst:…"),
            ),
            Action::ShowQuestion(id) => pick(
                &format!("/question show id:{id}"),
                &format!("/vraag tonen id:{id}"),
            ),
            Action::Helpful(id, n) => pick(
                &format!("/question helped id:{id} answer:{n}"),
                &format!("/vraag geholpen id:{id} antwoord:{n}"),
            ),
            Action::Consent(id, yes) => pick(
                &format!(
                    "/question consent id:{id} agree:{}",
                    if *yes { "yes" } else { "no" }
                ),
                &format!(
                    "/vraag toestemming id:{id} akkoord:{}",
                    if *yes { "ja" } else { "nee" }
                ),
            ),
            Action::JoinMeeting(id) => pick(
                &format!("/meeting join id:{id}"),
                &format!("/bijeenkomst aanmelden id:{id}"),
            ),
            Action::ShowAgenda(id) => pick(
                &format!("/meeting agenda id:{id}"),
                &format!("/bijeenkomst agenda id:{id}"),
            ),
            Action::AskMeetingLessons(id) => pick(
                &format!("/meeting lessons id:{id}"),
                &format!("/bijeenkomst lessen id:{id}"),
            ),
            Action::ShareFromMeeting(id) => {
                let tag = crate::engine::meeting_tag(*id);
                pick(
                    &format!("/lesson share title:… happened:… lesson:… order:first tags:{tag}"),
                    &format!("/les delen titel:… gebeurd:… les:… orde:eerste tags:{tag}"),
                )
            }
        }
    }

    fn print_reply(&self, reply: &Reply, out: &mut dyn Write) -> Result<()> {
        let place = match reply.visibility {
            Visibility::Private => self.say(k::CONSOLE_PRIVATE, json!({})),
            Visibility::Channel => self.say(k::CONSOLE_CHANNEL, json!({})),
        };
        match &reply.title {
            Some(t) => writeln!(out, "── {t}  [{place}]")?,
            None => writeln!(out, "── [{place}]")?,
        }
        if !reply.body.is_empty() {
            writeln!(out, "{}", reply.body)?;
        }
        for s in &reply.sections {
            writeln!(out, "\n  ▸ {}", s.heading)?;
            for line in s.body.lines() {
                writeln!(out, "    {line}")?;
            }
        }
        if !reply.choices.is_empty() {
            writeln!(out, "\n{}:", self.say(k::CONSOLE_CHOICES, json!({})))?;
            for c in &reply.choices {
                writeln!(out, "  [{}]  {}", c.label, self.command_for(&c.action))?;
            }
        }
        for n in &reply.notices {
            let to = self
                .people
                .get(&n.to)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| format!("#{}", n.to.0));
            writeln!(
                out,
                "\n✉ {}",
                self.say(k::CONSOLE_NOTICE, json!({"to": to, "text": n.text}))
            )?;
        }
        for a in &reply.attachments {
            std::fs::create_dir_all(&self.export_dir).with_context(|| {
                format!(
                    "cannot create the export folder {}",
                    self.export_dir.display()
                )
            })?;
            let path = self.export_dir.join(&a.filename);
            std::fs::write(&path, &a.bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(
                out,
                "{}",
                self.say(
                    k::CONSOLE_ATTACHMENT_SAVED,
                    json!({"path": path.display().to_string()})
                )
            )?;
        }
        writeln!(out)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_stable_ids() {
        assert_eq!(user_id_for("Fatima"), user_id_for(" fatima "));
        assert_ne!(user_id_for("Fatima"), user_id_for("Joost"));
    }
}
