//! Alcatel-Lucent OXE / OXO Connect CSTA Phase II over TCP: BER, ROSE, ACSE, 2-byte framing.
