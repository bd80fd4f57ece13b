//! Dutch time. People using the academy think in Europe/Amsterdam time (with its summer time),
//! write dates as `31-12-2026` and rest on the Dutch national holidays; a collaboration may use
//! another zone. Stored instants stay UTC: this module turns what people type into instants, and
//! instants into what people read, in a collaboration's zone. No clock is read here: "now" is
//! always passed in, so the engine's clock (and a test's) decides.

use crate::domain::Lang;
use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

/// The zone of the academy unless configured otherwise.
pub const DEFAULT_ZONE: Tz = chrono_tz::Europe::Amsterdam;

/// The time of day a deadline given as a day alone (`31-12-2026`, `morgen`) falls at: the end
/// of a Dutch working day, so the reveal lands while people are at work.
pub const DEADLINE_HOUR: u32 = 17;

/// The time of day a round started by the collaboration's cadence begins: the start of a Dutch
/// working day, in the collaboration's own zone.
pub const CADENCE_HOUR: u32 = 9;

/// A time zone by its IANA name (`Europe/Amsterdam`, `Europe/London`, `UTC`), in any case.
pub fn parse_zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    name.parse::<Tz>().ok().or_else(|| {
        chrono_tz::TZ_VARIANTS
            .iter()
            .copied()
            .find(|z| z.name().eq_ignore_ascii_case(name))
    })
}

/// A moment as typed, before it is placed in a zone and against a clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// `48h`: exactly so many hours from now.
    Hours(u32),
    /// `3d`, `2w` (as days): so many days from now, at the same clock time, also across a
    /// change to or from summer time.
    Days(u32),
    /// `vandaag`, `morgen 17:00`, `overmorgen`: a day counted from today, at a time or at
    /// [`DEADLINE_HOUR`].
    FromToday { days: u32, time: Option<NaiveTime> },
    /// `vrijdag 17:00`, `fri`: the first such weekday after today (a week ahead on that day
    /// itself, as "vrijdag" said on a Friday means the next one), at a time or at
    /// [`DEADLINE_HOUR`].
    Next {
        weekday: Weekday,
        time: Option<NaiveTime>,
    },
    /// `31-12-2026 17:00`, `2026-12-31`, `31 december 2026`: a calendar day, at a time or at
    /// [`DEADLINE_HOUR`].
    On {
        date: NaiveDate,
        time: Option<NaiveTime>,
    },
    /// An exact instant, as adapters and tests give it.
    At(DateTime<Utc>),
}

impl From<DateTime<Utc>> for When {
    fn from(at: DateTime<Utc>) -> When {
        When::At(at)
    }
}

/// Why typed text is not a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenError {
    /// None of the accepted forms.
    Unreadable,
    /// A weekday was given with a date that falls on another day (`ma 31-12-2026`).
    WrongWeekday { date: NaiveDate },
    /// A time that is one clock time to some and another to others (`morgen om 9 uur`: 09:00
    /// or 21:00; `friday 12am`: the start or the end of Friday), after a day that was read.
    AmbiguousHour { early: NaiveTime, late: NaiveTime },
}

const DUTCH_DAYS: [&str; 7] = [
    "maandag",
    "dinsdag",
    "woensdag",
    "donderdag",
    "vrijdag",
    "zaterdag",
    "zondag",
];
const DUTCH_DAYS_SHORT: [&str; 7] = ["ma", "di", "wo", "do", "vr", "za", "zo"];
const ENGLISH_DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
const ENGLISH_DAYS_SHORT: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DUTCH_MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];
const ENGLISH_MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const DUTCH_MONTHS_SHORT: [&str; 12] = [
    "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
];
const ENGLISH_MONTHS_SHORT: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn weekday_word(word: &str) -> Option<Weekday> {
    let word = word.trim_end_matches(['.', ',']);
    [
        DUTCH_DAYS,
        DUTCH_DAYS_SHORT,
        ENGLISH_DAYS,
        ENGLISH_DAYS_SHORT,
    ]
    .iter()
    .find_map(|names| names.iter().position(|n| *n == word))
    .and_then(|i| Weekday::try_from(i as u8).ok())
}

