//! The site's dialling plan: numbers as the PBX gives them → E.164 for screen pop and history,
//! and numbers as a user typed or clicked them → the digits the PBX must dial.
//!
//! OXE example (PROTOCOLS.md section 1): outside-line prefix `0`, national prefix `0`,
//! international prefix `00`, country code `33`: `00789616004` is `+33789616004`.

use serde::Deserialize;
use thiserror::Error;

/// Dialling plan settings (`[dialplan]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialPlan {
    /// Country calling code of the site, digits only (`33`).
    pub country_code: String,
    /// Digits that seize an outside line (`0`); empty when none.
    #[serde(default)]
    pub outside_line_prefix: String,
    /// National trunk prefix (`0` in most of Europe, `1` in NANP); empty when none.
    #[serde(default)]
    pub national_prefix: String,
    /// International call prefix (`00`, `011`).
    pub international_prefix: String,
    /// Digit counts of internal extensions (`[5]`).
    #[serde(default)]
    pub extension_lengths: Vec<usize>,
    /// Length of a national significant number (9 in France), used to tell an outside-line
    /// prefix from the start of an international prefix; 0 when variable.
    #[serde(default)]
    pub national_number_length: usize,
}

/// A number that cannot be dialled.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DialPlanError {
    #[error("\"{0}\" has no digits to dial")]
    Empty(String),
    #[error("\"{0}\" contains '{1}', which cannot be dialled")]
    BadCharacter(String, char),
}

impl Default for DialPlan {
    fn default() -> Self {
        DialPlan {
            country_code: "33".into(),
            outside_line_prefix: "0".into(),
            national_prefix: "0".into(),
            international_prefix: "00".into(),
            extension_lengths: vec![5],
            national_number_length: 9,
        }
    }
}

fn digits_only(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl DialPlan {
    /// True when `number` looks like an internal extension of the site.
    pub fn is_extension(&self, number: &str) -> bool {
        digits_only(number) && self.extension_lengths.contains(&number.len())
    }

    fn national_ok(&self, nsn: &str) -> bool {
        digits_only(nsn)
            && (self.national_number_length == 0 || nsn.len() == self.national_number_length)
    }

    /// Interprets a number without the outside-line prefix: international or national form.
    fn e164_after_line(&self, n: &str) -> Option<String> {
        if !self.international_prefix.is_empty()
            && let Some(rest) = n.strip_prefix(&self.international_prefix)
            && digits_only(rest)
            && rest.len() >= 6
        {
            return Some(format!("+{rest}"));
        }
        if let Some(rest) = n.strip_prefix(&self.national_prefix)
            && !self.national_prefix.is_empty()
            && self.national_ok(rest)
        {
            return Some(format!("+{}{}", self.country_code, rest));
        }
        None
    }

    /// The E.164 form of a number as received from the PBX, when the plan can derive one;
    /// `None` for extensions and for what it cannot interpret.
    pub fn to_e164(&self, received: &str) -> Option<String> {
        let n: String = received
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        if let Some(rest) = n.strip_prefix('+') {
            return (digits_only(rest) && rest.len() >= 6).then(|| format!("+{rest}"));
        }
        if !digits_only(&n) || self.is_extension(&n) {
            return None;
        }
        if !self.outside_line_prefix.is_empty()
            && let Some(rest) = n.strip_prefix(&self.outside_line_prefix)
            && let Some(e) = self.e164_after_line(rest)
        {
            return Some(e);
        }
        self.e164_after_line(&n)
    }

    /// The digits to dial for a number a user typed or clicked (`+33 1 23 45 67 89`,
    /// `01 23 45 67 89`, `24103`). Extensions are dialled as they are; E.164 numbers of the
    /// site's country go out nationally, others internationally, behind the outside-line prefix.
    pub fn to_dial(&self, input: &str) -> Result<String, DialPlanError> {
        let mut n = String::with_capacity(input.len());
        for (i, c) in input.trim().chars().enumerate() {
            match c {
                '0'..='9' | '*' | '#' => n.push(c),
                '+' if i == 0 => n.push(c),
                ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' => {}
                other => return Err(DialPlanError::BadCharacter(input.to_string(), other)),
            }
        }
        if n.is_empty() || n == "+" {
            return Err(DialPlanError::Empty(input.to_string()));
        }
        if let Some(rest) = n.strip_prefix('+') {
            if let Some(nsn) = rest.strip_prefix(&self.country_code) {
                return Ok(format!(
                    "{}{}{}",
                    self.outside_line_prefix, self.national_prefix, nsn
                ));
            }
            return Ok(format!(
                "{}{}{}",
                self.outside_line_prefix, self.international_prefix, rest
            ));
        }
        if self.is_extension(&n) || !digits_only(&n) {
            return Ok(n);
        }
        let national = !self.national_prefix.is_empty()
            && n.strip_prefix(&self.national_prefix)
                .is_some_and(|r| self.national_ok(r));
        if national {
            return Ok(format!("{}{}", self.outside_line_prefix, n));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oxe_capture_numbers_become_e164() {
        let p = DialPlan::default();
        assert_eq!(p.to_e164("00789616004").as_deref(), Some("+33789616004"));
        assert_eq!(p.to_e164("00238221815").as_deref(), Some("+33238221815"));
        // the called number without the outside-line prefix, as the OXE also reports it
        assert_eq!(p.to_e164("0238221815").as_deref(), Some("+33238221815"));
        assert_eq!(p.to_e164("0659732122").as_deref(), Some("+33659732122"));
        assert_eq!(p.to_e164("24103"), None);
        assert_eq!(
            p.to_e164("000441632960000").as_deref(),
            Some("+441632960000")
        );
        assert_eq!(
            p.to_e164("0044 1632 960000").as_deref(),
            Some("+441632960000")
        );
        assert_eq!(
            p.to_e164("+33 1 23 45 67 89").as_deref(),
            Some("+33123456789")
        );
        assert_eq!(p.to_e164("anonymous"), None);
    }

    #[test]
    fn clicked_numbers_become_dial_strings() {
        let p = DialPlan::default();
        assert_eq!(p.to_dial("+33 1 23 45 67 89").unwrap(), "00123456789");
        assert_eq!(p.to_dial("01 23 45 67 89").unwrap(), "00123456789");
        assert_eq!(p.to_dial("+44 (1632) 960-000").unwrap(), "000441632960000");
        assert_eq!(p.to_dial("24103").unwrap(), "24103");
        assert_eq!(p.to_dial("*21#").unwrap(), "*21#");
        assert!(matches!(
            p.to_dial("call me"),
            Err(DialPlanError::BadCharacter(_, 'c'))
        ));
        assert!(matches!(p.to_dial("  "), Err(DialPlanError::Empty(_))));
    }

    #[test]
    fn dialled_then_received_gives_back_the_e164() {
        let p = DialPlan::default();
        for e in ["+33123456789", "+441632960000", "+12025550123"] {
            assert_eq!(p.to_e164(&p.to_dial(e).unwrap()).as_deref(), Some(e), "{e}");
        }
    }
}
