//! The local console: the academy in a terminal, on a local database, with the same commands the
//! Discord bot offers, typed as slash commands. It is a thin adapter: it parses lines into
//! requests, hands them to the engine, and prints the replies.
//!
//! Console users are identified by name (`/as Fatima role:moderator`); a name always maps to the
//! same user id, so their answers and lessons are theirs again next time. The console is one
//! collaboration channel.

use crate::commands;
use crate::domain::{Actor, ChannelId, Lang, Role, UserId};
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

pub struct Console<'a> {
    engine: &'a Engine,
    actor: Actor,
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
                crate::engine::Recipient::Channel(_) => self.print_reply(&message.reply, out)?,
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
                Some(CONSOLE_CHANNEL),
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
            channel: Some(CONSOLE_CHANNEL),
        };
        match self.engine.handle(&ctx, request) {
            Ok(reply) => {
                self.print_reply(&reply, out)?;
                if is_help {
                    writeln!(out, "{}\n", self.say(k::CONSOLE_HELP, json!({})))?;
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
        // A known person keeps their role and language unless new ones are given: known in
        // this session, or from an earlier one (the academy remembers what `/als` gave them).
        let (known_role, known_lang) = match self.people.get(&id) {
            Some(a) => (Some(a.role), Some(a.lang)),
            None => self.engine.console_person(id).unwrap_or_else(|e| {
                tracing::error!("cannot read who {name} was: {e}");
                (None, None)
            }),
        };
        if role.is_some() || lang.is_some() {
            if let Err(e) = self.engine.remember_console_person(id, &name, role, lang) {
                tracing::error!("cannot remember {name}'s role: {e}");
            }
        }
        let actor = Actor {
            id,
            name,
            role: role.or(known_role).unwrap_or(Role::Member),
            lang: lang.or(known_lang).unwrap_or(self.actor.lang),
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

    /// The command that does what a button would, in the actor's language, from the command
    /// table (so it is always a command that exists, and the one meant for who sees it).
    fn command_for(&self, action: &Action) -> String {
        let lang = self.actor.lang;
        let cmd = |id: &str, options: &[(&str, &str)]| commands::invocation(id, lang, options);
        let id = |l: &crate::domain::LessonId| l.to_string();
        match action {
            Action::Answer(_) => cmd("answer submit", &[("text", "")]),
            Action::RevealRound(_) => cmd("moderator round reveal", &[]),
            Action::CloseRound(_) => cmd("moderator round close", &[]),
            Action::ShowLesson(l) => cmd("lesson show", &[("id", &id(l))]),
            Action::Approve(l) => cmd("moderator review approve", &[("id", &id(l))]),
            Action::Reject(l) => cmd("moderator review reject", &[("id", &id(l)), ("reason", "")]),
            Action::Feature(l) => cmd("moderator review feature", &[("id", &id(l))]),
            Action::EditLesson(l) => format!("{} …", cmd("lesson edit", &[("id", &id(l))])),
            Action::ReviewEdit(l) => {
                format!("{} …", cmd("moderator review edit", &[("id", &id(l))]))
            }
            Action::ReviewPage(page) => cmd(
                "moderator review queue",
                &[("page", &(page + 1).to_string())],
            ),
            Action::AuditPage(page) => cmd("moderator audit", &[("page", &(page + 1).to_string())]),
            Action::SearchPage(q) => {
                let page = (q.page + 1).to_string();
                match &q.text {
                    Some(t) => cmd("lesson search", &[("text", t), ("page", &page)]),
                    None => cmd("lesson search", &[("page", &page)]),
                }
            }
            Action::Vote(_, p) => cmd("vote", &[("perspective", p.key())]),
            Action::Place(y, l) => {
                let amount = |b: bool| match (b, lang) {
                    (true, Lang::Nl) => "veel",
                    (false, Lang::Nl) => "weinig",
                    (true, Lang::En) => "much",
                    (false, Lang::En) => "little",
                };
                cmd(
                    "doing place",
                    &[("yield", amount(*y)), ("lessons", amount(*l))],
                )
            }
            Action::Applied(l) => cmd("lesson applied", &[("id", &id(l)), ("note", "")]),
            Action::PublishDigest(d) => cmd("moderator digest publish", &[("id", &d.to_string())]),
            Action::ConfirmDelete => cmd(
                "mydata delete",
                &[("confirm", if lang == Lang::Nl { "ja" } else { "yes" })],
            ),
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
