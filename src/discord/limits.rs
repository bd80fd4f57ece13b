//! Every limit Discord puts on what a bot sends, in one place, from Discord's documentation.
//!
//! Lengths count as Discord counts them (`split::units`, UTF-16) where a message is measured,
//! and in characters where Discord validates a field by its characters (names, descriptions,
//! labels). What users may type (a title, an answer, a reason) is a rule of the academy, not of
//! Discord: those limits stay in `engine::limits`, and the command table hands them to Discord
//! with each option, so Discord refuses what the engine would. One Discord limit is still kept
//! by the engine, because the engine writes the text: a meeting's scheduled event description
//! (1,000 characters, `engine::meetings`).

/// A message's plain content.
pub const CONTENT: usize = 2000;
pub const EMBED_TITLE: usize = 256;
pub const EMBED_DESCRIPTION: usize = 4096;
pub const EMBED_FOOTER: usize = 2048;
/// Every embed of one message together.
pub const EMBEDS_TOTAL: usize = 6000;
pub const EMBEDS_PER_MESSAGE: usize = 10;
pub const BUTTON_LABEL: usize = 80;
pub const BUTTONS_PER_ROW: usize = 5;
/// Rows of components in one message.
pub const ROWS: usize = 5;
/// A button's or a form's custom_id.
pub const CUSTOM_ID: usize = 100;

/// A slash command's, option's or choice's description, and a choice's name.
pub const DESCRIPTION: usize = 100;
/// The longest text a string option may be given as its `max_length`.
pub const OPTION_LENGTH: usize = 6000;

/// A form's (modal's) title.
pub const MODAL_TITLE: usize = 45;
/// A form field's label.
pub const INPUT_LABEL: usize = 45;
pub const INPUT_PLACEHOLDER: usize = 100;
/// The longest value of a form field, and the largest `max_length` one may have.
pub const INPUT_VALUE: usize = 4000;

/// A forum post's name (its title).
pub const THREAD_NAME: usize = 100;