fn month_word(word: &str) -> Option<u32> {
    let word = word.trim_end_matches(['.', ',']);
    let word = if word == "sept" { "sep" } else { word };
    [
        DUTCH_MONTHS,
        ENGLISH_MONTHS,
        DUTCH_MONTHS_SHORT,
        ENGLISH_MONTHS_SHORT,
    ]
    .iter()
    .find_map(|names| names.iter().position(|n| *n == word))
    .map(|i| i as u32 + 1)
}

fn number(text: &str, digits: std::ops::RangeInclusive<usize>) -> Option<u32> {
    (digits.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn year(text: &str) -> Option<i32> {
    number(text, 4..=4)
        .map(|y| y as i32)
        .filter(|y| (1900..=9999).contains(y))
}

/// `17:00`, `17.00`, `9:30`: a clock time.
fn clock_time(text: &str) -> Option<NaiveTime> {
    let (h, m) = text.split_once([':', '.'])?;
    NaiveTime::from_hms_opt(number(h, 1..=2)?, number(m, 2..=2)?, 0)
}

/// `5pm`, `9:30am`, `12pm` (noon): English readers' twelve-hour clock.
fn twelve_hour(text: &str) -> Option<NaiveTime> {
    let (clock, pm) = match (text.strip_suffix("am"), text.strip_suffix("pm")) {
        (Some(clock), _) => (clock, false),
        (_, Some(clock)) => (clock, true),
        _ => return None,
    };
    let (h, m) = match clock.split_once([':', '.']) {
        Some((h, m)) => (number(h, 1..=2)?, number(m, 2..=2)?),
        None => (number(clock, 1..=2)?, 0),
    };
    // `12am` has two readings (see `two_readings`).
    if !(1..=12).contains(&h) || (h == 12 && !pm) {
        return None;
    }
    NaiveTime::from_hms_opt(h % 12 + if pm { 12 } else { 0 }, m, 0)
}

/// The hour of `17 uur` (the `uur` already taken off: `said_uur`) or `17u`, as typed.
fn bare_hour(text: &str, said_uur: bool) -> Option<u32> {
    let hour = match text.strip_suffix('u') {
        Some(h) => h,
        None if said_uur => text,
        None => return None,
    };
    number(hour, 1..=2)
}

/// A whole hour as Dutch writes it (`17 uur`, `17u`), from 12 on; below, it has two readings.
/// `9.30u` is a clock time with its `u`, read elsewhere.
fn whole_hour(text: &str, said_uur: bool) -> Option<NaiveTime> {
    let h = bare_hour(text, said_uur).filter(|h| (12..=23).contains(h))?;
    NaiveTime::from_hms_opt(h, 0, 0)
}

/// The two readings of a time that has two: `9 uur`, `9u` (09:00 to some, 21:00 to others);
/// `12am` (the midnight that starts the day to the clock, the one that ends it to many who
/// write it: 00:00 or 23:59). None for any other text.
fn two_readings(text: &str, said_uur: bool) -> Option<(NaiveTime, NaiveTime)> {
    if text == "12am" {
        return Some((NaiveTime::MIN, NaiveTime::from_hms_opt(23, 59, 0)?));
    }
    let h = bare_hour(text, said_uur).filter(|h| (1..=11).contains(h))?;
    Some((
        NaiveTime::from_hms_opt(h, 0, 0)?,
        NaiveTime::from_hms_opt(h + 12, 0, 0)?,
    ))
}

/// `31-12-2026`, `31/12/2026`, `31.12.2026` (day first) or `2026-12-31` (ISO).
fn numeric_date(text: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = text.split(['-', '/', '.']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    if let Some(y) = year(a) {
        // ISO: only with dashes, as the standard writes it.
        if !text.contains('-') || text.contains(['/', '.']) {
            return None;
        }
        return NaiveDate::from_ymd_opt(y, number(b, 2..=2)?, number(c, 2..=2)?);
    }
    NaiveDate::from_ymd_opt(year(c)?, number(b, 1..=2)?, number(a, 1..=2)?)
}

/// `31 december 2026`, `31 Dec 2026`.
fn written_date(d: &str, m: &str, y: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year(y)?, month_word(m)?, number(d, 1..=2)?)
}

/// Relative amounts: `3d`, `48h`, `48u`, `2w`, also with a space or the unit written out
/// (`3 dagen`, `2 weeks`).
fn relative(words: &[&str]) -> Option<When> {
    let (num, unit) = match words {
        [one] => {
            let split = one.find(|c: char| !c.is_ascii_digit())?;
            (&one[..split], &one[split..])
        }
        [num, unit] => (*num, *unit),
        _ => return None,
    };
    let n = number(num, 1..=4).filter(|n| *n > 0)?;
    match unit {
        "h" | "u" | "uur" | "uren" | "hour" | "hours" => (n <= 24 * 366).then_some(When::Hours(n)),
        "d" | "dag" | "dagen" | "day" | "days" => (n <= 366).then_some(When::Days(n)),
        "w" | "wk" | "week" | "weken" | "weeks" => (n <= 52).then_some(When::Days(n * 7)),
        _ => None,
    }
}

/// Parses what someone typed for a moment. Accepted, in Dutch and English: `3d`, `48h`/`48u`,
/// `2w`; `vandaag`/`today`, `morgen`/`tomorrow`, `overmorgen`, each with an optional time
/// (`morgen 17:00`, `morgen om 17.00 uur`, `morgen om 17 uur`, `tomorrow 5pm`); a weekday,
/// the next one after today (`vrijdag`, `vr 17:00`, `friday at 17:00`); a date as
/// `31-12-2026`, `2026-12-31` or `31 december 2026`, with an optional weekday before it
/// (`vr 31-12-2026`, as the academy shows dates) and an optional time after it, also in
/// brackets (`2026-12-31 (17:00)`).
pub fn parse_when(text: &str) -> Result<When, WhenError> {
    let lower = text.trim().to_lowercase();
    // `2026-12-31T17:00` is ISO 8601's own way of joining a date and a time.
    let lower = match lower.split_once('t') {
        Some((d, t)) if numeric_date(d).is_some() && clock_time(t).is_some() => format!("{d} {t}"),
        _ => lower,
    };
    let cleaned = lower
        .replace(['(', ')', ','], " ")
        .replace("a.m.", "am")
        .replace("p.m.", "pm");
    // `5 pm` is one time, as `5pm`.
    let mut joined: Vec<String> = Vec::new();
    for word in cleaned.split_whitespace() {
        match joined.last_mut() {
            Some(last)
                if matches!(word, "am" | "pm") && last.ends_with(|c: char| c.is_ascii_digit()) =>
            {
                last.push_str(word)
            }
            _ => joined.push(word.to_string()),
        }
    }
    let mut words: Vec<&str> = joined.iter().map(String::as_str).collect();
    if words.is_empty() {
        return Err(WhenError::Unreadable);
    }
    if let Some(when) = relative(&words) {
        return Ok(when);
    }
    // A time at the end: `17:00`, `om 17:00`, `at 17:00`, `17.00 uur`.
    let mut said_as_time = false;
    if words.last() == Some(&"uur") && words.len() > 1 {
        words.pop();
        said_as_time = true;
    }
    let mut time = None;
    // With am or pm it is a time whatever its separator, never a date; a whole hour with
    // `uur` (`om 17 uur`) or `u` (`17u`) is one too.
    let uur = said_as_time;
    let last = words.last().and_then(|w| {
        clock_time(w)
            .map(|t| (t, w.contains(':')))
            .or_else(|| twelve_hour(w).map(|t| (t, true)))
            .or_else(|| whole_hour(w, uur).map(|t| (t, true)))
            .or_else(|| w.strip_suffix('u').and_then(clock_time).map(|t| (t, true)))
    });
    // `morgen om 9 uur`: the day is clear, the hour is not; asked again with both readings.
    if let (None, Some((early, late))) = (last, words.last().and_then(|w| two_readings(w, uur))) {
        let mut day = words[..words.len() - 1].to_vec();
        if matches!(day.last(), Some(&"om") | Some(&"at")) {
            day.pop();
        }
        if !day.is_empty() && parse_when(&day.join(" ")).is_ok() {
            return Err(WhenError::AmbiguousHour { early, late });
        }
        return Err(WhenError::Unreadable);
    }
    if let Some((t, certain)) = last {
        if words.len() > 1 {
            time = Some(t);
            said_as_time |= certain;
            words.pop();
            if matches!(words.last(), Some(&"om") | Some(&"at")) {
                words.pop();
                said_as_time = true;
            }
        }
    }
    let days = match words.as_slice() {
        ["vandaag"] | ["today"] => Some(0),
        ["morgen"] | ["tomorrow"] => Some(1),
        ["overmorgen"] => Some(2),
        _ => None,
    };
    if let Some(days) = days {
        return Ok(When::FromToday { days, time });
    }
    if let [one] = words.as_slice() {
        if let Some(weekday) = weekday_word(one) {
            // `vr 5.12` is as likely the fifth of December as 05:12: a time after a weekday
            // is written with a colon, or with `om` or `uur`.
            if time.is_some() && !said_as_time {
                return Err(WhenError::Unreadable);
            }
            return Ok(When::Next { weekday, time });
        }
    }
    let weekday = match words.as_slice() {
        [first, _, ..] => weekday_word(first),
        _ => None,
    };
    let date_words = if weekday.is_some() {
        &words[1..]
    } else {
        &words[..]
    };
    let date = match date_words {
        [one] => numeric_date(one),
        [d, m, y] => written_date(d, m, y),
        _ => None,
    }
    .ok_or(WhenError::Unreadable)?;
    if weekday.is_some_and(|w| w != date.weekday()) {
        return Err(WhenError::WrongWeekday { date });
    }
    Ok(When::On { date, time })
}

/// Parses a calendar day (`31-12-2026`, `2026-12-31`, `31 december 2026`), for periods.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    match parse_when(text) {
        Ok(When::On { date, time: None }) => Some(date),
        _ => None,
    }
}

