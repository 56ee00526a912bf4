//! Stable replay of the AMI fuzz corpus: every file in `fuzz/corpus/ami_frame/` and the real
//! captures in `fixtures/real/ami/` go through `ami::fuzz::frame`, the same
//! entry point the `ami_frame` fuzz target calls.

use std::path::{Path, PathBuf};

use ctigw_codecs::ami::fuzz::frame;

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn corpus_replays() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/ami_frame");
    let files = files_in(&dir);
    assert!(
        files.len() >= 5,
        "committed seeds missing in {}",
        dir.display()
    );
    for f in files {
        let data = std::fs::read(&f).unwrap();
        frame(&data);
        // Every prefix too: the shapes a truncated read leaves behind.
        if data.len() <= 512 {
            for end in 0..data.len() {
                frame(&data[..end]);
            }
        }
    }
}

#[test]
fn real_captures_replay() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/real/ami");
    let captures: Vec<PathBuf> = files_in(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "ami"))
        .collect();
    assert_eq!(captures.len(), 2, "{}", dir.display());
    for f in captures {
        frame(&std::fs::read(&f).unwrap());
    }
}
