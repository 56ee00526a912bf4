//! CSTA XML documents written from the ECMA-323 / ECMA-354 schema facts and the shapes in
//! PROTOCOLS.md section 3: one per message kind, each read in every namespace style (default
//! namespace, `ns3:` prefixes, none) and every edition; the MakeCall example byte for byte;
//! vendor device identifiers; unknown elements kept; errors located; limits.

use ctigw_codecs::csta_xml::*;

const C: &str = "<callID>12</callID><deviceID>24103</deviceID>";

fn d(id: &str) -> String {
    format!("<deviceIdentifier>{id}</deviceIdentifier>")
}

fn conn(name: &str) -> String {
    format!("<{name}>{C}</{name}>")
}

/// Every message kind: root element and body (unprefixed).
fn samples() -> Vec<(&'static str, String)> {
    let mx = "<monitorCrossRefID>7</monitorCrossRefID>";
    let cause = "<localConnectionInfo>connected</localConnectionInfo><cause>normal</cause>";
    let dev = |n: &str, id: &str| format!("<{n}>{}</{n}>", d(id));
    vec![
        ("MonitorStart", "<monitorObject><deviceObject>24103</deviceObject></monitorObject><monitorType>device</monitorType>".into()),
        ("MonitorStartResponse", format!("{mx}<actualMonitorFilter><callControl/></actualMonitorFilter>")),
        ("MonitorStop", mx.into()),
        ("MonitorStopResponse", String::new()),
        ("SnapshotDevice", "<snapshotObject>24103</snapshotObject>".into()),
        ("SnapshotDeviceResponse", format!(
            "<crossRefIDorSnapshotData><snapshotData><snapshotDeviceResponseInfo>{}<localCallState><compoundCallState><localConnectionState>connected</localConnectionState></compoundCallState></localCallState></snapshotDeviceResponseInfo><snapshotDeviceResponseInfo><connectionIdentifier><callID>13</callID><deviceID>24103</deviceID></connectionIdentifier><localCallState><compoundCallState><localConnectionState>hold</localConnectionState></compoundCallState></localCallState></snapshotDeviceResponseInfo></snapshotData></crossRefIDorSnapshotData>",
            conn("connectionIdentifier"))),
        ("MakeCall", "<callingDevice>tel:+3312345</callingDevice><calledDirectoryNumber>tel:+3367890</calledDirectoryNumber><autoOriginate>doNotPrompt</autoOriginate>".into()),
        ("MakeCallResponse", conn("callingDevice")),
        ("AnswerCall", conn("callToBeAnswered")),
        ("AnswerCallResponse", String::new()),
        ("ClearConnection", conn("connectionToBeCleared")),
        ("ClearConnectionResponse", String::new()),
        ("ClearCall", conn("callToBeCleared")),
        ("ClearCallResponse", String::new()),
        ("HoldCall", conn("callToBeHeld")),
        ("HoldCallResponse", String::new()),
        ("RetrieveCall", conn("callToBeRetrieved")),
        ("RetrieveCallResponse", String::new()),
        ("ConsultationCall", format!("{}<consultedDevice>24104</consultedDevice>", conn("existingCall"))),
        ("ConsultationCallResponse", conn("initiatedCall")),
        ("TransferCall", format!("{}{}", conn("heldCall"), conn("activeCall"))),
        ("TransferCallResponse", conn("transferredCall")),
        ("ConferenceCall", format!("{}{}", conn("heldCall"), conn("activeCall"))),
        ("ConferenceCallResponse", conn("conferenceCall")),
        ("AlternateCall", format!("{}{}", conn("heldCall"), conn("activeCall"))),
        ("AlternateCallResponse", String::new()),
        ("DeflectCall", format!("{}<newDestination>24105</newDestination>", conn("callToBeDiverted"))),
        ("DeflectCallResponse", String::new()),
        ("SingleStepTransferCall", format!("{}<transferredTo>24105</transferredTo>", conn("activeCall"))),
        ("SingleStepTransferCallResponse", conn("transferredCall")),
        ("GenerateDigits", format!("{}<charactersToSend>12#</charactersToSend>", conn("connectionToSendDigits"))),
        ("GenerateDigitsResponse", String::new()),
        ("SetForwarding", "<device>24103</device><forwardingType>forwardImmediate</forwardingType><activateForward>true</activateForward><forwardDN>24200</forwardDN>".into()),
        ("SetForwardingResponse", String::new()),
        ("GetForwarding", "<device>24103</device>".into()),
        ("GetForwardingResponse", "<forwardingList><forwardListItem><forwardingType>forwardBusy</forwardingType><forwardStatus>true</forwardStatus><forwardDN>24200</forwardDN></forwardListItem><forwardListItem><forwardingType>forwardNoAns</forwardingType><forwardStatus>false</forwardStatus></forwardListItem></forwardingList>".into()),
        ("SetDoNotDisturb", "<device>24103</device><doNotDisturbOn>true</doNotDisturbOn>".into()),
        ("SetDoNotDisturbResponse", String::new()),
        ("GetDoNotDisturb", "<device>24103</device>".into()),
        ("GetDoNotDisturbResponse", "<doNotDisturbOn>false</doNotDisturbOn>".into()),
        ("SetAgentState", "<device>24103</device><requestedAgentState>loggedOn</requestedAgentState><agentID>4001</agentID><group>5000</group>".into()),
        ("SetAgentStateResponse", String::new()),
        ("GetAgentState", "<device>24103</device>".into()),
        ("GetAgentStateResponse", "<agentStateList><agentStateEntry><agentID>4001</agentID><loggedOnState>true</loggedOnState><agentInfo><agentInfoItem><acdGroup>5000</acdGroup><agentState>agentReady</agentState></agentInfoItem></agentInfo></agentStateEntry></agentStateList>".into()),
        ("CSTAErrorCode", "<stateIncompatibility>invalidObjectState</stateIncompatibility>".into()),
        ("StartApplicationSession", "<applicationInfo><applicationID>ctigw</applicationID><applicationSpecificInfo><userName>u</userName></applicationSpecificInfo></applicationInfo><requestedProtocolVersions><protocolVersion>http://www.ecma-international.org/standards/ecma-323/csta/ed4</protocolVersion><protocolVersion>http://www.ecma-international.org/standards/ecma-323/csta/ed3</protocolVersion></requestedProtocolVersions><requestedSessionDuration>180</requestedSessionDuration>".into()),
        ("StartApplicationSessionPosResponse", "<sessionID>469421A9</sessionID><actualProtocolVersion>http://www.ecma-international.org/standards/ecma-323/csta/ed4</actualProtocolVersion><actualSessionDuration>180</actualSessionDuration>".into()),
        ("StartApplicationSessionNegResponse", "<errorCode><definedError>requestedProtocolVersionNotSupported</definedError></errorCode>".into()),
        ("ResetApplicationSessionTimer", "<sessionID>469421A9</sessionID><requestedSessionDuration>180</requestedSessionDuration>".into()),
        ("ResetApplicationSessionTimerPosResponse", "<actualSessionDuration>180</actualSessionDuration>".into()),
        ("ResetApplicationSessionTimerNegResponse", "<errorCode><definedError>invalidSessionID</definedError></errorCode>".into()),
        ("StopApplicationSession", "<sessionID>469421A9</sessionID><sessionEndReason><definedEndReason>normal</definedEndReason></sessionEndReason>".into()),
        ("StopApplicationSessionPosResponse", String::new()),
        ("StopApplicationSessionNegResponse", "<errorCode><definedError>invalidSessionID</definedError></errorCode>".into()),
        ("SystemStatus", "<systemStatus>normal</systemStatus>".into()),
        ("SystemStatusResponse", String::new()),
        ("RequestSystemStatus", String::new()),
        ("RequestSystemStatusResponse", "<systemStatus>normal</systemStatus>".into()),
        ("GetCSTAFeatures", String::new()),
        ("GetCSTAFeaturesResponse", "<supportedServices><callControlServices><makeCall/><clearConnection/></callControlServices><monitoringServices><monitorStart/></monitoringServices></supportedServices><supportedEvents><callControlEvents><deliveredEvent/></callControlEvents></supportedEvents>".into()),
        ("OriginatedEvent", format!("{mx}{}{}{}{cause}", conn("originatedConnection"), dev("callingDevice", "24103"), dev("calledDevice", "tel:+3367890"))),
        ("ServiceInitiatedEvent", format!("{mx}{}{}<localConnectionInfo>initiated</localConnectionInfo><cause>newCall</cause>", conn("initiatedConnection"), dev("initiatingDevice", "24103"))),
        ("DeliveredEvent", format!("{mx}{}{}{}{}<lastRedirectionDevice><notRequired/></lastRedirectionDevice><localConnectionInfo>alerting</localConnectionInfo><cause>normal</cause>", conn("connection"), dev("alertingDevice", "24103"), dev("callingDevice", "tel:+3312345"), dev("calledDevice", "24103"))),
        ("EstablishedEvent", format!("{mx}{}{}{}{}{cause}", conn("establishedConnection"), dev("answeringDevice", "24103"), dev("callingDevice", "tel:+3312345"), dev("calledDevice", "24103"))),
        ("HeldEvent", format!("{mx}{}{}<localConnectionInfo>hold</localConnectionInfo><cause>normal</cause>", conn("heldConnection"), dev("holdingDevice", "24103"))),
        ("RetrievedEvent", format!("{mx}{}{}{cause}", conn("retrievedConnection"), dev("retrievingDevice", "24103"))),
        ("ConnectionClearedEvent", format!("{mx}{}{}<localConnectionInfo>null</localConnectionInfo><cause>normalClearing</cause>", conn("droppedConnection"), dev("releasingDevice", "tel:+3312345"))),
        ("CallClearedEvent", format!("{mx}{}<cause>normalClearing</cause>", conn("clearedCall"))),
        ("DivertedEvent", format!("{mx}{}{}{}<localConnectionInfo>null</localConnectionInfo><cause>callForwardImmediate</cause>", conn("connection"), dev("divertingDevice", "24103"), dev("newDestination", "24200"))),
        ("FailedEvent", format!("{mx}{}{}{}<localConnectionInfo>fail</localConnectionInfo><cause>busy</cause>", conn("failedConnection"), dev("failingDevice", "24104"), dev("calledDevice", "24104"))),
        ("QueuedEvent", format!("{mx}{}{}{}{}<numberQueued>2</numberQueued><localConnectionInfo>queued</localConnectionInfo><cause>enteringDistribution</cause>", conn("queuedConnection"), dev("queue", "5000"), dev("callingDevice", "tel:+3312345"), dev("calledDevice", "5000"))),
        ("NetworkReachedEvent", format!("{mx}{}{}{}{}{cause}", conn("outboundConnection"), dev("networkInterfaceUsed", "T1"), dev("callingDevice", "24103"), dev("calledDevice", "tel:+3367890"))),
        ("TransferedEvent", format!("{mx}{}<secondaryOldCall><callID>13</callID><deviceID>24103</deviceID></secondaryOldCall>{}{}<transferredConnections><connectionListItem><newConnection><callID>13</callID><deviceID>tel:+3312345</deviceID></newConnection><oldConnection><callID>12</callID><deviceID>tel:+3312345</deviceID></oldConnection></connectionListItem><connectionListItem><newConnection><callID>13</callID><deviceID>24104</deviceID></newConnection><oldConnection><callID>13</callID><deviceID>24104</deviceID></oldConnection></connectionListItem></transferredConnections><localConnectionInfo>null</localConnectionInfo><cause>transfer</cause>", conn("primaryOldCall"), dev("transferringDevice", "24103"), dev("transferredToDevice", "24104"))),
        ("ConferencedEvent", format!("{mx}{}<secondaryOldCall><callID>13</callID><deviceID>24103</deviceID></secondaryOldCall>{}{}<conferenceConnections><connectionListItem><newConnection><callID>12</callID><deviceID>24104</deviceID></newConnection><oldConnection><callID>13</callID><deviceID>24104</deviceID></oldConnection></connectionListItem></conferenceConnections>{cause}", conn("primaryOldCall"), dev("conferencingDevice", "24103"), dev("addedParty", "24104"))),
        ("AgentLoggedOnEvent", format!("{mx}{}<agentID>4001</agentID><acdGroup>5000</acdGroup>", dev("agentDevice", "24103"))),
        ("AgentLoggedOffEvent", format!("{mx}{}<agentID>4001</agentID>", dev("agentDevice", "24103"))),
        ("AgentReadyEvent", format!("{mx}{}<agentID>4001</agentID>", dev("agentDevice", "24103"))),
        ("AgentNotReadyEvent", format!("{mx}{}<agentID>4001</agentID>", dev("agentDevice", "24103"))),
        ("AgentWorkingAfterCallEvent", format!("{mx}{}<agentID>4001</agentID>", dev("agentDevice", "24103"))),
        ("AgentBusyEvent", format!("{mx}{}<agentID>4001</agentID>", dev("agentDevice", "24103"))),
        ("DoNotDisturbEvent", format!("{mx}{}<doNotDisturbOn>true</doNotDisturbOn>", dev("device", "24103"))),
        ("ForwardingEvent", format!("{mx}{}<forwardingType>forwardImmediate</forwardingType><forwardStatus>true</forwardStatus><forwardTo>24200</forwardTo>", dev("device", "24103"))),
    ]
}