/// A local date and time as an instant. A time that does not exist (the hour skipped when
/// summer time starts) counts with the offset before the change, so 02:30 becomes 03:30 summer
/// time; a time that occurs twice (the hour repeated when it ends) is the first, still summer
/// time. This is what calendar programs do (RFC 5545).
pub fn instant(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Find the offset in force just before the gap: an hour back at a time, for zones
            // that skipped more than an hour (or a whole day).
            let before = (1..=48).find_map(|h| {
                zone.from_local_datetime(&(local - Duration::hours(h)))
                    .earliest()
            });
            let offset = before.map_or(0, |t| t.offset().fix().local_minus_utc());
            (local - Duration::seconds(i64::from(offset))).and_utc()
        }
    }
}

/// Today's date where the collaboration is.
pub fn local_date(zone: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

/// The instant a typed moment stands for, seen from `now` in `zone`.
pub fn resolve(when: When, now: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
    let deadline_time = || NaiveTime::from_hms_opt(DEADLINE_HOUR, 0, 0).unwrap_or_default();
    match when {
        When::At(at) => at,
        When::Hours(h) => now + Duration::hours(i64::from(h)),
        When::Days(d) => {
            let local = now.with_timezone(&zone).naive_local();
            instant(zone, local + Duration::days(i64::from(d)))
        }
        When::FromToday { days, time } => {
            let day = local_date(zone, now) + Duration::days(i64::from(days));
            instant(zone, day.and_time(time.unwrap_or_else(deadline_time)))
        }
        When::Next { weekday, time } => {
            let today = local_date(zone, now);
            let ahead = match weekday.days_since(today.weekday()) {
                0 => 7,
                n => n,
            };
            let day = today + Duration::days(i64::from(ahead));
            instant(zone, day.and_time(time.unwrap_or_else(deadline_time)))
        }
        When::On { date, time } => instant(zone, date.and_time(time.unwrap_or_else(deadline_time))),
    }
}

/// Whether a zone needs naming next to a time: Dutch time is what everyone assumes.
fn named(zone: Tz) -> Option<&'static str> {
    (zone != DEFAULT_ZONE).then(|| zone.name())
}

