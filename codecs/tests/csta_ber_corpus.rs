//! Stable replay of the CSTA BER fuzz corpora (`fuzz/corpus/csta_ber_*/`) and of the real OXE
//! captures through the same entry points the libFuzzer targets call.

use ctigw_codecs::csta_ber::{decode_pdu, fuzz};
use ctigw_codecs::hex::parse_hex_text;
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
    let mut failed = Vec::new();
    for (target, entry) in [
        ("csta_ber_frame", fuzz::frame as fn(&[u8])),
        ("csta_ber_pdu", fuzz::pdu),
        ("csta_ber_acse", fuzz::acse),
    ] {
        let seeds = corpus(target);
        assert!(!seeds.is_empty(), "no seeds for {target}");
        for path in seeds {
            let data = std::fs::read(&path).unwrap();
            // Every seed runs, so one failure does not hide the next; all are named at the end.
            if std::panic::catch_unwind(|| entry(&data)).is_err() {
                failed.push(format!(
                    "{target}/{}",
                    path.file_name().unwrap().to_string_lossy()
                ));
            }
            n += 1;
        }
    }
    assert!(failed.is_empty(), "failing seeds: {failed:#?}");
    assert!(n >= 20, "{n} corpus files");
}

#[test]
fn hand_made_pdu_seeds_all_decode() {
    for path in corpus("csta_ber_pdu") {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("seed-") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        if let Err(e) = decode_pdu(&data) {
            panic!("{name}: {e}");
        }
    }
}

#[test]
fn replay_real_captures() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/real/oxe");
    let captures = files(&dir);
    assert!(!captures.is_empty());
    for path in captures {
        let bytes = parse_hex_text(&std::fs::read_to_string(&path).unwrap()).unwrap();
        fuzz::frame(&bytes);
        // Each frame's BER value through the PDU and ACSE entry points too.
        let mut rest = &bytes[..];
        if let Some((&b, tail)) = rest.split_first() {
            if b == b'B' || b == b'P' {
                rest = tail;
            }
        }
        while let [h, l, tail @ ..] = rest {
            let n = usize::from(u16::from_be_bytes([*h, *l]));
            let Some(ber) = tail.get(..n) else { break };
            fuzz::pdu(ber);
            fuzz::acse(ber);
            rest = &tail[n..];
        }
    }
}