fn is_session(root: &str) -> bool {
    root.contains("ApplicationSession")
}

/// Adds `p:` to every element name of an unprefixed body.
fn prefixed(body: &str, p: &str) -> String {
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '<' {
            if chars.peek() == Some(&'/') {
                out.push('/');
                chars.next();
            }
            out.push_str(p);
            out.push(':');
        }
    }
    out
}

/// The three namespace styles of one document.
fn styles(root: &str, body: &str, ns: &str) -> Vec<(String, String)> {
    vec![
        (
            "default".into(),
            format!("<{root} xmlns=\"{ns}\">{body}</{root}>"),
        ),
        (
            "prefixed".into(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ns3:{root} xmlns:ns3=\"{ns}\">{}</ns3:{root}>",
                prefixed(body, "ns3")
            ),
        ),
        ("none".into(), format!("<{root}>{body}</{root}>")),
    ]
}

#[test]
fn every_message_kind_in_every_style_and_edition() {
    let samples = samples();
    assert!(samples.len() >= 80, "{} samples", samples.len());
    for (root, body) in &samples {
        let mut first: Option<serde_json::Value> = None;
        for edition in Edition::ALL {
            let ns = if is_session(root) {
                APPL_SESSION_NS.to_string()
            } else {
                edition.namespace().to_string()
            };
            for (style, doc) in styles(root, body, &ns) {
                let decoded = Message::decode_with(doc.as_bytes(), &Limits::default())
                    .unwrap_or_else(|e| panic!("{root} {style} {edition:?}: {e}\n{doc}"));
                let m = decoded.message;
                assert_eq!(m.element_name(), *root, "{style}");
                assert!(
                    !matches!(m, Message::Unknown(_)),
                    "{root} {style} not recognised"
                );
                if style != "none" && !is_session(root) {
                    assert_eq!(decoded.edition, Some(edition), "{root} {style}");
                }
                if !root.starts_with("StartApplicationSession") {
                    assert!(
                        m_extensions_empty(&m),
                        "{root} {style}: unexpected opaque content {m:?}"
                    );
                }
                ctigw_codecs::csta_xml::fuzz::check_symmetric(&m);
                // Opaque copies differ by style (prefixes); compare them by name.
                let m = without_raw(&m);
                match &first {
                    None => first = Some(m),
                    Some(f) => assert_eq!(&m, f, "{root} {style} {edition:?}"),
                }
            }
        }
    }
}