/// A calendar day as people read it: `31-12-2026` in Dutch, `31 Dec 2026` in English.
pub fn day(lang: Lang, date: NaiveDate) -> String {
    match lang {
        Lang::Nl => date.format("%d-%m-%Y").to_string(),
        Lang::En => format!(
            "{} {} {}",
            date.day(),
            capitalised(ENGLISH_MONTHS_SHORT[date.month0() as usize]),
            date.year()
        ),
    }
}

/// A calendar day with its weekday: `vr 31-12-2026`, `Fri 31 Dec 2026`.
pub fn day_with_weekday(lang: Lang, date: NaiveDate) -> String {
    let i = date.weekday().num_days_from_monday() as usize;
    match lang {
        Lang::Nl => format!("{} {}", DUTCH_DAYS_SHORT[i], day(lang, date)),
        Lang::En => format!("{} {}", capitalised(ENGLISH_DAYS_SHORT[i]), day(lang, date)),
    }
}

/// A date's weekday written out: `donderdag`, `Thursday`.
pub fn weekday_name(lang: Lang, date: NaiveDate) -> String {
    let i = date.weekday().num_days_from_monday() as usize;
    match lang {
        Lang::Nl => DUTCH_DAYS[i].to_owned(),
        Lang::En => capitalised(ENGLISH_DAYS[i]),
    }
}

