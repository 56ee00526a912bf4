//! The causes the API documents (`docs/api.md`, "Causes"): CSTA EventCause names (ECMA-269 /
//! ECMA-323) and the gateway's own names. A cause an adapter reports that is none of these
//! is sent as `other`, with the PBX's own value in `pbxCause`, so a client only ever sees
//! names it can look up.

/// The ECMA-269 / ECMA-323 EventCause names (Phase II BER and CSTA XML alike).
const CSTA: &[&str] = &[
    "acdBusy",
    "acdForward",
    "acdSaturated",
    "activeMonitor",
    "activeParticipation",
    "alertTimeExpired",
    "alternate",
    "autoWork",
    "blocked",
    "busy",
    "busyOverflow",
    "callBack",
    "callCancelled",
    "callForward",
    "callForwardAlways",
    "callForwardBusy",
    "callForwardImmediate",
    "callForwardNoAnswer",
    "callNotAnswered",
    "callPickup",
    "campOn",
    "campOnTrunks",
    "characterCountReached",
    "conference",
    "consultation",
    "destDetected",
    "destNotObtainable",
    "destOutOfOrder",
    "distributed",
    "distributionDelay",
    "doNotDisturb",
    "dTMFDigitDetected",
    "dtmfDigitDetected",
    "durationExceeded",
    "endOfMessageDetected",
    "enteringDistribution",
    "forcedPause",
    "forcedTransition",
    "incompatibleDestination",
    "intrude",
    "invalidAccountCode",
    "invalidNumberFormat",
    "joinCall",
    "keyConference",
    "keyOperation",
    "keyOperationInUse",
    "lockout",
    "maintenance",
    "makeCall",
    "makePredictiveCall",
    "messageDurationExceeded",
    "messageSizeExceeded",
    "multipleAlerting",
    "multipleQueuing",
    "networkCongestion",
    "networkDialling",
    "networkNotObtainable",
    "networkOutOfOrder",
    "networkSignal",
    "newCall",
    "nextMessage",
    "noAvailableAgents",
    "normal",
    "normalClearing",
    "noSpeechDetected",
    "notAvaliableBearerService",
    "notSupportedBearerService",
    "numberChanged",
    "numberUnallocated",
    "overflow",
    "override",
    "park",
    "queueCleared",
    "recall",
    "redirected",
    "remainsInQueue",
    "reorderTone",
    "reserved",
    "resourcesNotAvailable",
    "selectedTrunkBusy",
    "silentMonitor",
    "silentParticipation",
    "singleStepConference",
    "singleStepTransfer",
    "speechDetected",
    "suspend",
    "switchingFunctionTerminated",
    "terminationCharacterReceived",
    "timeout",
    "transfer",
    "trunksBusy",
    "unauthorisedBearerService",
    "unknownOverflow",
    "voiceUnitInitiator",
];

/// The gateway's own names, for what CSTA has no name for (Asterisk hang-up causes, the
/// gateway's resynchronisation).
const GATEWAY: &[&str] = &[
    "abandoned",
    "answeredElsewhere",
    "callRejected",
    "invalidNumber",
    "noAnswer",
    "outOfOrder",
    "resynchronised",
];

/// The prefix of the cause of a call absorbed by another (`mergedInto:<call id>`).
pub(crate) const MERGED_INTO: &str = "mergedInto:";

/// What a cause unknown to the API is sent as.
pub(crate) const OTHER: &str = "other";

/// Every documented cause name (`mergedInto:<call id>` aside), for the docs and the tests.
pub fn documented() -> impl Iterator<Item = &'static str> {
    CSTA.iter().chain(GATEWAY).chain([OTHER].iter()).copied()
}

/// True when `cause` is a documented name or form.
pub fn is_documented(cause: &str) -> bool {
    cause
        .strip_prefix(MERGED_INTO)
        .is_some_and(|id| !id.is_empty())
        || documented().any(|c| c == cause)
}

/// The cause as the API sends it: `(cause, pbxCause)`. A documented cause goes as it is; any
/// other is `other`, with the PBX's own value beside it.
pub fn api_cause(cause: &str) -> (&str, Option<&str>) {
    if is_documented(cause) {
        (cause, None)
    } else {
        (OTHER, Some(cause))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_causes_pass_and_others_become_other() {
        assert_eq!(api_cause("normalClearing"), ("normalClearing", None));
        assert_eq!(api_cause("resynchronised"), ("resynchronised", None));
        assert_eq!(api_cause("mergedInto:c-4"), ("mergedInto:c-4", None));
        assert_eq!(api_cause("mergedInto:"), ("other", Some("mergedInto:")));
        assert_eq!(api_cause("cause0"), ("other", Some("cause0")));
        assert_eq!(api_cause("q850:99"), ("other", Some("q850:99")));
        assert_eq!(api_cause("other"), ("other", None));
    }
}
