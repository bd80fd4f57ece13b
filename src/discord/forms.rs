//! Forms (Discord modals): what they ask, pre-filled where the user edits, and how a submitted
//! form becomes an engine request together with the choices its custom_id carried.

use super::custom_id::{self, Form};
use super::handler::Handler;
use super::limits::{INPUT_LABEL, INPUT_PLACEHOLDER, INPUT_VALUE, MODAL_TITLE};
use super::render::clip;
use crate::commands::{self, spec, Cmd, FormStart, Kind, Limit, Opt, Spec, Values, SPECS};
use crate::domain::{Attribution, Lang, LessonId, MeetingId, Order, QuestionId};
use crate::engine::{Ctx, Failure, LessonChanges, LessonDraft, Refusal, Request};
use crate::text::keys as k;
use serenity::all::{
    ActionRowComponent, CreateActionRow, CreateInputText, CreateModal, InputTextStyle,
    ModalInteraction,
};

/// The field a form opened by a button adds to ask how its author wants to be shown (where no
/// slash option could ask it), and the longest way to say so.
const AS: &str = "as";
const AS_LENGTH: u16 = 20;

impl Handler {
    /// The modal a command opens, after checking what can be checked before the user types.
    pub(super) fn open_form(
        &self,
        ctx: &Ctx,
        spec: &'static Spec,
        values: &Values,
    ) -> Result<CreateModal, Failure> {
        let lang = ctx.actor.lang;
        let start = commands::form_start(self.engine.catalog(), lang, spec, values)
            .map_err(Failure::Refused)?
            .ok_or_else(|| {
                Failure::Internal(anyhow::anyhow!("command {} opens no form", spec.id()))
            })?;
        match start {
            FormStart::Answer { edit } => self.answer_modal(ctx, None, edit),
            FormStart::Share(draft) => Ok(self.lesson_modal(
                lang,
                &Form::Share {
                    order: draft.order,
                    steps: draft.steps,
                    perspective: draft.perspective,
                    attribution: draft.attribution,
                },
                None,
            )),
            FormStart::Edit {
                id,
                review,
                changes,
            } => self.edit_modal(ctx, id, review, changes),
            FormStart::Applied(id) => Ok(self.applied_modal(lang, id)),
            FormStart::Reject(id) => {
                self.engine.check_moderator(ctx)?;
                Ok(self.reject_modal(lang, id))
            }
            FormStart::Ask(attribution) => Ok(self.ask_modal(lang, attribution)),
            FormStart::QuestionAnswer { id, attribution } => {
                self.question_answer_modal(ctx, id, attribution)
            }
        }
    }

    /// The text inputs of a command's form, from the table: each option's label, size, limit
    /// and whether it must be filled in. `current` pre-fills what the user edits.
    fn inputs(
        &self,
        lang: Lang,
        cmd: Cmd,
        placeholder: Option<&str>,
        current: &dyn Fn(&Opt) -> Option<String>,
    ) -> Vec<CreateActionRow> {
        spec(cmd)
            .form_fields()
            .map(|o| self.input(lang, o, placeholder, current(o)))
            .collect()
    }

    fn input(
        &self,
        lang: Lang,
        o: &Opt,
        placeholder: Option<&str>,
        value: Option<String>,
    ) -> CreateActionRow {
        let text = self.engine.catalog();
        let style = match o.kind {
            Kind::Text => InputTextStyle::Paragraph,
            _ => InputTextStyle::Short,
        };
        let max = match o.limit {
            Limit::Chars(max) => max,
            Limit::None | Limit::Range(..) => INPUT_VALUE,
        };
        // Text from elsewhere (an imported lesson) may be longer than what a user may type;
        // Discord refuses a pre-filled value longer than the field, so the field grows.
        let value = value
            .filter(|v| !v.is_empty())
            .map(|v| clip(&v, INPUT_VALUE));
        let max = value
            .as_deref()
            .map_or(max, |v| max.max(v.chars().count()))
            .min(INPUT_VALUE);
        let mut input =
            CreateInputText::new(style, clip(&text.plain(lang, o.help), INPUT_LABEL), o.name)
                .max_length(max as u16)
                .required(o.required);
        if let Some(p) = placeholder {
            input = input.placeholder(clip(p, INPUT_PLACEHOLDER));
        }
        if let Some(v) = value {
            input = input.value(v);
        }
        CreateActionRow::InputText(input)
    }

    pub(super) fn answer_modal(
        &self,
        ctx: &Ctx,
        round: Option<crate::domain::RoundId>,
        edit_only: bool,
    ) -> Result<CreateModal, Failure> {
        let lang = ctx.actor.lang;
        let (round, step, own) = self.engine.answer_form(ctx, round, edit_only)?;
        let text = self.engine.catalog();
        let title = text.render(
            lang,
            k::MODAL_ANSWER_TITLE,
            &serde_json::json!({"round": round.to_string()}),
        );
        let question = &text.academy(lang).step(step).question;
        let own = own.filter(|t| !t.is_empty());
        let rows = self.inputs(lang, Cmd::AnswerSubmit, Some(question), &|_| own.clone());
        Ok(CreateModal::new(
            custom_id::encode_form(&Form::Answer(round)),
            clip(&title, MODAL_TITLE),
        )
        .components(rows))
    }

