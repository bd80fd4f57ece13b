//! The local console: the academy in a terminal, on a local database, with the same commands the
//! Discord bot offers, typed as slash commands. It is a thin adapter: it parses lines into
//! requests, hands them to the engine, and prints the replies as plain text.
//!
//! Console users are identified by name (`/as Fatima role:moderator`); a name always maps to the
//! same user id, so their answers and lessons are theirs again next time. The console starts in
//! one collaboration channel; `/kanaal NAME [server:NAME]` moves to another (on another server),
//! so learning across collaborations can be tried without Discord.
//!
//! The console is live: while it waits for input, a tick runs the work that fell due (a
//! deadline's reveal, a reminder) and prints what the academy says on its own at once, not after
//! the next command. A line ending in `\` continues on the next line, and a command whose last
//! value is `"""` takes every following line up to a line holding only `"""` as that value, so
//! an answer or lesson of several paragraphs can be typed or pasted.

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
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// The console is one channel.
pub const CONSOLE_CHANNEL: ChannelId = ChannelId(1);

/// The longest line the console reads, in bytes: a lesson with every field at its limit, in
/// four-byte characters, fits. A longer line is skipped as it arrives, never held whole.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// One line of input, as far as the console is concerned.
enum Input {
    Line(String),
    /// Longer than [`MAX_LINE_BYTES`]; already skipped.
    TooLong,
    /// Not UTF-8, so not text anyone typed.
    NotText,
    End,
}