/// The JSON form with every opaque element's raw text blanked.
fn without_raw(m: &Message) -> serde_json::Value {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                if o.contains_key("raw") && o.contains_key("name") && !o.contains_key("number") {
                    o.insert("raw".into(), serde_json::Value::Null);
                }
                o.values_mut().for_each(walk);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(m).unwrap();
    walk(&mut v);
    v
}

/// True when the top-level message kept nothing opaque (via its JSON form).
fn m_extensions_empty(m: &Message) -> bool {
    let v = serde_json::to_value(m).unwrap();
    v.get("extensions").is_none() || matches!(m, Message::MonitorStartResponse(_))
}

fn decode(doc: &str) -> Message {
    Message::decode(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"))
}

fn sample(root: &str) -> Message {
    let (_, body) = samples().into_iter().find(|(r, _)| *r == root).unwrap();
    decode(&format!(
        "<{root} xmlns=\"{}\">{body}</{root}>",
        Edition::Ed3.namespace()
    ))
}

#[test]
fn make_call_example_is_byte_for_byte() {
    let expected = "<MakeCall xmlns=\"http://www.ecma-international.org/standards/ecma-323/csta/ed3\"><callingDevice>tel:+3312345</callingDevice><calledDirectoryNumber>tel:+3367890</calledDirectoryNumber><autoOriginate>doNotPrompt</autoOriginate></MakeCall>";
    let m = requests::make_call("tel:+3312345", "tel:+3367890");
    assert_eq!(
        std::str::from_utf8(&m.to_xml(Edition::Ed3)).unwrap(),
        expected
    );
    assert_eq!(decode(expected), m);
    let Message::MakeCall(mc) = &m else { panic!() };
    assert_eq!(mc.calling_device.number(), Some("+3312345"));
    assert_eq!(mc.called_directory_number.number(), Some("+3367890"));
    // Other editions change only the namespace.
    let ed4 = m.to_xml(Edition::Ed4);
    assert_eq!(
        std::str::from_utf8(&ed4).unwrap(),
        expected.replace("/ed3", "/ed4")
    );
}

#[test]
fn fields_of_the_main_kinds() {
    let Message::DeliveredEvent(e) = sample("DeliveredEvent") else {
        panic!()
    };
    assert_eq!(e.monitor_cross_ref_id, "7");
    assert_eq!(e.connection, ConnectionId::new("12", "24103"));
    assert_eq!(e.alerting_device, Device::id("24103"));
    assert_eq!(e.calling_device.number(), Some("+3312345"));
    assert_eq!(e.last_redirection_device, Some(Device::NotRequired));
    assert_eq!(
        e.local_connection_info,
        Some(LocalConnectionState::Alerting)
    );
    assert_eq!(e.cause, Some(EventCause::Normal));

    let Message::TransferedEvent(t) = sample("TransferedEvent") else {
        panic!()
    };
    let items = &t.transferred_connections.as_ref().unwrap().items;
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0].new_connection,
        Some(ConnectionId::new("13", "tel:+3312345"))
    );
    assert_eq!(
        items[0].old_connection,
        Some(ConnectionId::new("12", "tel:+3312345"))
    );
    assert_eq!(t.transferred_to_device.number(), Some("24104"));

    let Message::ConferencedEvent(c) = sample("ConferencedEvent") else {
        panic!()
    };
    assert_eq!(c.added_party.number(), Some("24104"));
    assert_eq!(c.conference_connections.unwrap().items.len(), 1);

    let Message::SnapshotDeviceResponse(s) = sample("SnapshotDeviceResponse") else {
        panic!()
    };
    let calls = s.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0].connection_identifier.call_id.as_deref(),
        Some("12")
    );
    assert_eq!(calls[0].state(), Some(LocalConnectionState::Connected));
    assert_eq!(calls[1].state(), Some(LocalConnectionState::Hold));

    let Message::MonitorStartResponse(r) = sample("MonitorStartResponse") else {
        panic!()
    };
    assert_eq!(r.monitor_cross_ref_id, "7");
    assert_eq!(r.extensions[0].name, "actualMonitorFilter");

    let Message::MakeCallResponse(r) = sample("MakeCallResponse") else {
        panic!()
    };
    assert_eq!(r.calling_device, ConnectionId::new("12", "24103"));

    let Message::CstaErrorCode(e) = sample("CSTAErrorCode") else {
        panic!()
    };
    assert_eq!(e.category, ErrorCategory::StateIncompatibility);
    assert_eq!(e.value, "invalidObjectState");

    let Message::StartApplicationSessionNegResponse(n) =
        sample("StartApplicationSessionNegResponse")
    else {
        panic!()
    };
    assert_eq!(
        n.error_code.defined_error.as_deref(),
        Some("requestedProtocolVersionNotSupported")
    );

    let Message::StartApplicationSession(s) = sample("StartApplicationSession") else {
        panic!()
    };
    assert_eq!(s.application_info.application_id, "ctigw");
    assert_eq!(
        s.application_info.extensions[0].name,
        "applicationSpecificInfo"
    );
    assert_eq!(
        Edition::from_namespace(&s.requested_protocol_versions.versions[0]),
        Some(Edition::Ed4)
    );

    let Message::StartApplicationSessionPosResponse(p) =
        sample("StartApplicationSessionPosResponse")
    else {
        panic!()
    };
    assert_eq!(p.session_id, "469421A9");
    assert_eq!(p.actual_session_duration, Some(180));

    let Message::RequestSystemStatusResponse(r) = sample("RequestSystemStatusResponse") else {
        panic!()
    };
    assert_eq!(r.system_status, SystemStatusValue::Normal);

    let Message::GetCstaFeaturesResponse(f) = sample("GetCSTAFeaturesResponse") else {
        panic!()
    };
    assert!(f.supported_services.as_ref().unwrap().supports("makeCall"));
    assert!(
        !f.supported_services
            .as_ref()
            .unwrap()
            .supports("deflectCall")
    );
    assert!(f.supported_events.unwrap().supports("deliveredEvent"));

    let Message::GetForwardingResponse(g) = sample("GetForwardingResponse") else {
        panic!()
    };
    let list = g.forwarding_list.unwrap().items;
    assert_eq!(list[0].forwarding_type, ForwardingType::ForwardBusy);
    assert!(list[0].forward_status);
    assert_eq!(list[1].forward_dn, None);

    let Message::GetAgentStateResponse(a) = sample("GetAgentStateResponse") else {
        panic!()
    };
    let entry = &a.agent_state_list.unwrap().entries[0];
    assert_eq!(entry.logged_on_state, Some(true));
    assert_eq!(
        entry.agent_info.as_ref().unwrap().items[0].agent_state,
        Some(AgentState::AgentReady)
    );

    let Message::ForwardingEvent(f) = sample("ForwardingEvent") else {
        panic!()
    };
    assert!(f.forward_status);
    assert_eq!(f.forward_to.unwrap().number(), Some("24200"));
    assert!(sample("AgentReadyEvent").is_event());
    assert_eq!(sample("HeldEvent").monitor_cross_ref_id(), Some("7"));
    assert!(!sample("HoldCall").is_event());
}