fn capitalised(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The local date of an instant: `31-12-2026`, `31 Dec 2026`.
pub fn date(lang: Lang, zone: Tz, at: DateTime<Utc>) -> String {
    day(lang, local_date(zone, at))
}

/// An instant as people read it: `vr 31-12-2026 17:00` (`Fri 31 Dec 2026 17:00`), with the
/// zone's name after it when it is not Dutch time (`… 17:00 (Europe/London)`).
pub fn date_time(lang: Lang, zone: Tz, at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&zone);
    let mut out = format!(
        "{} {}",
        day_with_weekday(lang, local.date_naive()),
        local.format("%H:%M")
    );
    if let Some(name) = named(zone) {
        out.push_str(&format!(" ({name})"));
    }
    out
}

/// An instant with its date but no weekday, for lists: `31-12-2026 17:00`.
pub fn short_date_time(lang: Lang, zone: Tz, at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&zone);
    let mut out = format!(
        "{} {}",
        day(lang, local.date_naive()),
        local.format("%H:%M")
    );
    if let Some(name) = named(zone) {
        out.push_str(&format!(" ({name})"));
    }
    out
}

/// Easter Sunday of a year (Gregorian computus).
pub fn easter(year: i32) -> Option<NaiveDate> {
    let e = computus::gregorian(year).ok()?;
    NaiveDate::from_ymd_opt(e.year, e.month, e.day)
}

/// The Dutch national holidays of a year, with their Dutch names: the days the Algemene
/// termijnenwet counts as *algemeen erkende feestdagen*, plus Easter Sunday and Whit Sunday
/// (always Sundays, which that law leaves out for that reason). Bevrijdingsdag counts every
/// year, as in that law; Goede Vrijdag is not a national holiday and is a working day for most
/// of government, so it is not in the list (add it with `academy.holidays` where it is free).
/// Koningsdag is 27 April, or 26 April when the 27th is a Sunday.
pub fn dutch_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let mut out = Vec::new();
    let ymd = |m, d| NaiveDate::from_ymd_opt(year, m, d);
    let mut add = |date: Option<NaiveDate>, name| {
        if let Some(d) = date {
            out.push((d, name));
        }
    };
    add(ymd(1, 1), "Nieuwjaarsdag");
    if let Some(e) = easter(year) {
        add(Some(e), "Eerste Paasdag");
        add(Some(e + Duration::days(1)), "Tweede Paasdag");
        add(Some(e + Duration::days(39)), "Hemelvaartsdag");
        add(Some(e + Duration::days(49)), "Eerste Pinksterdag");
        add(Some(e + Duration::days(50)), "Tweede Pinksterdag");
    }
    let kings_day = ymd(4, 27).map(|d| {
        if d.weekday() == Weekday::Sun {
            d - Duration::days(1)
        } else {
            d
        }
    });
    add(kings_day, "Koningsdag");
    add(ymd(5, 5), "Bevrijdingsdag");
    add(ymd(12, 25), "Eerste Kerstdag");
    add(ymd(12, 26), "Tweede Kerstdag");
    out.sort();
    out
}