/// Reads the next line into `buf`, keeping at most [`MAX_LINE_BYTES`] of it.
fn next_line(input: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<Input> {
    buf.clear();
    // One byte more than allowed tells a line at the limit from a longer one.
    let read =
        std::io::Read::take(&mut *input, MAX_LINE_BYTES as u64 + 1).read_until(b'\n', buf)?;
    if read == 0 {
        return Ok(Input::End);
    }
    if buf.len() > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
        loop {
            let available = input.fill_buf()?;
            if available.is_empty() {
                break;
            }
            match available.iter().position(|b| *b == b'\n') {
                Some(end) => {
                    input.consume(end + 1);
                    break;
                }
                None => {
                    let all = available.len();
                    input.consume(all);
                }
            }
        }
        return Ok(Input::TooLong);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    Ok(match String::from_utf8(std::mem::take(buf)) {
        Ok(line) => Input::Line(line),
        Err(_) => Input::NotText,
    })
}

/// How often the console looks for due work while it waits for input.
pub const TICK: Duration = Duration::from_secs(1);

/// Opens and closes a block of lines typed as one value.
const BLOCK: &str = "\"\"\"";

/// Stands in for a block's text while the command line before it is parsed, so that nothing in
/// the block is read as an option. A private-use character nobody types.
const BLOCK_MARK: &str = "\u{f8ff}";

/// A stable id for a console name: FNV-1a over the lowercased name, never zero.
pub fn user_id_for(name: &str) -> UserId {
    UserId(crate::domain::fnv1a(name.trim().to_lowercase().as_bytes()).max(2))
}

/// A typed name as the console uses it: terminal escape sequences and control characters
/// removed, line breaks (`\r` too) as spaces. Empty when nothing visible is left.
pub fn clean_name(raw: &str) -> String {
    let name = crate::engine::clean_line(&strip_escapes(raw));
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if crate::engine::is_blank(&name) {
        String::new()
    } else {
        name
    }
}

/// Removes terminal escape sequences (colours, cursor moves, titles) whole, so none is echoed
/// back and no fragment such as `[31m` is left in a name.
fn strip_escapes(raw: &str) -> String {
    if !raw.contains(['\u{1b}', '\u{9b}']) {
        return raw.to_owned();
    }
    strip_ansi_escapes::strip_str(raw)
}

/// A command still being typed over several lines.
#[derive(Debug, Default)]
enum Pending {
    #[default]
    None,
    /// The lines so far ended in `\`.
    Continued(String),
    /// Inside a `"""` block: the command line before it, and the block's lines so far.
    Block { head: String, lines: Vec<String> },
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
    /// The console's own language (`--lang`): the language of a person met for the first
    /// time, whoever acted before them.
    lang: Lang,
    export_dir: PathBuf,
    pending: Pending,
}

impl std::fmt::Debug for Console<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl<'a> Console<'a> {
    /// A console acting as `name`; without a (visible) name, as the console's own name in
    /// `lang` ("Ik", "Me").
    pub fn new(
        engine: &'a Engine,
        name: Option<&str>,
        role: Role,
        lang: Lang,
        export_dir: PathBuf,
    ) -> Console<'a> {
        let name = Some(clean_name(name.unwrap_or_default()))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| engine.catalog().plain(lang, k::CONSOLE_DEFAULT_NAME));
        let actor = Actor {
            id: user_id_for(&name),
            name,
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
            lang,
            export_dir,
            pending: Pending::None,
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
        self.say_in(self.actor.lang, key, data)
    }

    fn say_in(&self, lang: Lang, key: &str, data: serde_json::Value) -> String {
        self.engine.catalog().render(lang, key, &data)
    }

    fn prompt(&self, out: &mut dyn Write) -> Result<()> {
        match self.pending {
            Pending::None => write!(out, "{}> ", self.actor.name)?,
            _ => write!(out, "…> ")?,
        }
        out.flush()?;
        Ok(())
    }

    /// Reads commands until end of input or `/stop`, printing every reply, and meanwhile
    /// prints what the academy says on its own as soon as it is due. The input is read on a
    /// thread of its own, so waiting for a line never holds up the tick.
    pub fn run(
        &mut self,
        mut input: impl BufRead + Send + 'static,
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
        self.run_scheduled(out)?;
        if interactive {
            self.prompt(out)?;
        }
        // Input is read on its own thread so that due work (a deadline reveal, a reminder) is
        // printed while nobody types.
        let (lines, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            loop {
                let read = next_line(&mut input, &mut buf);
                let end = matches!(read, Ok(Input::End) | Err(_));
                if lines.send(read).is_err() || end {
                    break;
                }
            }
        });
        let mut stopped = false;
        loop {
            match incoming.recv_timeout(TICK) {
                Ok(read) => {
                    let line = match read.context("cannot read the console input")? {
                        Input::End => break,
                        Input::Line(line) => line,
                        Input::TooLong => {
                            writeln!(
                                out,
                                "⚠ {}\n",
                                self.say(
                                    k::CONSOLE_LINE_TOO_LONG,
                                    json!({"kb": MAX_LINE_BYTES / 1024})
                                )
                            )?;
                            continue;
                        }
                        Input::NotText => {
                            writeln!(out, "⚠ {}\n", self.say(k::CONSOLE_NOT_TEXT, json!({})))?;
                            continue;
                        }
                    };
                    // What fell due since the last tick comes first, so a command typed just
                    // after a deadline already sees the round revealed.
                    self.run_scheduled(out)?;
                    if !self.handle_input(&line, out)? {
                        stopped = true;
                        break;
                    }
                    self.run_scheduled(out)?;
                    if interactive {
                        self.prompt(out)?;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    // Printed while a prompt stands: start below it, and offer it again.
                    let mut printed = Vec::new();
                    if self.run_scheduled(&mut printed)? {
                        if interactive {
                            writeln!(out)?;
                        }
                        out.write_all(&printed)?;
                        if interactive {
                            self.prompt(out)?;
                        } else {
                            out.flush()?;
                        }
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        if !stopped && !matches!(self.pending, Pending::None) {
            writeln!(out, "⚠ {}\n", self.say(k::CONSOLE_UNFINISHED, json!({})))?;
        }
        self.finish_erasures(out)
    }

    /// A deletion confirmed just before the end is erased from the files before the console
    /// exits, as its reply promised: the rewrite, the message saying so (printed, so
    /// delivered), then the rewrite that takes that message off the disk too.
    fn finish_erasures(&mut self, out: &mut dyn Write) -> Result<()> {
        for _ in 0..2 {
            self.engine.finish_erasures();
            self.run_scheduled(out)?;
        }
        // Last: the next start then writes only the pages its changes touch.
        self.engine.leave_site();
        Ok(())
    }

    /// Runs what fell due (a deadline, a reminder) and prints what the academy says on its own:
    /// channel messages as such, direct messages addressed to their person. Returns whether
    /// anything was printed.
    pub fn run_scheduled(&mut self, out: &mut dyn Write) -> Result<bool> {
        if let Err(e) = self.engine.run_due() {
            tracing::error!("scheduled work failed: {e}");
        }
        let waiting = match self.engine.outbox().waiting() {
            Ok(w) => w,
            Err(e) => {
                tracing::error!("cannot read the outbox: {e}");
                return Ok(false);
            }
        };
        let printed = !waiting.is_empty();
        for message in waiting {
            let lang = self.channel_lang();
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
                    let lang = self.channel_lang_of(c);
                    self.print_reply_in(lang, &message.reply, out)?
                }
                crate::engine::Recipient::Event(_) => {
                    writeln!(out, "\n→ {}", self.say(k::CHANNELS_EVENT, json!({})))?;
                    self.print_reply_in(lang, &message.reply, out)?
                }
                crate::engine::Recipient::User(user) => {
                    // In the language the message was written in for them.
                    let (to, to_lang) = self.recipient(user, lang);
                    let text = self.body_text(to_lang, &message.reply);
                    writeln!(
                        out,
                        "✉ {}\n",
                        self.say_in(to_lang, k::CONSOLE_NOTICE, json!({"to": to, "text": text}))
                    )?;
                }
            }
            if let Err(e) = self.engine.outbox().delivered(message.id) {
                tracing::error!("cannot clear a delivered message: {e}");
            }
        }
        Ok(printed)
    }

    /// Takes one line as typed: joins continued lines and blocks, and handles the command once
    /// it is whole. Returns false when the user asked to stop.
    pub fn handle_input(&mut self, raw: &str, out: &mut dyn Write) -> Result<bool> {
        let line = strip_escapes(raw);
        match std::mem::take(&mut self.pending) {
            Pending::Block { head, mut lines } => {
                if line.trim() == BLOCK {
                    let block = lines.join("\n");
                    return self.handle_command(&head, Some(&block), out);
                }
                lines.push(line);
                self.pending = Pending::Block { head, lines };
                Ok(true)
            }
            Pending::Continued(mut so_far) => {
                so_far.push('\n');
                so_far.push_str(&line);
                self.take_line(so_far, out)
            }
            Pending::None => self.take_line(line, out),
        }
    }

    /// A line that may end in `\` (more follows) or `"""` (a block follows).
    fn take_line(&mut self, line: String, out: &mut dyn Write) -> Result<bool> {
        let end = line.trim_end();
        if let Some(head) = end.strip_suffix('\\') {
            self.pending = Pending::Continued(head.trim_end().to_owned());
            return Ok(true);
        }
        if let Some(head) = end.strip_suffix(BLOCK) {
            if !head.trim().is_empty() {
                self.pending = Pending::Block {
                    head: head.to_owned(),
                    lines: Vec::new(),
                };
                return Ok(true);
            }
        }
        self.handle_command(&line, None, out)
    }

    /// Handles one whole command, with the text of a block as its last value; returns false
    /// when the user asked to stop.
    fn handle_command(
        &mut self,
        line: &str,
        block: Option<&str>,
        out: &mut dyn Write,
    ) -> Result<bool> {
        let trimmed = line.trim();
        if block.is_none() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            return Ok(true);
        }
        let body = trimmed.trim_start_matches('/');
        let first = body.split_whitespace().next().unwrap_or("").to_lowercase();
        match first.as_str() {
            "quit" | "exit" | "stop" if block.is_none() => return Ok(false),
            "as" | "als" if block.is_none() => {
                self.switch_user(body[first.len()..].trim(), out)?;
                return Ok(true);
            }
            "channel" | "kanaal" if block.is_none() => {
                self.switch_channel(body[first.len()..].trim(), out)?;
                return Ok(true);
            }
            _ => {}
        }
        let lang = self.actor.lang;
        let catalog = self.engine.catalog();
        // The block stands in as a mark while the line is read, then becomes the value it
        // stood for: what was pasted is taken as written, never read as options.
        let body = match block {
            Some(_) => format!("{body} {BLOCK_MARK}"),
            None => body.to_owned(),
        };
        let parsed = commands::parse_line(catalog, lang, &body).and_then(|(spec, mut values)| {
            if let Some(block) = block {
                for value in values.texts_mut() {
                    if value.contains(BLOCK_MARK) {
                        *value = value.replace(BLOCK_MARK, block).trim().to_owned();
                    }
                }
            }
            commands::to_request(catalog, lang, spec, &values, Some(self.channel))
        });
        let request = match parsed {
            Ok(r) => r,
            Err(refusal) => {
                writeln!(out, "⚠ {}\n", printable(&refusal.text))?;
                return Ok(true);
            }
        };
        let is_help = matches!(request, crate::engine::Request::Help(_));
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
            Err(Failure::Refused(r)) => writeln!(out, "⚠ {}\n", printable(&r.text))?,
            Err(Failure::Internal(e)) => {
                tracing::error!(error = format!("{e:#}"), "request failed");
                writeln!(out, "⚠ {}\n", self.engine.internal_error_text(lang))?;
            }
        }
        Ok(true)
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
        let typed = name_words.join(" ");
        let name = clean_name(&typed);
        if !valid || typed.is_empty() || name.chars().count() > crate::engine::limits::NAME {
            writeln!(out, "⚠ {}\n", self.say(k::CONSOLE_BAD_AS, json!({})))?;
            return Ok(());
        }
        if name.is_empty() {
            writeln!(out, "⚠ {}\n", self.say(k::CONSOLE_EMPTY_NAME, json!({})))?;
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
        // Remembered by name too, so a later console tells who a message is for.
        let named = self.people.contains_key(&id)
            || matches!(self.engine.known_name(id), Ok(Some((n, _))) if n == name);
        if role.is_some() || lang.is_some() || !named {
            if let Err(e) = self.engine.remember_console_person(id, &name, role, lang) {
                tracing::error!("cannot remember {name}'s role: {e}");
            }
        }
        let actor = Actor {
            id,
            name,
            role: role.or(known_role).unwrap_or(Role::Member),
            lang: lang.or(known_lang).unwrap_or(self.lang),
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

    /// Who a message is for, by name, and the language it is shown in: a person acted as in
    /// this session, else as the academy knows them (a member from an earlier session), else
    /// their number, in `lang`.
    fn recipient(&self, user: UserId, lang: Lang) -> (String, Lang) {
        if let Some(a) = self.people.get(&user) {
            return (a.name.clone(), a.lang);
        }
        match self.engine.known_name(user) {
            Ok(Some((name, known))) => (name, known.unwrap_or(lang)),
            Ok(None) => (format!("#{}", user.0), lang),
            Err(e) => {
                tracing::error!("cannot read who {} is: {e}", user.0);
                (format!("#{}", user.0), lang)
            }
        }
    }

    /// The language of what the academy posts in the console's channel: the collaboration's,
    /// or the console's own before there is one.
    fn channel_lang(&self) -> Lang {
        self.channel_lang_of(self.channel)
    }

    /// The language of what the academy posts in `channel`.
    fn channel_lang_of(&self, channel: ChannelId) -> Lang {
        match self.engine.channel_lang(channel) {
            Ok(lang) => lang.unwrap_or(self.actor.lang),
            Err(e) => {
                tracing::error!("cannot read the console's collaboration: {e}");
                self.actor.lang
            }
        }
    }

    /// The command a choice stands for, in `lang` (the language of the reply that offers it,
    /// so a label and its command never mix languages), from the command table, so it is
    /// always a command that exists.
    fn command_for(lang: Lang, action: &Action) -> String {
        use commands::{invocation, Arg, Cmd};
        let cmd = |cmd: Cmd, options: &[(&str, Arg)]| invocation(cmd, lang, options);
        let id = |id: &dyn std::fmt::Display| id.to_string();
        let page = |page: usize| Arg::Number(page as u64 + 1);
        match action {
            Action::Answer(_) => cmd(Cmd::AnswerSubmit, &[("text", Arg::Blank)]),
            Action::RevealRound(_) => cmd(Cmd::RoundReveal, &[]),
            Action::CloseRound(_) => cmd(Cmd::RoundClose, &[]),
            Action::ShowLesson(l) => cmd(Cmd::LessonShow, &[("id", Arg::Text(&id(l)))]),
            Action::Approve(l) => cmd(Cmd::ReviewApprove, &[("id", Arg::Text(&id(l)))]),
            Action::Reject(l) => cmd(
                Cmd::ReviewReject,
                &[("id", Arg::Text(&id(l))), ("reason", Arg::Blank)],
            ),
            Action::Feature(l) => cmd(Cmd::ReviewFeature, &[("id", Arg::Text(&id(l)))]),
            Action::EditLesson(l) => {
                format!("{} …", cmd(Cmd::LessonEdit, &[("id", Arg::Text(&id(l)))]))
            }
            Action::ReviewEdit(l) => {
                format!("{} …", cmd(Cmd::ReviewEdit, &[("id", Arg::Text(&id(l)))]))
            }
            Action::ReviewPage(p) => cmd(Cmd::ReviewQueue, &[("page", page(*p))]),
            Action::AuditPage(p) => cmd(Cmd::Audit, &[("page", page(*p))]),
            Action::SearchPage(q) => match &q.text {
                Some(t) => cmd(
                    Cmd::LessonSearch,
                    &[("text", Arg::Text(t)), ("page", page(q.page))],
                ),
                None => cmd(Cmd::LessonSearch, &[("page", page(q.page))]),
            },
            Action::Vote(_, p) => cmd(Cmd::Vote, &[("perspective", Arg::Perspective(*p))]),
            Action::Place(y, l) => cmd(
                Cmd::DoingPlace,
                &[("yield", Arg::Amount(*y)), ("lessons", Arg::Amount(*l))],
            ),
            Action::Applied(l) => cmd(
                Cmd::LessonApplied,
                &[("id", Arg::Text(&id(l))), ("note", Arg::Blank)],
            ),
            Action::PublishDigest(d) => cmd(Cmd::DigestPublish, &[("id", Arg::Text(&id(d)))]),
            Action::ConfirmDelete => cmd(Cmd::MyDataDelete, &[("confirm", Arg::Yes(true))]),
            Action::TakeLesson(l) => cmd(Cmd::DigestTake, &[("id", Arg::Text(&id(l)))]),
            Action::AnswerQuestion(q) => cmd(
                Cmd::QuestionAnswer,
                &[("id", Arg::Text(&id(q))), ("text", Arg::Blank)],
            ),
            Action::ShowQuestion(q) => cmd(Cmd::QuestionShow, &[("id", Arg::Text(&id(q)))]),
            Action::Helpful(q, n) => cmd(
                Cmd::QuestionHelped,
                &[
                    ("id", Arg::Text(&id(q))),
                    ("answer", Arg::Number(u64::from(*n))),
                ],
            ),
            Action::Consent(q, yes) => cmd(
                Cmd::QuestionConsent,
                &[("id", Arg::Text(&id(q))), ("agree", Arg::Yes(*yes))],
            ),
            Action::JoinMeeting(m) => cmd(Cmd::MeetingJoin, &[("id", Arg::Text(&id(m)))]),
            Action::ShowAgenda(m) => cmd(Cmd::MeetingAgenda, &[("id", Arg::Text(&id(m)))]),
            Action::AskMeetingLessons(m) => cmd(Cmd::MeetingLessons, &[("id", Arg::Text(&id(m)))]),
            Action::ShareFromMeeting(m) => {
                let tag = crate::engine::meeting_tag(*m);
                cmd(
                    Cmd::LessonShare,
                    &[
                        ("title", Arg::Blank),
                        ("happened", Arg::Blank),
                        ("lesson", Arg::Blank),
                        ("order", Arg::Order(crate::domain::Order::First)),
                        ("tags", Arg::Text(&tag)),
                    ],
                )
            }
        }
    }

    /// A reply's body as a terminal shows it: chat Markdown (a digest, a reminder) as plain
    /// text, everything else as written.
    fn body_text(&self, lang: Lang, reply: &Reply) -> String {
        if reply.chat_markdown {
            let channel = self.say_in(lang, k::CONSOLE_CHANNEL_NAME, json!({}));
            plain_text(&reply.body, &channel)
        } else {
            reply.body.clone()
        }
    }

    fn print_reply(&self, reply: &Reply, out: &mut dyn Write) -> Result<()> {
        // What the channel sees is in the channel's language; what only the actor sees, in
        // theirs.
        let lang = match reply.visibility {
            Visibility::Channel => self.channel_lang(),
            Visibility::Private => self.actor.lang,
        };
        self.print_reply_in(lang, reply, out)
    }

    fn print_reply_in(&self, lang: Lang, reply: &Reply, out: &mut dyn Write) -> Result<()> {
        let place = match reply.visibility {
            Visibility::Private => self.say_in(lang, k::CONSOLE_PRIVATE, json!({})),
            Visibility::Channel => self.say_in(lang, k::CONSOLE_CHANNEL, json!({})),
        };
        match &reply.title {
            Some(t) => writeln!(out, "── {t}  [{place}]")?,
            None => writeln!(out, "── [{place}]")?,
        }
        let body = self.body_text(lang, reply);
        if !body.is_empty() {
            writeln!(out, "{body}")?;
        }
        for s in &reply.sections {
            writeln!(out, "\n  ▸ {}", s.heading)?;
            for line in s.body.lines() {
                if line.is_empty() {
                    writeln!(out)?;
                } else {
                    writeln!(out, "    {line}")?;
                }
            }
        }
        if !reply.choices.is_empty() {
            writeln!(
                out,
                "\n{}:",
                self.say_in(lang, k::CONSOLE_CHOICES, json!({}))
            )?;
            for c in &reply.choices {
                writeln!(
                    out,
                    "  [{}]  {}",
                    c.label,
                    Self::command_for(lang, &c.action)
                )?;
            }
        }
        for n in &reply.notices {
            let (to, to_lang) = self.recipient(n.to, lang);
            writeln!(
                out,
                "\n✉ {}",
                self.say_in(
                    to_lang,
                    k::CONSOLE_NOTICE,
                    json!({"to": to, "text": n.text})
                )
            )?;
        }
        for a in &reply.attachments {
            // A member's data export holds everything about them: for the academy's user only.
            let path = self.export_dir.join(&a.filename);
            let saved = crate::files::private_dir_all(&self.export_dir)
                .and_then(|()| crate::files::write_private(&path, &a.bytes));
            match saved {
                Ok(()) => writeln!(
                    out,
                    "{}",
                    self.say(
                        k::CONSOLE_ATTACHMENT_SAVED,
                        json!({"path": path.display().to_string()})
                    )
                )?,
                // The reply itself was given; only its file is missing, so the console goes on.
                Err(e) => writeln!(
                    out,
                    "⚠ {}",
                    self.say(
                        k::CONSOLE_ATTACHMENT_FAILED,
                        json!({
                            "file": a.filename,
                            "dir": self.export_dir.display().to_string(),
                            "detail": self.engine.catalog().io_error(self.actor.lang, &e),
                        })
                    )
                )?,
            }
        }
        writeln!(out)?;
        Ok(())
    }
}

/// A refusal as the terminal shows it: it may repeat what was typed, so control characters in
/// it (a carriage return, a bell) are left out rather than acted on.
fn printable(text: &str) -> String {
    text.chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect()
}

/// Chat Markdown as plain text for a terminal: `**bold**` and `__underline__` lose their
/// markers, a backslash-escaped character is shown as itself (user text in such a body is
/// always escaped, so every marker left is formatting), and a channel mention `<#id>` becomes
/// `channel`.
pub fn plain_text(markdown: &str, channel: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some(c) = rest.chars().next() {
        if c == '\\' {
            let mut chars = rest[1..].chars();
            match chars.next() {
                Some(escaped) => {
                    out.push(escaped);
                    rest = &rest[1 + escaped.len_utf8()..];
                }
                None => {
                    out.push('\\');
                    rest = "";
                }
            }
        } else if rest.starts_with("**") || rest.starts_with("__") {
            rest = &rest[2..];
        } else if let Some(mention) = rest.strip_prefix("<#").and_then(|r| {
            let digits = r.chars().take_while(char::is_ascii_digit).count();
            (digits > 0 && r[digits..].starts_with('>')).then(|| &r[digits + 1..])
        }) {
            out.push_str(channel);
            rest = mention;
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_stable_ids() {
        assert_eq!(user_id_for("Fatima"), user_id_for(" fatima "));
        assert_ne!(user_id_for("Fatima"), user_id_for("Joost"));
    }

    #[test]
    fn names_lose_escapes_and_controls_whole() {
        assert_eq!(clean_name("\u{1b}[31mEvil\u{1b}[0m"), "Evil");
        assert_eq!(clean_name("\u{1b}]0;title\u{7}Anna"), "Anna");
        let c1 = clean_name("An\u{7}na\u{9b}2J");
        assert!(
            c1.starts_with("Anna") && !c1.contains(char::is_control),
            "{c1:?}"
        );
        assert_eq!(clean_name("Anna\rBram"), "Anna Bram");
        assert_eq!(clean_name("\u{1b}[0m\u{200b}"), "");
    }

    #[test]
    fn chat_markdown_becomes_plain_text() {
        assert_eq!(
            plain_text(
                "**Eerste orde (2)**\n__Stap 1 (1)__\n**MARK\\_h001** (L3)",
                "kanaal"
            ),
            "Eerste orde (2)\nStap 1 (1)\nMARK_h001 (L3)"
        );
        assert_eq!(
            plain_text(
                "in <#1> sluit; \\*\\*niet vet\\*\\* \\\\ <#x> <#>",
                "het kanaal"
            ),
            "in het kanaal sluit; **niet vet** \\ <#x> <#>"
        );
        assert_eq!(plain_text("eind \\", "k"), "eind \\");
    }
}