#[test]
fn requests_encode_as_their_samples() {
    let c = ConnectionId::new("12", "24103");
    let cases = [
        ("MonitorStart", requests::monitor_start("24103")),
        ("MonitorStop", requests::monitor_stop("7")),
        ("SnapshotDevice", requests::snapshot_device("24103")),
        ("AnswerCall", requests::answer_call(&c)),
        ("ClearConnection", requests::clear_connection(&c)),
        ("ClearCall", requests::clear_call(&c)),
        ("HoldCall", requests::hold_call(&c)),
        ("RetrieveCall", requests::retrieve_call(&c)),
        ("ConsultationCall", requests::consultation_call(&c, "24104")),
        ("TransferCall", requests::transfer_call(&c, &c)),
        ("ConferenceCall", requests::conference_call(&c, &c)),
        ("AlternateCall", requests::alternate_call(&c, &c)),
        ("DeflectCall", requests::deflect_call(&c, "24105")),
        (
            "SingleStepTransferCall",
            requests::single_step_transfer_call(&c, "24105"),
        ),
        ("GenerateDigits", requests::generate_digits(&c, "12#")),
        (
            "SetForwarding",
            requests::set_forwarding(
                "24103",
                ForwardingType::ForwardImmediate,
                Some("24200".into()),
            ),
        ),
        ("GetForwarding", requests::get_forwarding("24103")),
        (
            "SetDoNotDisturb",
            requests::set_do_not_disturb("24103", true),
        ),
        ("GetDoNotDisturb", requests::get_do_not_disturb("24103")),
        ("GetAgentState", requests::get_agent_state("24103")),
        ("RequestSystemStatus", requests::request_system_status()),
        ("GetCSTAFeatures", requests::get_csta_features()),
        (
            "ResetApplicationSessionTimer",
            requests::reset_application_session_timer("469421A9", Some(180)),
        ),
        (
            "StopApplicationSession",
            requests::stop_application_session("469421A9"),
        ),
        ("SystemStatusResponse", requests::system_status_response()),
        (
            "RequestSystemStatusResponse",
            requests::request_system_status_response(SystemStatusValue::Normal),
        ),
    ];
    for (root, built) in cases {
        let (_, body) = samples().into_iter().find(|(r, _)| *r == root).unwrap();
        let ns = if is_session(root) {
            APPL_SESSION_NS
        } else {
            Edition::Ed3.namespace()
        };
        let mut expected = format!("<{root} xmlns=\"{ns}\">{body}</{root}>");
        if root == "MonitorStart" {
            expected = expected.replace("<monitorType>device</monitorType>", "");
        }
        assert_eq!(
            std::str::from_utf8(&built.to_xml(Edition::Ed3)).unwrap(),
            expected,
            "{root}"
        );
    }
    let start = requests::start_application_session("ctigw", &[Edition::Ed4], Some(180));
    let xml = start.to_xml(Edition::Ed3);
    assert_eq!(
        std::str::from_utf8(&xml).unwrap(),
        format!(
            "<StartApplicationSession xmlns=\"{APPL_SESSION_NS}\"><applicationInfo><applicationID>ctigw</applicationID></applicationInfo><requestedProtocolVersions><protocolVersion>{}</protocolVersion></requestedProtocolVersions><requestedSessionDuration>180</requestedSessionDuration></StartApplicationSession>",
            Edition::Ed4.namespace()
        )
    );
    let agent = requests::set_agent_state("24103", ReqAgentState::Ready, None);
    assert_eq!(
        decode(std::str::from_utf8(&agent.to_xml(Edition::Ed6)).unwrap()),
        agent
    );
}