    pub(super) fn lesson_modal(
        &self,
        lang: Lang,
        form: &Form,
        current: Option<&crate::engine::LessonForm>,
    ) -> CreateModal {
        let text = self.engine.catalog();
        let title = match form {
            Form::Edit { id, .. } => text.render(
                lang,
                k::MODAL_EDIT_TITLE,
                &serde_json::json!({"id": id.to_string()}),
            ),
            Form::MeetingShare(_) => text.plain(lang, k::MEETING_MODAL_SHARE_TITLE),
            _ => text.plain(lang, k::MODAL_SHARE_TITLE),
        };
        // Every lesson form asks the fields of sharing one; an edit shows them filled in.
        let mut rows = self.inputs(lang, Cmd::LessonShare, None, &|o| {
            let c = current?;
            Some(match o.name {
                "title" => c.text.title.clone(),
                "happened" => c.text.happened.clone(),
                "lesson" => c.text.lesson.clone(),
                "tags" => c.tags.join(", "),
                _ => return None,
            })
        });
        if let Form::MeetingShare(_) = form {
            rows.push(self.attribution_input(lang));
        }
        CreateModal::new(custom_id::encode_form(form), clip(&title, MODAL_TITLE)).components(rows)
    }

    pub(super) fn edit_modal(
        &self,
        ctx: &Ctx,
        id: LessonId,
        review: bool,
        changes: LessonChanges,
    ) -> Result<CreateModal, Failure> {
        let current = self.engine.lesson_form(ctx, id, review)?;
        let review = review || !current.own;
        let form = Form::Edit {
            id,
            review,
            order: changes.order,
            steps: changes.steps,
            perspective: changes.perspective,
            attribution: if review { None } else { changes.attribution },
            version: current.version,
        };
        Ok(self.lesson_modal(ctx.actor.lang, &form, Some(&current)))
    }

    pub(super) fn applied_modal(&self, lang: Lang, id: LessonId) -> CreateModal {
        let text = self.engine.catalog();
        let title = text.render(
            lang,
            k::MODAL_APPLIED_TITLE,
            &serde_json::json!({"id": id.to_string()}),
        );
        CreateModal::new(
            custom_id::encode_form(&Form::Applied(id)),
            clip(&title, MODAL_TITLE),
        )
        .components(self.inputs(lang, Cmd::LessonApplied, None, &|_| None))
    }

    pub(super) fn ask_modal(&self, lang: Lang, attribution: Attribution) -> CreateModal {
        let text = self.engine.catalog();
        CreateModal::new(
            custom_id::encode_form(&Form::Ask(attribution)),
            clip(&text.plain(lang, k::QUESTION_MODAL_ASK_TITLE), MODAL_TITLE),
        )
        .components(self.inputs(lang, Cmd::QuestionAsk, None, &|_| None))
    }

    /// How the author wants to be shown, asked in a form opened by a button (where no slash
    /// option could ask it): `naam`, `laag` or `anoniem`, as typed.
    fn attribution_input(&self, lang: Lang) -> CreateActionRow {
        let text = self.engine.catalog();
        CreateActionRow::InputText(
            CreateInputText::new(
                InputTextStyle::Short,
                clip(&text.plain(lang, k::QUESTION_FIELD_AS), INPUT_LABEL),
                AS,
            )
            .placeholder(clip(
                &text.plain(lang, k::EXPECT_ATTRIBUTION),
                INPUT_PLACEHOLDER,
            ))
            .max_length(AS_LENGTH)
            .required(false),
        )
    }

    pub(super) fn question_answer_modal(
        &self,
        ctx: &Ctx,
        id: QuestionId,
        attribution: Option<Attribution>,
    ) -> Result<CreateModal, Failure> {
        let lang = ctx.actor.lang;
        let headline = self.engine.question_form(ctx, id)?;
        let text = self.engine.catalog();
        let mut rows = self.inputs(lang, Cmd::QuestionAnswer, Some(&headline), &|_| None);
        if attribution.is_none() {
            rows.push(self.attribution_input(lang));
        }
        let title = text.render(
            lang,
            k::QUESTION_MODAL_ANSWER_TITLE,
            &serde_json::json!({"id": id.to_string()}),
        );
        Ok(CreateModal::new(
            custom_id::encode_form(&Form::QuestionAnswer { id, attribution }),
            clip(&title, MODAL_TITLE),
        )
        .components(rows))
    }

    /// The share form of a lesson from a meeting: the lesson form with the meeting's tag, and
    /// the author's choice of attribution in place of the slash command's.
    pub(super) fn meeting_share_modal(&self, lang: Lang, id: MeetingId) -> CreateModal {
        let current = crate::engine::LessonForm {
            text: crate::domain::LessonText {
                title: String::new(),
                happened: String::new(),
                lesson: String::new(),
            },
            tags: vec![crate::engine::meeting_tag(id)],
            own: true,
            version: 0,
        };
        self.lesson_modal(lang, &Form::MeetingShare(id), Some(&current))
    }

