//! Tests of the Asterisk `Session` against a sans-IO fake Asterisk end, on a simulated clock.