#[test]
fn vendor_device_forms_in_documents() {
    let doc = format!(
        "<EstablishedEvent xmlns=\"{}\"><monitorCrossRefID>1</monitorCrossRefID><establishedConnection><callID>FF01</callID><deviceID>N&lt;7868772298&gt;Line71001;displayNumber=7868772298</deviceID></establishedConnection><answeringDevice><deviceIdentifier>N&lt;7868772298&gt;Line71001;displayNumber=7868772298</deviceIdentifier></answeringDevice><callingDevice>N&lt;3021061290002&gt;;noa=nk</callingDevice><calledDevice><deviceIdentifier>sip:alice@example.com</deviceIdentifier></calledDevice><localConnectionInfo>connected</localConnectionInfo><cause>normal</cause></EstablishedEvent>",
        Edition::Ed4.namespace()
    );
    let Message::EstablishedEvent(e) = decode(&doc) else {
        panic!()
    };
    let dev = e.established_connection.device_id.as_ref().unwrap();
    assert_eq!(dev.raw, "N<7868772298>Line71001;displayNumber=7868772298");
    assert_eq!(dev.number(), Some("7868772298"));
    assert_eq!(e.answering_device.number(), Some("7868772298"));
    // Plain text inside the element is kept as the plain form.
    assert_eq!(
        e.calling_device,
        Device::Plain(DeviceId::new("N<3021061290002>;noa=nk"))
    );
    assert_eq!(e.calling_device.number(), Some("3021061290002"));
    assert_eq!(e.called_device.number(), None);
    assert_eq!(
        e.called_device.device_id().unwrap().sip_user(),
        Some("alice")
    );
    // `deviceID` wrapped in `deviceIdentifier` by some senders.
    let wrapped = doc.replace(
        "<deviceID>N&lt;7868772298&gt;Line71001;displayNumber=7868772298</deviceID>",
        "<deviceID><deviceIdentifier>tel:+3312345</deviceIdentifier></deviceID>",
    );
    let Message::EstablishedEvent(w) = decode(&wrapped) else {
        panic!()
    };
    assert_eq!(
        w.established_connection.device_id.unwrap().number(),
        Some("+3312345")
    );
    ctigw_codecs::csta_xml::fuzz::document(doc.as_bytes());
    ctigw_codecs::csta_xml::fuzz::document(wrapped.as_bytes());
}

