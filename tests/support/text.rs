//! The check most tests make of a reply or a program's output: a piece of text is in it, or is
//! not; on failure the whole text is shown, as every test did by hand.

/// Fails the test unless `text` holds `needle`.
#[track_caller]
pub fn contains(text: &str, needle: &str) {
    assert!(text.contains(needle), "{needle:?} is not in:\n{text}");
}

/// Fails the test if `text` holds `needle`.
#[track_caller]
pub fn lacks(text: &str, needle: &str) {
    assert!(
        !text.contains(needle),
        "{needle:?} should not be in:\n{text}"
    );
}