/// The Dutch national holiday on a date, if any.
pub fn dutch_holiday(date: NaiveDate) -> Option<&'static str> {
    dutch_holidays(date.year())
        .into_iter()
        .find(|(d, _)| *d == date)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn on(y: i32, m: u32, d: u32, time: Option<(u32, u32)>) -> When {
        When::On {
            date: NaiveDate::from_ymd_opt(y, m, d).unwrap(),
            time: time.map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0).unwrap()),
        }
    }

    #[test]
    fn every_accepted_form_parses() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0);
        for (text, want) in [
            ("3d", When::Days(3)),
            ("3 dagen", When::Days(3)),
            ("48h", When::Hours(48)),
            ("48u", When::Hours(48)),
            ("2w", When::Days(14)),
            ("2 weeks", When::Days(14)),
            ("31-12-2026", on(2026, 12, 31, None)),
            ("31-12-2026 17:00", on(2026, 12, 31, Some((17, 0)))),
            ("31/12/2026 9:30", on(2026, 12, 31, Some((9, 30)))),
            ("1-2-2027", on(2027, 2, 1, None)),
            ("31.12.2026 17.00 uur", on(2026, 12, 31, Some((17, 0)))),
            ("2026-12-31", on(2026, 12, 31, None)),
            ("2026-12-31 17:00", on(2026, 12, 31, Some((17, 0)))),
            ("2026-12-31T17:00", on(2026, 12, 31, Some((17, 0)))),
            ("2026-12-31 (17:00)", on(2026, 12, 31, Some((17, 0)))),
            ("31 december 2026", on(2026, 12, 31, None)),
            ("31 Dec 2026 17:00", on(2026, 12, 31, Some((17, 0)))),
            ("3 mei 2027", on(2027, 5, 3, None)),
            ("do 31-12-2026 17:00", on(2026, 12, 31, Some((17, 0)))),
            ("Thu 31 Dec 2026 17:00", on(2026, 12, 31, Some((17, 0)))),
            ("donderdag 31-12-2026", on(2026, 12, 31, None)),
            (
                "morgen 17:00",
                When::FromToday {
                    days: 1,
                    time: t(17, 0),
                },
            ),
            (
                "Morgen om 17.00",
                When::FromToday {
                    days: 1,
                    time: t(17, 0),
                },
            ),
            (
                "tomorrow at 17:00",
                When::FromToday {
                    days: 1,
                    time: t(17, 0),
                },
            ),
            (
                "tomorrow",
                When::FromToday {
                    days: 1,
                    time: None,
                },
            ),
            (
                "vandaag 16:30",
                When::FromToday {
                    days: 0,
                    time: t(16, 30),
                },
            ),
            (
                "overmorgen",
                When::FromToday {
                    days: 2,
                    time: None,
                },
            ),
            (
                "vrijdag",
                When::Next {
                    weekday: Weekday::Fri,
                    time: None,
                },
            ),
            (
                "Vrijdag om 12.00 uur",
                When::Next {
                    weekday: Weekday::Fri,
                    time: t(12, 0),
                },
            ),
            (
                "vrijdag 17.00 uur",
                When::Next {
                    weekday: Weekday::Fri,
                    time: t(17, 0),
                },
            ),
            (
                "fri at 17:00",
                When::Next {
                    weekday: Weekday::Fri,
                    time: t(17, 0),
                },
            ),
            (
                "ma 9:30",
                When::Next {
                    weekday: Weekday::Mon,
                    time: t(9, 30),
                },
            ),
            // English readers' twelve-hour clock.
            (
                "friday 5pm",
                When::Next {
                    weekday: Weekday::Fri,
                    time: t(17, 0),
                },
            ),
            (
                "Friday at 5 PM",
                When::Next {
                    weekday: Weekday::Fri,
                    time: t(17, 0),
                },
            ),
            (
                "tomorrow 9:30am",
                When::FromToday {
                    days: 1,
                    time: t(9, 30),
                },
            ),
            (
                "today 12pm",
                When::FromToday {
                    days: 0,
                    time: t(12, 0),
                },
            ),
            ("31 Dec 2026 5.30pm", on(2026, 12, 31, Some((17, 30)))),
            // A whole hour as Dutch writes it.
            (
                "vrijdag om 17 uur",
                When::Next {
                    weekday: Weekday::Fri,
                    time: t(17, 0),
                },
            ),
            (
                "vrijdag 17u",
                When::Next {
                    weekday: Weekday::Fri,
                    time: t(17, 0),
                },
            ),
            (
                "morgen 12 uur",
                When::FromToday {
                    days: 1,
                    time: t(12, 0),
                },
            ),
            ("31-12-2026 17 uur", on(2026, 12, 31, Some((17, 0)))),
            (
                "vr 9.30u",
                When::Next {
                    weekday: Weekday::Fri,
                    time: t(9, 30),
                },
            ),
            ("48 uur", When::Hours(48)),
            ("17u", When::Hours(17)),
        ] {
            assert_eq!(parse_when(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn nonsense_and_impossible_dates_are_refused() {
        for text in [
            "",
            "soon",
            "-3d",
            "0d",
            "3x",
            "367d",
            "31-02-2027",
            "2026-12-31 25:00",
            "12-31-2026",
            "17:00",
            "morgen 17",
            "2026/12/31",
            "31-12-26",
            "vrijdagmiddag",
            "vrijdag morgen",
            "vr 5.12",
            "vrijdag 12.12",
            "5pm",
            "friday 13pm",
            "friday 0am",
            "friday 5:3pm",
            "friday pm",
            "today 12:30 a.m.",
            "vrijdag 24 uur",
            "morgen 48 uur",
        ] {
            assert_eq!(parse_when(text), Err(WhenError::Unreadable), "{text:?}");
        }
        assert_eq!(
            parse_when("ma 31-12-2026"),
            Err(WhenError::WrongWeekday {
                date: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
            })
        );
    }

    #[test]
    fn an_hour_with_two_readings_is_asked_again_with_both() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        for (text, early, late) in [
            ("morgen om 9 uur", t(9, 0), t(21, 0)),
            ("vrijdag 8 uur", t(8, 0), t(20, 0)),
            ("morgen 9u", t(9, 0), t(21, 0)),
            ("31-12-2026 11 uur", t(11, 0), t(23, 0)),
            ("friday 12am", t(0, 0), t(23, 59)),
        ] {
            assert_eq!(
                parse_when(text),
                Err(WhenError::AmbiguousHour { early, late }),
                "{text}"
            );
        }
        // Without a day that reads, it is just unreadable.
        for text in ["9 uur later", "soon 9u", "om 9 uur"] {
            assert_eq!(parse_when(text), Err(WhenError::Unreadable), "{text}");
        }
    }

    #[test]
    fn local_times_become_utc_with_summer_time() {
        let z = DEFAULT_ZONE;
        let now = utc("2026-06-01T10:00:00Z");
        // Winter: UTC+1; summer: UTC+2.
        let winter = resolve(parse_when("31-12-2026 17:00").unwrap(), now, z);
        assert_eq!(winter, utc("2026-12-31T16:00:00Z"));
        let summer = resolve(parse_when("15-07-2026 17:00").unwrap(), now, z);
        assert_eq!(summer, utc("2026-07-15T15:00:00Z"));
        // A day alone: 17:00 local.
        let day = resolve(parse_when("31-12-2026").unwrap(), now, z);
        assert_eq!(day, utc("2026-12-31T16:00:00Z"));
        // Another zone, for a collaboration that set one.
        let london = parse_zone("europe/london").unwrap();
        let there = resolve(parse_when("31-12-2026 17:00").unwrap(), now, london);
        assert_eq!(there, utc("2026-12-31T17:00:00Z"));
    }

    #[test]
    fn a_weekday_is_the_next_one_after_today_in_local_time() {
        let z = DEFAULT_ZONE;
        // Monday 7 December 2026, 10:00 in Amsterdam.
        let monday = utc("2026-12-07T09:00:00Z");
        let at = |text, now| date_time(Lang::Nl, z, resolve(parse_when(text).unwrap(), now, z));
        assert_eq!(at("vrijdag", monday), "vr 11-12-2026 17:00");
        assert_eq!(at("di 9:00", monday), "di 08-12-2026 09:00");
        assert_eq!(
            at("maandag 17:00", monday),
            "ma 14-12-2026 17:00",
            "not today"
        );
        // 23:30 UTC on Sunday is already Monday in Amsterdam: "maandag" is a week on.
        let sunday_night = utc("2026-12-06T23:30:00Z");
        assert_eq!(at("maandag", sunday_night), "ma 14-12-2026 17:00");
        assert_eq!(at("zondag", sunday_night), "zo 13-12-2026 17:00");
    }

    #[test]
    fn tomorrow_is_local_tomorrow() {
        // 23:30 UTC on 31 March is already 1 April in Amsterdam: tomorrow is 2 April.
        let now = utc("2026-03-31T23:30:00Z");
        let at = resolve(parse_when("morgen 17:00").unwrap(), now, DEFAULT_ZONE);
        assert_eq!(at, utc("2026-04-02T15:00:00Z"));
    }

    #[test]
    fn days_keep_the_clock_time_across_summer_time() {
        // Friday 27 March 2026 10:00 CET; summer time starts on Sunday the 29th.
        let now = utc("2026-03-27T09:00:00Z");
        let at = resolve(When::Days(3), now, DEFAULT_ZONE);
        assert_eq!(at, utc("2026-03-30T08:00:00Z"), "Monday 10:00 CEST");
        let hours = resolve(When::Hours(72), now, DEFAULT_ZONE);
        assert_eq!(hours, utc("2026-03-30T09:00:00Z"), "hours are exact");
    }

    #[test]
    fn the_skipped_and_the_repeated_hour() {
        let z = DEFAULT_ZONE;
        let now = utc("2026-01-01T00:00:00Z");
        // 29 March 2026 02:30 does not exist in Amsterdam: it counts as 03:30 summer time.
        let gap = resolve(parse_when("29-03-2026 02:30").unwrap(), now, z);
        assert_eq!(gap, utc("2026-03-29T01:30:00Z"));
        assert_eq!(date_time(Lang::Nl, z, gap), "zo 29-03-2026 03:30");
        // 25 October 2026 02:30 happens twice: the first, summer time.
        let twice = resolve(parse_when("25-10-2026 02:30").unwrap(), now, z);
        assert_eq!(twice, utc("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn times_read_the_dutch_way() {
        let at = utc("2026-12-31T16:00:00Z");
        assert_eq!(date_time(Lang::Nl, DEFAULT_ZONE, at), "do 31-12-2026 17:00");
        assert_eq!(
            date_time(Lang::En, DEFAULT_ZONE, at),
            "Thu 31 Dec 2026 17:00"
        );
        assert_eq!(
            short_date_time(Lang::Nl, DEFAULT_ZONE, at),
            "31-12-2026 17:00"
        );
        let london = parse_zone("Europe/London").unwrap();
        assert_eq!(
            date_time(Lang::Nl, london, at),
            "do 31-12-2026 16:00 (Europe/London)"
        );
        // Late evening UTC is already the next day in Amsterdam.
        let late = utc("2026-12-31T23:30:00Z");
        assert_eq!(date(Lang::Nl, DEFAULT_ZONE, late), "01-01-2027");
        // What the academy shows can be typed back.
        for lang in [Lang::Nl, Lang::En] {
            let shown = date_time(lang, DEFAULT_ZONE, at);
            let back = resolve(parse_when(&shown).unwrap(), at, DEFAULT_ZONE);
            assert_eq!(back, at, "{shown}");
        }
    }

    #[test]
    fn easter_matches_known_dates() {
        for (y, m, d) in [
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
        ] {
            assert_eq!(easter(y), NaiveDate::from_ymd_opt(y, m, d), "{y}");
        }
    }

    #[test]
    fn the_dutch_holidays_of_2027() {
        let d = |m, day| NaiveDate::from_ymd_opt(2027, m, day).unwrap();
        let names: Vec<(NaiveDate, &str)> = dutch_holidays(2027);
        assert_eq!(
            names,
            vec![
                (d(1, 1), "Nieuwjaarsdag"),
                (d(3, 28), "Eerste Paasdag"),
                (d(3, 29), "Tweede Paasdag"),
                (d(4, 27), "Koningsdag"),
                (d(5, 5), "Bevrijdingsdag"),
                (d(5, 6), "Hemelvaartsdag"),
                (d(5, 16), "Eerste Pinksterdag"),
                (d(5, 17), "Tweede Pinksterdag"),
                (d(12, 25), "Eerste Kerstdag"),
                (d(12, 26), "Tweede Kerstdag"),
            ]
        );
        assert_eq!(
            dutch_holiday(d(3, 26)),
            None,
            "Goede Vrijdag is a working day"
        );
    }

    #[test]
    fn kings_day_moves_off_a_sunday() {
        // 27 April 2025 and 2031 are Sundays.
        assert_eq!(
            dutch_holiday(NaiveDate::from_ymd_opt(2025, 4, 26).unwrap()),
            Some("Koningsdag")
        );
        assert_eq!(
            dutch_holiday(NaiveDate::from_ymd_opt(2025, 4, 27).unwrap()),
            None
        );
        assert_eq!(
            dutch_holiday(NaiveDate::from_ymd_opt(2031, 4, 26).unwrap()),
            Some("Koningsdag")
        );
    }
}