    pub(super) fn reject_modal(&self, lang: Lang, id: LessonId) -> CreateModal {
        let text = self.engine.catalog();
        let title = text.render(
            lang,
            k::MODAL_REJECT_TITLE,
            &serde_json::json!({"id": id.to_string()}),
        );
        CreateModal::new(
            custom_id::encode_form(&Form::Reject(id)),
            clip(&title, MODAL_TITLE),
        )
        .components(self.inputs(lang, Cmd::ReviewReject, None, &|_| None))
    }

    pub(super) fn form_request(
        &self,
        ctx: &Ctx,
        form: Form,
        fields: &Values,
    ) -> Result<Request, Failure> {
        let lang = ctx.actor.lang;
        let missing = || Failure::Refused(self.refusal(lang, k::DISCORD_FORM_FIELD_MISSING));
        let field = |name: &str| fields.text(name).map(str::to_owned);
        // A lesson shared in a form: its texts and tags as typed, the rest as the form carried.
        let shared = |order, steps, perspective, attribution| {
            Ok(Request::LessonShare(LessonDraft {
                title: field("title").ok_or_else(missing)?,
                happened: field("happened").ok_or_else(missing)?,
                lesson: field("lesson").ok_or_else(missing)?,
                order,
                steps,
                perspective,
                tags: commands::split_tags(&field("tags").unwrap_or_default()),
                attribution,
            }))
        };
        match form {
            // The engine refuses if the round is no longer the open one.
            Form::Answer(round) => Ok(Request::AnswerSubmit {
                text: field("text").ok_or_else(missing)?,
                round: Some(round),
            }),
            Form::Applied(id) => Ok(Request::LessonApplied {
                id,
                note: field("note").unwrap_or_default(),
            }),
            Form::Reject(id) => Ok(Request::ReviewReject {
                id,
                reason: field("reason").ok_or_else(missing)?,
            }),
            Form::Ask(attribution) => Ok(Request::QuestionAsk {
                text: field("text").ok_or_else(missing)?,
                attribution,
            }),
            Form::QuestionAnswer { id, attribution } => Ok(Request::QuestionAnswer {
                id,
                text: field("text").ok_or_else(missing)?,
                attribution: match attribution {
                    Some(a) => a,
                    None => self.typed_attribution(lang, field(AS))?,
                },
            }),
            Form::MeetingShare(_) => {
                let attribution = self.typed_attribution(lang, field(AS))?;
                shared(Order::First, Vec::new(), None, attribution)
            }
            Form::Share {
                order,
                steps,
                perspective,
                attribution,
            } => shared(order, steps, perspective, attribution),
            Form::Edit {
                id,
                review,
                order,
                steps,
                perspective,
                attribution,
                version,
            } => {
                // Every field as submitted: the engine compares them, and the version, with the
                // lesson under its lock, so an edit made since the form opened is not undone.
                let tags = Some(commands::split_tags(&field("tags").ok_or_else(missing)?));
                let changes = LessonChanges {
                    title: Some(field("title").ok_or_else(missing)?),
                    happened: Some(field("happened").ok_or_else(missing)?),
                    lesson: Some(field("lesson").ok_or_else(missing)?),
                    order,
                    steps,
                    perspective,
                    tags,
                    attribution,
                };
                let version = Some(version);
                Ok(if review {
                    Request::ReviewEdit {
                        id,
                        changes,
                        version,
                    }
                } else {
                    Request::LessonEdit {
                        id,
                        changes,
                        version,
                    }
                })
            }
        }
    }
}

impl Handler {
    /// How someone wants to be shown, as typed in a form: empty is by name; anything that is
    /// not a way to be shown is refused (with what they typed given back).
    fn typed_attribution(&self, lang: Lang, typed: Option<String>) -> Result<Attribution, Failure> {
        let typed = typed.unwrap_or_default();
        if typed.trim().is_empty() {
            return Ok(Attribution::Named);
        }
        Attribution::parse_user(&typed).ok_or_else(|| {
            Failure::Refused(Refusal {
                key: k::QUESTION_BAD_AS,
                text: self.engine.catalog().render(
                    lang,
                    k::QUESTION_BAD_AS,
                    &serde_json::json!({"value": clip(typed.trim(), 40)}),
                ),
            })
        })
    }
}

/// Every text input a form may have, in the table's order; its custom_id is the option it fills.
pub(super) fn form_fields() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for o in SPECS.iter().flat_map(|s| s.form_fields()) {
        if !names.contains(&o.name) {
            names.push(o.name);
        }
    }
    names.push(AS);
    names
}

/// The text inputs of a submitted form, by their ids (which are option names).
pub(super) fn modal_fields(m: &ModalInteraction) -> Values {
    let names = form_fields();
    let mut values = Values::new();
    for row in &m.data.components {
        for c in &row.components {
            if let ActionRowComponent::InputText(input) = c {
                let name = names.iter().find(|n| **n == input.custom_id);
                if let Some(name) = name {
                    values.insert(name, input.value.clone().unwrap_or_default());
                }
            }
        }
    }
    values
}