#[test]
fn unknown_elements_and_private_data_are_kept() {
    let doc = format!(
        "<csta:ConnectionClearedEvent xmlns:csta=\"{ns}\" xmlns:os=\"urn:openscape\">\
         <csta:monitorCrossRefID>7</csta:monitorCrossRefID>\
         <csta:droppedConnection><csta:callID>12</csta:callID><csta:deviceID>24103</csta:deviceID><csta:weird>x</csta:weird></csta:droppedConnection>\
         <csta:releasingDevice><csta:deviceIdentifier>24103</csta:deviceIdentifier></csta:releasingDevice>\
         <csta:localConnectionInfo>null</csta:localConnectionInfo>\
         <csta:cause>normalClearing</csta:cause>\
         <csta:extensions><csta:privateData><csta:private><os:callTag>abc</os:callTag></csta:private></csta:privateData></csta:extensions>\
         <os:callTag>abc</os:callTag>\
         <csta:cause>busy</csta:cause>\
         </csta:ConnectionClearedEvent>",
        ns = Edition::Ed4.namespace()
    );
    let Message::ConnectionClearedEvent(e) = decode(&doc) else {
        panic!()
    };
    assert_eq!(e.cause, Some(EventCause::NormalClearing));
    assert_eq!(e.dropped_connection.extensions.len(), 1);
    assert_eq!(e.dropped_connection.extensions[0].name, "weird");
    let names: Vec<&str> = e.extensions.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["extensions", "callTag", "cause"]);
    // Opaque copies carry the declarations they need.
    assert!(
        e.extensions[0]
            .raw
            .starts_with("<csta:extensions xmlns:csta=")
    );
    assert!(e.extensions[0].raw.contains("xmlns:os=\"urn:openscape\""));
    assert!(e.extensions[0].raw.contains("<os:callTag>abc</os:callTag>"));
    let m = Message::ConnectionClearedEvent(e);
    ctigw_codecs::csta_xml::fuzz::check_symmetric(&m);

    // A root we do not know is kept whole.
    let unknown = "<ns:CallInformationEvent xmlns:ns=\"http://www.ecma-international.org/standards/ecma-323/csta/ed4\"><ns:x/></ns:CallInformationEvent>";
    let m = decode(unknown);
    assert_eq!(
        m,
        Message::Unknown(Opaque {
            name: "CallInformationEvent".into(),
            raw: unknown.into()
        })
    );
    assert_eq!(&m.to_xml(Edition::Ed3)[..], unknown.as_bytes());
    // A known name in another namespace is not ours.
    assert!(matches!(
        decode("<MakeCall xmlns=\"urn:other\"/>"),
        Message::Unknown(_)
    ));
    // A foreign default namespace inherited by an unknown child is declared on its copy.
    let doc = format!(
        "<a:HeldEvent xmlns:a=\"{}\" xmlns=\"urn:x\"><a:monitorCrossRefID>1</a:monitorCrossRefID><a:heldConnection><a:callID>1</a:callID></a:heldConnection><a:holdingDevice>1</a:holdingDevice><cause>busy</cause></a:HeldEvent>",
        Edition::Ed3.namespace()
    );
    let Message::HeldEvent(h) = decode(&doc) else {
        panic!()
    };
    assert_eq!(h.cause, None);
    assert!(h.extensions[0].raw.starts_with("<cause "));
    assert!(h.extensions[0].raw.contains(" xmlns=\"urn:x\""));
    ctigw_codecs::csta_xml::fuzz::check_symmetric(&Message::HeldEvent(h));
}

