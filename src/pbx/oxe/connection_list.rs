//! The parties an OXE names in the events that move them between calls: the entries of a
//! Conferenced or Transferred connection list (the connection after the operation, the one
//! before when the PBX gives it, and the number at its end), and the destination of a
//! Diverted event (the OXE sends it as a SubjectDeviceID where the standard has a
//! CalledDeviceID). Read from the real frames in `fixtures/real/oxe-public/`.

use ctigw_codecs::csta_ber::events::DivertedEvent;
use ctigw_codecs::csta_ber::types::{ConnectionId, ConnectionList, DeviceId};

/// One entry of a connection list, as the mapping uses it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ListedParty<'a> {
    /// The connection in the call that survives the operation.
    pub(crate) new: &'a ConnectionId,
    /// The same party's connection before the operation, when the PBX says.
    pub(crate) old: Option<&'a ConnectionId>,
    /// The party's number, when the PBX names it (the OXE always does).
    pub(crate) number: Option<String>,
}

/// The entries of `list` that name a connection after the operation, in list order.
pub(crate) fn listed_parties(list: Option<&ConnectionList>) -> Vec<ListedParty<'_>> {
    let Some(ConnectionList(items)) = list else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            Some(ListedParty {
                new: item.connection()?,
                old: item.old_connection(),
                number: item.endpoint().and_then(number),
            })
        })
        .collect()
}

/// Where a Diverted event sent the call, in whichever of the two forms it came.
pub(crate) fn diverted_destination(e: &DivertedEvent) -> Option<String> {
    e.destination_digits()
        .and_then(|d| d.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn number(d: &DeviceId) -> Option<String> {
    d.digits()
        .and_then(|d| d.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctigw_codecs::csta_ber::types::{
        AppDevice, ConnectionListEntry, ConnectionListItem, ConnectionParty, DeviceRef, Endpoint,
    };

    fn conn(call: u8, dev: u8) -> ConnectionId {
        ConnectionId::dynamic(&[0, call], &[dev, 0, 1, 0])
    }

    #[test]
    fn every_form_of_entry_gives_its_connection_and_number() {
        let list = ConnectionList(vec![
            ConnectionListItem::Party(ConnectionParty {
                connection: Some(conn(1, 1)),
                endpoint: Some(DeviceId::dialing("00789616004")),
                unknown: vec![],
            }),
            ConnectionListItem::Item(ConnectionListEntry {
                new_connection: Some(conn(1, 2)),
                old_connection: Some(conn(2, 2)),
                endpoint: Some(Endpoint::Device(DeviceId::ImplicitPrivate("24103".into()))),
                unknown: vec![],
            }),
            ConnectionListItem::Item(ConnectionListEntry {
                new_connection: Some(conn(1, 3)),
                old_connection: None,
                endpoint: Some(Endpoint::NotKnown),
                unknown: vec![],
            }),
            ConnectionListItem::Connection(conn(1, 4)),
            // no connection after the operation: not a party of the survivor
            ConnectionListItem::Item(ConnectionListEntry {
                new_connection: None,
                old_connection: Some(conn(2, 5)),
                endpoint: None,
                unknown: vec![],
            }),
            ConnectionListItem::Party(ConnectionParty {
                connection: Some(conn(1, 6)),
                endpoint: Some(DeviceId::dialing("")),
                unknown: vec![],
            }),
        ]);
        let got: Vec<_> = listed_parties(Some(&list))
            .into_iter()
            .map(|p| (p.new.clone(), p.old.cloned(), p.number))
            .collect();
        assert_eq!(
            got,
            vec![
                (conn(1, 1), None, Some("00789616004".to_string())),
                (conn(1, 2), Some(conn(2, 2)), Some("24103".to_string())),
                (conn(1, 3), None, None),
                (conn(1, 4), None, None),
                (conn(1, 6), None, None),
            ]
        );
        assert!(listed_parties(None).is_empty());
    }

    #[test]
    fn diverted_destination_in_either_form() {
        let mut e = DivertedEvent {
            connection: Some(conn(1, 1)),
            diverting_device: Some(AppDevice::device(DeviceId::ImplicitPrivate("24002".into()))),
            new_destination: None,
            new_destination_subject: Some(AppDevice::device(DeviceId::ImplicitPrivate(
                "24640".into(),
            ))),
            local_connection_info: None,
            cause: None,
            unknown: vec![],
        };
        assert_eq!(diverted_destination(&e).as_deref(), Some("24640"));
        e.new_destination = Some(AppDevice::device(DeviceId::dialing("24760")));
        assert_eq!(diverted_destination(&e).as_deref(), Some("24760"));
        e.new_destination = Some(AppDevice(DeviceRef::NotKnown));
        assert_eq!(diverted_destination(&e), None);
        e.new_destination = None;
        e.new_destination_subject = None;
        assert_eq!(diverted_destination(&e), None);
    }
}
