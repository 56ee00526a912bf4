//! The public real OXE frames of `fixtures/real/oxe-public/` through the OXE adapter's sans-IO
//! mapping: the party a conference adds, the party a transfer hands the call to, and the
//! destination of a diversion come out as parties of the call (they used to be lost in the
//! decoder's `unknown`). The engine-level replay of the same frames is the fixture
//! `fixtures/oxe/real-conference-transfer-divert.txt`, run by `tests/oxe_replay.rs`.

use ctigw::model::{CallEvent, CallEventKind, ConnectionState as S, DialPlan, PbxEvent};
use ctigw::tools::replay;
use std::path::Path;

fn bytes(path: &str) -> Vec<u8> {
    ctigw::tools::read_input(&Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .expect("frame readable")
}

/// The call events the mapping makes of these files, fed in order to one replayer.
fn call_events(files: &[&str]) -> Vec<CallEvent> {
    let mut r = replay::replayer("oxe", &DialPlan::default()).unwrap();
    let mut out = Vec::new();
    for f in files {
        out.extend(r.feed(&bytes(f)));
    }
    out.extend(r.finish());
    out.into_iter()
        .map(|e| e.unwrap_or_else(|e| panic!("{e}")))
        .filter_map(|e| match e {
            PbxEvent::Call(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn states(c: &CallEvent) -> Vec<(String, S)> {
    c.connections
        .iter()
        .map(|u| (u.device.to_string(), u.state))
        .collect()
}

#[test]
fn a_conference_names_the_added_outside_party() {
    let evs = call_events(&["fixtures/real/oxe-public/conferenced.hex"]);
    let c = evs
        .iter()
        .find(|c| c.kind == CallEventKind::Conferenced)
        .expect("conferenced");
    // the conference call (2b82) absorbs the two old calls
    assert_eq!(c.call, "2b82");
    let mut merged = c.merged.clone();
    merged.sort();
    assert_eq!(merged, vec!["2b7a".to_string(), "2b7e".to_string()]);
    let st = states(c);
    for party in ["24103", "0017", "00789616004"] {
        assert!(
            st.contains(&(party.to_string(), S::Connected)),
            "{party} not connected in {st:?}"
        );
    }
}

#[test]
fn a_transfer_names_the_party_the_call_went_to() {
    let evs = call_events(&[
        "fixtures/real/oxe/retrieved.hex",
        "fixtures/real/oxe-public/transferred.hex",
    ]);
    let c = evs
        .iter()
        .find(|c| c.kind == CallEventKind::Transferred)
        .expect("transferred");
    assert_eq!(c.call, "2dce");
    assert_eq!(c.merged, vec!["2dc5".to_string()]);
    let st = states(c);
    // The new party sits at the end of the trunk connection 75302 had (dynamic id 02620104):
    // the number in the list wins over what that dynamic id meant before the transfer.
    assert!(
        st.contains(&("000605937978".to_string(), S::Connected)),
        "{st:?}"
    );
    assert!(st.contains(&("24153".to_string(), S::Connected)), "{st:?}");
    assert!(st.contains(&("75302".to_string(), S::Null)), "{st:?}");
}

#[test]
fn a_diversion_names_its_new_destination() {
    for (file, from, to) in [
        ("fixtures/real/oxe-public/diverted.hex", "24002", "24640"),
        ("fixtures/real/oxe-public/diverted-2.hex", "24005", "24760"),
    ] {
        let evs = call_events(&[file]);
        let c = evs
            .iter()
            .find(|c| c.kind == CallEventKind::Diverted)
            .unwrap_or_else(|| panic!("{file}: no diverted in {evs:?}"));
        assert_eq!(c.called.as_deref(), Some(to), "{file}");
        assert_eq!(states(c), vec![(from.to_string(), S::Null)], "{file}");
    }
}