fn error_of(doc: &str) -> MessageError {
    match Message::decode(doc.as_bytes()) {
        Err(e) => e,
        Ok(m) => panic!("decoded {m:?} from {doc}"),
    }
}

#[test]
fn errors_name_the_element_and_offset() {
    let e = error_of("<MakeCall><callingDevice>1</callingDevice></MakeCall>");
    assert_eq!(e.path, "MakeCall/calledDirectoryNumber");
    assert!(matches!(e.kind, ErrorKind::Missing { .. }));
    assert_eq!(e.offset, 0);

    let doc = "<DeliveredEvent><monitorCrossRefID>1</monitorCrossRefID><connection><callID>1</callID></connection><alertingDevice>1</alertingDevice><callingDevice>1</callingDevice><calledDevice>1</calledDevice><localConnectionInfo>ringing</localConnectionInfo></DeliveredEvent>";
    let e = error_of(doc);
    assert_eq!(e.path, "DeliveredEvent/localConnectionInfo");
    assert_eq!(
        e.offset as usize,
        doc.find("<localConnectionInfo>").unwrap()
    );
    assert_eq!(
        e.kind,
        ErrorKind::BadValue {
            value: "ringing".into(),
            expected: "LocalConnectionState".into()
        }
    );
    assert!(e.to_string().contains("DeliveredEvent/localConnectionInfo"));

    let doc = "<SetDoNotDisturb><device>1</device><doNotDisturbOn>maybe</doNotDisturbOn></SetDoNotDisturb>";
    let e = error_of(doc);
    assert_eq!(e.path, "SetDoNotDisturb/doNotDisturbOn");
    assert_eq!(e.offset as usize, doc.find("<doNotDisturbOn>").unwrap());

    let doc = "<MakeCall><callingDevice>1</callingDevice><calledDirectoryNumber>2</x></MakeCall>";
    let e = error_of(doc);
    assert!(matches!(e.kind, ErrorKind::Malformed { .. }), "{e}");
    assert_eq!(e.path, "MakeCall/calledDirectoryNumber");
    assert_eq!(e.offset as usize, doc.find("</x>").unwrap());

    let e = error_of("<MakeCall><callingDevice>1</callingDevice>");
    assert!(matches!(e.kind, ErrorKind::Malformed { .. }), "{e}");
    let e = error_of("");
    assert_eq!(e.kind, ErrorKind::NoRoot);
    let e = error_of("<a/><b/>");
    assert_eq!(e.kind, ErrorKind::TrailingContent);
    assert_eq!(e.offset, 4);
    let e = error_of("junk<a/>");
    assert_eq!(e.kind, ErrorKind::TextOutsideRoot);
    let e = error_of("<MakeCall><callingDevice>&bogus;</callingDevice></MakeCall>");
    assert_eq!(
        e.kind,
        ErrorKind::UnknownEntity {
            name: "bogus".into()
        }
    );
    assert_eq!(e.path, "MakeCall/callingDevice");
    let e = error_of("<CSTAErrorCode><nothing>x</nothing></CSTAErrorCode>");
    assert!(matches!(e.kind, ErrorKind::Missing { .. }));
    let e = error_of("<MakeCall><callingDevice>\u{0}\u{ff}</callingDevice></MakeCall>");
    let _ = e;
}

#[test]
fn doctype_and_entities_are_refused() {
    let bomb = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]><MakeCall><callingDevice>&lol2;</callingDevice></MakeCall>";
    assert_eq!(error_of(bomb).kind, ErrorKind::DocType);
    let ext = "<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><x>&xxe;</x>";
    assert_eq!(error_of(ext).kind, ErrorKind::DocType);
    // Predefined entities and character references are fine.
    let Message::GenerateDigits(g) = decode(
        "<GenerateDigits><connectionToSendDigits><callID>1</callID></connectionToSendDigits><charactersToSend>&#49;&#x32;&amp;&lt;&gt;&quot;&apos;<![CDATA[#*]]></charactersToSend></GenerateDigits>",
    ) else {
        panic!()
    };
    assert_eq!(g.characters_to_send, "12&<>\"'#*");
}

#[test]
fn limits_are_enforced() {
    let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
    assert_eq!(error_of(&deep).kind, ErrorKind::TooDeep { max: 32 });
    let big = format!("<a>{}</a>", "x".repeat(70_000));
    assert!(matches!(error_of(&big).kind, ErrorKind::TooLarge { .. }));
    // Re-encoding may grow a document past the limit (escaped CRs): still symmetric.
    let crs = format!(
        "<MonitorStop><monitorCrossRefID>a{}b</monitorCrossRefID></MonitorStop>",
        "\r".repeat(60_000)
    );
    ctigw_codecs::csta_xml::fuzz::document(crs.as_bytes());
    let tight = Limits {
        max_size: 100,
        max_depth: 3,
        max_elements: 4,
    };
    let many = "<a><b/><b/><b/><b/></a>";
    assert_eq!(
        Message::decode_with(many.as_bytes(), &tight)
            .unwrap_err()
            .kind,
        ErrorKind::TooManyElements { max: 4 }
    );
}

