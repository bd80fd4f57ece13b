//! Forms (Discord modals): what they ask, pre-filled where the user edits, and how a submitted
//! form becomes an engine request together with the choices its custom_id carried.

use super::custom_id::{self, Form};
use super::handler::Handler;
use super::register::in_form;
use super::render::clip;
use crate::commands::{self, Spec, Values, SPECS};
use crate::domain::{Attribution, Lang, LessonId, MeetingId, QuestionId};
use crate::engine::{Ctx, Failure, LessonChanges, Refusal, Request};
use crate::text::keys as k;
use serenity::all::{
    ActionRowComponent, CreateActionRow, CreateInputText, CreateModal, InputTextStyle,
    ModalInteraction,
};

/// Discord's limits on forms.
const MODAL_TITLE: usize = 45;
const INPUT_LABEL: usize = 45;
const INPUT_PLACEHOLDER: usize = 100;
const INPUT_VALUE: usize = 4000;

impl Handler {
    /// The modal a command opens, after checking what can be checked before the user types.
    pub(super) fn open_form(
        &self,
        ctx: &Ctx,
        spec: &'static Spec,
        values: &Values,
    ) -> Result<CreateModal, Failure> {
        let lang = ctx.actor.lang;
        // Form fields are not known yet: check the rest with placeholders in their place.
        let mut probe = values.clone();
        for o in spec.options.iter().filter(|o| in_form(spec, o)) {
            probe.insert(o.name, "-".to_owned());
        }
        let request = commands::to_request(self.engine.catalog(), lang, spec, &probe, ctx.channel)
            .map_err(Failure::Refused)?;
        let modal = match request {
            Request::AnswerSubmit { .. } => self.answer_modal(ctx, None, false),
            Request::AnswerEdit { .. } => self.answer_modal(ctx, None, true),
            Request::LessonShare(draft) => Ok(self.lesson_modal(
                lang,
                &Form::Share {
                    order: draft.order,
                    steps: draft.steps,
                    perspective: draft.perspective,
                    attribution: draft.attribution,
                },
                None,
            )),
            Request::LessonEdit { id, changes, .. } => self.edit_modal(ctx, id, false, changes),
            Request::ReviewEdit { id, changes, .. } => self.edit_modal(ctx, id, true, changes),
            Request::LessonApplied { id, .. } => Ok(self.applied_modal(lang, id)),
            Request::ReviewReject { id, .. } => {
                self.engine.check_moderator(ctx)?;
                Ok(self.reject_modal(lang, id))
            }
            Request::QuestionAsk { attribution, .. } => Ok(self.ask_modal(lang, attribution)),
            Request::QuestionAnswer { id, .. } => {
                // The attribution chosen in the command travels with the form; without it
                // the form asks.
                let chosen = values.get("as").and_then(|v| Attribution::parse_user(v));
                self.question_answer_modal(ctx, id, chosen)
            }
            _ => Err(Failure::Internal(anyhow::anyhow!(
                "command {} has a form but no modal",
                spec.id()
            ))),
        }?;
        Ok(modal)
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
        let mut input = CreateInputText::new(
            InputTextStyle::Paragraph,
            clip(&text.plain(lang, k::FIELD_ANSWER), INPUT_LABEL),
            "text",
        )
        .placeholder(clip(question, INPUT_PLACEHOLDER))
        .max_length(crate::engine::limits::ANSWER as u16)
        .required(true);
        if let Some(own) = own.filter(|t| !t.is_empty()) {
            input = input.value(own);
        }
        Ok(CreateModal::new(
            custom_id::encode_form(&Form::Answer(round)),
            clip(&title, MODAL_TITLE),
        )
        .components(vec![CreateActionRow::InputText(input)]))
    }

    pub(super) fn lesson_modal(
        &self,
        lang: Lang,
        form: &Form,
        current: Option<&crate::engine::LessonForm>,
    ) -> CreateModal {
        use crate::engine::limits;
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
        let field = |key: &str,
                     id: &str,
                     style: InputTextStyle,
                     max: usize,
                     required: bool,
                     value: Option<String>| {
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
                CreateInputText::new(style, clip(&text.plain(lang, key), INPUT_LABEL), id)
                    .max_length(max as u16)
                    .required(required);
            if let Some(v) = value {
                input = input.value(v);
            }
            CreateActionRow::InputText(input)
        };
        let cur = |f: fn(&crate::engine::LessonForm) -> String| current.map(f);
        let mut rows = vec![
            field(
                k::FIELD_TITLE,
                "title",
                InputTextStyle::Short,
                limits::TITLE,
                true,
                cur(|c| c.text.title.clone()),
            ),
            field(
                k::FIELD_HAPPENED,
                "happened",
                InputTextStyle::Paragraph,
                limits::LESSON_FIELD,
                true,
                cur(|c| c.text.happened.clone()),
            ),
            field(
                k::FIELD_LESSON,
                "lesson",
                InputTextStyle::Paragraph,
                limits::LESSON_FIELD,
                true,
                cur(|c| c.text.lesson.clone()),
            ),
            field(
                k::FIELD_TAGS,
                "tags",
                InputTextStyle::Short,
                (limits::TAG + 2) * limits::TAGS,
                false,
                cur(|c| c.tags.join(", ")),
            ),
        ];
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
        let input = CreateInputText::new(
            InputTextStyle::Paragraph,
            clip(&text.plain(lang, k::FIELD_NOTE), INPUT_LABEL),
            "note",
        )
        .max_length(crate::engine::limits::REASON as u16)
        .required(false);
        CreateModal::new(
            custom_id::encode_form(&Form::Applied(id)),
            clip(&title, MODAL_TITLE),
        )
        .components(vec![CreateActionRow::InputText(input)])
    }

