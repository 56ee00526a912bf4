//! Correlator scenarios driven from wire bytes: an event list with unrelated events
//! interleaved, a legacy `Response: Follows`, an `Error` response, and pending ids.

use ctigw_codecs::ami::{Action, ActionIdGen, AmiCodec, Correlated, Correlator, Message};

fn decode(wire: &str) -> Vec<Message> {
    AmiCodec::server()
        .decode_all(wire.as_bytes())
        .into_iter()
        .map(|i| i.expect("decodes"))
        .collect()
}

fn run(c: &mut Correlator, wire: &str) -> Vec<Correlated> {
    decode(wire)
        .into_iter()
        .filter_map(|m| c.receive(m))
        .collect()
}

#[test]
fn event_list_with_interleaved_events() {
    let mut ids = ActionIdGen::new("gw");
    let id = ids.next_id();
    let action = Action::new("CoreShowChannels").id(&id);
    let mut c = Correlator::new();
    c.register(action.action_id().unwrap());
    let wire = format!(
        "Response: Success\r\nActionID: {id}\r\nEventList: start\r\nMessage: Channels will follow\r\n\r\n\
         Event: CoreShowChannel\r\nActionID: {id}\r\nChannel: SIP/100-1\r\n\r\n\
         Event: Newstate\r\nChannel: SIP/200-2\r\nChannelState: 5\r\n\r\n\
         Event: OriginateResponse\r\nActionID: other\r\nResponse: Success\r\n\r\n\
         Event: CoreShowChannel\r\nActionID: {id}\r\nChannel: SIP/101-3\r\n\r\n\
         Event: Hangup\r\nChannel: SIP/200-2\r\nCause: 16\r\n\r\n\
         Event: CoreShowChannelsComplete\r\nActionID: {id}\r\nEventList: Complete\r\nListItems: 2\r\n\r\n\
         Event: Newchannel\r\nChannel: SIP/300-4\r\n\r\n"
    );
    assert_eq!(c.pending_ids().collect::<Vec<_>>(), [id.as_str()]);
    let out = run(&mut c, &wire);
    let kinds: Vec<String> = out
        .iter()
        .map(|o| match o {
            Correlated::Event(m) => format!("event {}", m.event().unwrap()),
            Correlated::List(l) => format!("list {} {}", l.action_id, l.items.len()),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "event Newstate",
            "event OriginateResponse",
            "event Hangup",
            format!("list {id} 2").as_str(),
            "event Newchannel"
        ]
    );
    let Some(Correlated::List(list)) = out.iter().find(|o| matches!(o, Correlated::List(_))) else {
        unreachable!()
    };
    assert_eq!(
        list.items
            .iter()
            .map(|m| m.get("Channel").unwrap())
            .collect::<Vec<_>>(),
        ["SIP/100-1", "SIP/101-3"]
    );
    assert_eq!(list.list_items(), Some(2));
    assert_eq!(list.response.get("Message"), Some("Channels will follow"));
    assert!(!list.cancelled());
    assert!(c.is_empty());
}

#[test]
fn follows_output_is_the_response() {
    let mut c = Correlator::new();
    c.register("cmd1");
    let out = run(
        &mut c,
        "Event: FullyBooted\r\nStatus: Fully Booted\r\n\r\n\
         Response: Follows\r\nPrivilege: Command\r\nActionID: cmd1\r\n\
         Name/username              Host            Dyn\r\n\
         9170/9170                  10.0.0.185       D\r\n\
         1 sip peers [Monitored: 1 online]\r\n\
         --END COMMAND--\r\n\r\n",
    );
    assert_eq!(out.len(), 2);
    assert!(matches!(&out[0], Correlated::Event(m) if m.event() == Some("FullyBooted")));
    let Correlated::Response {
        action_id,
        response,
    } = &out[1]
    else {
        panic!("{:?}", out[1])
    };
    assert_eq!(action_id, "cmd1");
    assert!(response.is_follows());
    assert_eq!(response.get("Privilege"), Some("Command"));
    assert_eq!(
        response.output(),
        [
            "Name/username              Host            Dyn",
            "9170/9170                  10.0.0.185       D",
            "1 sip peers [Monitored: 1 online]"
        ]
    );
}

#[test]
fn error_response_ends_the_action_even_for_a_list() {
    let mut c = Correlator::new();
    c.register_list("q1");
    c.register("h1");
    let out = run(
        &mut c,
        "Response: Error\r\nActionID: q1\r\nMessage: Permission denied\r\n\r\n\
         Response: Error\r\nActionID: h1\r\nMessage: No such channel\r\n\r\n\
         Response: Success\r\nActionID: nobody\r\n\r\n",
    );
    assert_eq!(out.len(), 3);
    for (o, id, msg) in [
        (&out[0], "q1", "Permission denied"),
        (&out[1], "h1", "No such channel"),
    ] {
        let Correlated::Response {
            action_id,
            response,
        } = o
        else {
            panic!("{o:?}")
        };
        assert_eq!(action_id, id);
        assert!(response.is_error());
        assert_eq!(response.get("Message"), Some(msg));
    }
    assert!(matches!(&out[2], Correlated::Unmatched(m) if m.action_id() == Some("nobody")));
    assert!(c.is_empty());
}

#[test]
fn pending_ids_let_the_caller_time_out() {
    let mut c = Correlator::new();
    c.register("a");
    c.register("b");
    let mut ids: Vec<&str> = c.pending_ids().collect();
    ids.sort_unstable();
    assert_eq!(ids, ["a", "b"]);
    run(
        &mut c,
        "Response: Success\r\nActionID: b\r\nEventList: start\r\n\r\nEvent: Item\r\nActionID: b\r\n\r\n",
    );
    assert_eq!(c.len(), 2);
    match c.cancel("b") {
        Some(ctigw_codecs::ami::Pending::List { items, .. }) => assert_eq!(items.len(), 1),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.pending_ids().collect::<Vec<_>>(), ["a"]);
    // A late item of the cancelled list now passes through.
    let out = run(
        &mut c,
        "Event: ItemComplete\r\nActionID: b\r\nEventList: Complete\r\n\r\n",
    );
    assert!(matches!(&out[..], [Correlated::Event(_)]));
}

#[test]
fn goodbye_answers_logoff() {
    let mut c = Correlator::new();
    c.register("bye");
    let out = run(
        &mut c,
        "Response: Goodbye\r\nActionID: bye\r\nMessage: Thanks for all the fish.\r\n\r\n",
    );
    assert!(
        matches!(&out[..], [Correlated::Response { response, .. }] if response.response() == Some("Goodbye"))
    );
}