#[test]
fn whitespace_and_comments_between_elements() {
    let doc = format!(
        "<?xml version=\"1.0\"?>\r\n<!-- from the switch -->\r\n<HeldEvent xmlns=\"{}\">\r\n  <monitorCrossRefID> 7 </monitorCrossRefID>\r\n  <!-- c -->\r\n  <heldConnection>\r\n    <callID>12</callID>\r\n    <deviceID>24103</deviceID>\r\n  </heldConnection>\r\n  <holdingDevice>\r\n    <deviceIdentifier>24103</deviceIdentifier>\r\n  </holdingDevice>\r\n  <?pi x?>\r\n</HeldEvent>\r\n",
        Edition::Ed6.namespace()
    );
    let Message::HeldEvent(h) = decode(&doc) else {
        panic!()
    };
    assert_eq!(h.monitor_cross_ref_id, "7");
    assert_eq!(h.held_connection, ConnectionId::new("12", "24103"));
    assert_eq!(h.holding_device, Device::id("24103"));
    assert!(h.extensions.is_empty());
    // A UTF-8 byte-order mark before the document is accepted.
    let with_bom = format!("\u{feff}{doc}");
    assert_eq!(decode(&with_bom), Message::HeldEvent(h));
}

#[test]
fn json_form_is_camel_case_like_ecma() {
    let v = serde_json::to_value(sample("DeliveredEvent")).unwrap();
    assert_eq!(v["message"], "DeliveredEvent");
    assert_eq!(v["monitorCrossRefID"], "7");
    assert_eq!(v["connection"]["callID"], "12");
    assert_eq!(v["alertingDevice"]["deviceIdentifier"]["number"], "24103");
    assert_eq!(v["lastRedirectionDevice"], "notRequired");
    assert_eq!(v["localConnectionInfo"], "alerting");
    let v = serde_json::to_value(sample("CSTAErrorCode")).unwrap();
    assert_eq!(v["message"], "CSTAErrorCode");
    assert_eq!(v["category"], "stateIncompatibility");
}

/// A vendor's cause outside ECMA-323's list must not cost us the event that carries it.
#[test]
fn unknown_cause_keeps_the_event() {
    use ctigw_codecs::csta_xml::{EventCause, Message};
    let doc = r#"<ConnectionClearedEvent xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed4"><monitorCrossRefID>7</monitorCrossRefID><droppedConnection><callID>12</callID><deviceID>24103</deviceID></droppedConnection><releasingDevice><deviceIdentifier>24103</deviceIdentifier></releasingDevice><localConnectionInfo>null</localConnectionInfo><cause>vendorSpecialRelease</cause></ConnectionClearedEvent>"#;
    let decoded = Message::decode(doc.as_bytes()).expect("the event decodes");
    let Message::ConnectionClearedEvent(ev) = &decoded else {
        panic!("{decoded:?}")
    };
    assert_eq!(ev.cause, Some(EventCause::Other));
}

#[test]
fn a_byte_order_mark_does_not_shift_offsets() {
    // quick-xml drops a leading BOM without counting it: element ranges (opaque copies) and
    // error offsets must still index the document as received.
    let root = "<CSTAErrorCode xmlns=\"urn:x\"><ns3:private xmlns:ns3=\"urn:y\">N&lt;302&gt;;noa=nk é</ns3:private></CSTAErrorCode>";
    let doc = format!("\u{feff}{root}");
    let m = decode(&doc);
    assert_eq!(
        m,
        Message::Unknown(Opaque {
            name: "CSTAErrorCode".into(),
            raw: root.into()
        })
    );
    ctigw_codecs::csta_xml::fuzz::document(doc.as_bytes());
    // Only the first BOM is dropped by quick-xml; a second one reads as text before the root.
    let doc = format!("\u{feff}\u{feff}{root}");
    assert_eq!(decode(&doc).element_name(), "CSTAErrorCode");
    ctigw_codecs::csta_xml::fuzz::document(doc.as_bytes());

    let doc = format!(
        "\u{feff}<HeldEvent xmlns=\"{}\"><monitorCrossRefID>1</monitorCrossRefID><heldConnection><callID>1</callID></heldConnection><holdingDevice>1</holdingDevice><vendorNote>é€</vendorNote></HeldEvent>",
        Edition::Ed3.namespace()
    );
    let Message::HeldEvent(h) = decode(&doc) else {
        panic!()
    };
    assert_eq!(h.extensions[0].raw, "<vendorNote>é€</vendorNote>");
    ctigw_codecs::csta_xml::fuzz::document(doc.as_bytes());

    let doc = "\u{feff}<SetDoNotDisturb><device>1</device><doNotDisturbOn>maybe</doNotDisturbOn></SetDoNotDisturb>";
    let e = error_of(doc);
    assert_eq!(e.offset as usize, doc.find("<doNotDisturbOn>").unwrap());
}

#[test]
fn bytes_that_are_not_utf8_are_refused_anywhere() {
    // Opaque copies are slices of the document: invalid UTF-8 in an attribute value or a
    // comment would be changed by the copy, so it is an error with its offset.
    let mut doc = b"<CSTAErrorCode xmlns=\"urn:x".to_vec();
    let at = doc.len();
    doc.extend_from_slice(b"\xff\"><operation>invalidCallingDevice</operation></CSTAErrorCode>");
    let e = Message::decode(&doc).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotUtf8);
    assert_eq!(e.offset as usize, at);
    let doc = b"<MakeCall><!-- \xc3 --><callingDevice>1</callingDevice></MakeCall>";
    assert_eq!(Message::decode(doc).unwrap_err().kind, ErrorKind::NotUtf8);
}
