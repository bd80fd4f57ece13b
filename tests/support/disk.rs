//! What a person could find in the academy's data folder with a byte search: the check the
//! privacy tests make after a deletion.

use std::path::Path;

/// Whether any file under `dir` holds `needle`'s bytes; a file or folder named as in `skip` (the
/// member's own export) is not looked in.
pub fn folder_holds(dir: &Path, needle: &[u8], skip: &[&str]) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| {
        let path = e.unwrap().path();
        if path
            .file_name()
            .is_some_and(|n| skip.iter().any(|s| n == *s))
        {
            false
        } else if path.is_dir() {
            folder_holds(&path, needle, skip)
        } else {
            let bytes = std::fs::read(&path).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle)
        }
    })
}
