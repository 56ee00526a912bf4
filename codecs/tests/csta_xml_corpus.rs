//! Stable replay of the CSTA XML fuzz corpora (`fuzz/corpus/csta_xml_*/`) through the same
//! entry points the libFuzzer targets call.

use ctigw_codecs::csta_xml::{Message, fuzz};
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    v.sort();
    v
}

fn corpus(target: &str) -> Vec<PathBuf> {
    files(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/corpus")
            .join(target),
    )
}

#[test]
fn replay_corpora() {
    let mut n = 0;
    for (target, entry) in [
        ("csta_xml_document", fuzz::document as fn(&[u8])),
        ("csta_xml_tcp_frame", fuzz::tcp_frame),
    ] {
        let seeds = corpus(target);
        assert!(!seeds.is_empty(), "no seeds for {target}");
        for path in seeds {
            let data = std::fs::read(&path).unwrap();
            entry(&data);
            n += 1;
        }
    }
    assert!(n >= 20, "{n} corpus files");
}

#[test]
fn hand_made_document_seeds_decode_except_the_refused_ones() {
    for path in corpus("csta_xml_document") {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("seed-") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let got = Message::decode(&data);
        if name == "seed-doctype" {
            assert!(got.is_err(), "{name}");
        } else if let Err(e) = got {
            panic!("{name}: {e}");
        }
    }
}
