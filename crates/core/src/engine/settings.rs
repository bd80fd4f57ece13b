//! The engine's settings, as the configuration gives them, with the defaults a fresh academy
//! starts with.

use super::backup;
use crate::domain::*;
use chrono_tz::Tz;

/// Engine-wide settings from the configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The language for channels and people whose language is unknown.
    pub default_lang: Lang,
    /// Lessons per search page.
    pub page_size: usize,
    /// Months after which an approved lesson nobody applied returns to the review queue.
    pub re_review_months: u32,
    /// Days on which no round starts by itself, besides Saturdays, Sundays and the Dutch
    /// national holidays.
    pub holidays: Vec<chrono::NaiveDate>,
    /// The time zone of collaborations that did not choose their own.
    pub time_zone: Tz,
    /// Days after which the answers and votes of a closed round are deleted; none: kept.
    pub answer_retention_days: Option<u32>,
    /// Where the static site of published digests is kept up to date; none: not written.
    pub site_dir: Option<std::path::PathBuf>,
    /// Servers whose moderators allow exchange with other servers in the configuration (a
    /// moderator's `/moderator uitwisseling servers:` overrides it for their server).
    pub open_servers: Vec<ServerId>,
    /// One academy-wide channel (or forum) for questions to the academy, instead of every
    /// collaboration's own channel.
    pub questions_channel: Option<ChannelId>,
    /// Where files for people are written (a member's export among them); none: nowhere.
    pub export_dir: Option<std::path::PathBuf>,
    /// Where a confirmed "delete my data" is recorded until it is complete, so one that was
    /// interrupted is finished at the next start; none: not recorded.
    pub erasures_dir: Option<std::path::PathBuf>,
    /// Automatic backups: where, how many and how often; none: not taken.
    pub backups: Option<backup::Policy>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_lang: Lang::Nl,
            page_size: 5,
            re_review_months: 12,
            holidays: Vec::new(),
            time_zone: crate::time::DEFAULT_ZONE,
            answer_retention_days: None,
            site_dir: None,
            open_servers: Vec::new(),
            questions_channel: None,
            export_dir: None,
            erasures_dir: None,
            backups: None,
        }
    }
}
