//! Stable replay of the SIP fuzz corpora: every file in `fuzz/corpus/sip_frame/` and
//! `fuzz/corpus/sip_message/`, and every fixture under `fixtures/sip/`, goes through
//! `sip::fuzz::frame` and `sip::fuzz::message`, the entry points the fuzz targets call.

use std::path::{Path, PathBuf};

use ctigw_codecs::sip::fuzz::{frame, message};

fn files_in(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        let hidden = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if p.is_dir() {
            files_in(&p, out);
        } else if !hidden {
            out.push(p);
        }
    }
}

fn replay(dir: &str, min: usize) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files = Vec::new();
    files_in(&dir, &mut files);
    files.sort();
    assert!(files.len() >= min, "seeds missing in {}", dir.display());
    for f in files {
        let data = std::fs::read(&f).unwrap();
        frame(&data);
        message(&data);
        // Every prefix too, for the small ones: the shapes a truncated read leaves behind.
        if data.len() <= 700 {
            for end in 0..data.len() {
                frame(&data[..end]);
            }
        }
    }
}

#[test]
fn frame_corpus_replays() {
    replay("../fuzz/corpus/sip_frame", 5);
}

#[test]
fn message_corpus_replays() {
    replay("../fuzz/corpus/sip_message", 3);
}

#[test]
fn fixtures_replay() {
    replay("../fixtures/sip", 40);
}