    pub(super) fn ask_modal(&self, lang: Lang, attribution: Attribution) -> CreateModal {
        let text = self.engine.catalog();
        let input = CreateInputText::new(
            InputTextStyle::Paragraph,
            clip(&text.plain(lang, k::FIELD_QUESTION), INPUT_LABEL),
            "text",
        )
        .max_length(crate::engine::limits::QUESTION as u16)
        .required(true);
        CreateModal::new(
            custom_id::encode_form(&Form::Ask(attribution)),
            clip(&text.plain(lang, k::QUESTION_MODAL_ASK_TITLE), MODAL_TITLE),
        )
        .components(vec![CreateActionRow::InputText(input)])
    }

    /// How the author wants to be shown, asked in a form opened by a button (where no slash
    /// option could ask it): `naam`, `laag` or `anoniem`, as typed.
    fn attribution_input(&self, lang: Lang) -> CreateActionRow {
        let text = self.engine.catalog();
        CreateActionRow::InputText(
            CreateInputText::new(
                InputTextStyle::Short,
                clip(&text.plain(lang, k::QUESTION_FIELD_AS), INPUT_LABEL),
                "as",
            )
            .placeholder(clip(
                &text.plain(lang, k::EXPECT_ATTRIBUTION),
                INPUT_PLACEHOLDER,
            ))
            .max_length(20)
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
        let input = CreateInputText::new(
            InputTextStyle::Paragraph,
            clip(&text.plain(lang, k::FIELD_ANSWER), INPUT_LABEL),
            "text",
        )
        .placeholder(clip(&headline, INPUT_PLACEHOLDER))
        .max_length(crate::engine::limits::QUESTION as u16)
        .required(true);
        let mut rows = vec![CreateActionRow::InputText(input)];
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
        let input = CreateInputText::new(
            InputTextStyle::Paragraph,
            clip(&text.plain(lang, k::FIELD_REASON), INPUT_LABEL),
            "reason",
        )
        .max_length(crate::engine::limits::REASON as u16)
        .required(true);
        CreateModal::new(
            custom_id::encode_form(&Form::Reject(id)),
            clip(&title, MODAL_TITLE),
        )
        .components(vec![CreateActionRow::InputText(input)])
    }

    pub(super) fn form_request(
        &self,
        ctx: &Ctx,
        form: Form,
        fields: &Values,
    ) -> Result<Request, Failure> {
        let lang = ctx.actor.lang;
        let missing = || Failure::Refused(self.refusal(lang, k::DISCORD_FORM_FIELD_MISSING));
        let field = |name: &str| fields.get(name).cloned();
        let spec = |id: &str| SPECS.iter().find(|s| s.id() == id);
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
                    None => self.typed_attribution(lang, field("as"))?,
                },
            }),
            Form::MeetingShare(_) => {
                let spec = spec("lesson share").ok_or_else(missing)?;
                let mut values = Values::new();
                for name in ["title", "happened", "lesson"] {
                    values.insert(name, field(name).ok_or_else(missing)?);
                }
                values.insert("tags", field("tags").unwrap_or_default());
                values.insert("order", crate::domain::Order::First.key().to_owned());
                values.insert(
                    "as",
                    self.typed_attribution(lang, field("as"))?.key().to_owned(),
                );
                commands::to_request(self.engine.catalog(), lang, spec, &values, ctx.channel)
                    .map_err(Failure::Refused)
            }
            Form::Share {
                order,
                steps,
                perspective,
                attribution,
            } => {
                let spec = spec("lesson share").ok_or_else(missing)?;
                let mut values = Values::new();
                for name in ["title", "happened", "lesson"] {
                    values.insert(name, field(name).ok_or_else(missing)?);
                }
                values.insert("tags", field("tags").unwrap_or_default());
                values.insert("order", order.key().to_owned());
                values.insert(
                    "steps",
                    steps.iter().map(|s| s.key()).collect::<Vec<_>>().join(","),
                );
                if let Some(p) = perspective {
                    values.insert("perspective", p.key().to_owned());
                }
                values.insert("as", attribution.key().to_owned());
                commands::to_request(self.engine.catalog(), lang, spec, &values, ctx.channel)
                    .map_err(Failure::Refused)
            }
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
                let tags = field("tags").ok_or_else(missing)?;
                let tags = Some(
                    tags.split([',', ';'])
                        .map(|t| t.trim().to_owned())
                        .filter(|t| !t.is_empty())
                        .collect(),
                );
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

/// Every text input a form may have; its custom_id is the option it fills.
pub(super) const FORM_FIELDS: [&str; 8] = [
    "text", "title", "happened", "lesson", "tags", "reason", "note", "as",
];

/// The text inputs of a submitted form, by their ids (which are option names).
pub(super) fn modal_fields(m: &ModalInteraction) -> Values {
    let mut values = Values::new();
    for row in &m.data.components {
        for c in &row.components {
            if let ActionRowComponent::InputText(input) = c {
                let name = FORM_FIELDS.into_iter().find(|n| *n == input.custom_id);
                if let Some(name) = name {
                    values.insert(name, input.value.clone().unwrap_or_default());
                }
            }
        }
    }
    values
}
