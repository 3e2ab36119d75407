//! The one input rule for text: every string the API or an import accepts passes
//! [`check`] with the rule of its field before it is used or stored.
//!
//! Why: PostgreSQL refuses NUL in text (the request would end in a 500), control
//! characters forge lines in logs and terminals, and a length limit keeps a single
//! value from filling pages. The server checks with these rules, the importer's dry
//! run uses the same ones (so a preview that says "created" always commits), and the
//! SPA can check a form before sending it.
use std::fmt;

/// What a field accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextRule {
    /// Longest value, in characters (after trimming).
    pub max_chars: usize,
    /// Whether line breaks (`\n`, `\r`) and tabs are allowed (multi-line notes).
    pub multiline: bool,
}

/// Notes kept with a value (manual entry and import).
pub const NOTES: TextRule = TextRule {
    max_chars: crate::values::MAX_NOTES,
    multiline: true,
};

/// A name shown in lists and the audit log (API keys).
pub const NAME: TextRule = TextRule {
    max_chars: 100,
    multiline: false,
};

/// A QuickBooks account's full name (`Income:Managed Services:Backup`).
pub const ACCOUNT: TextRule = TextRule {
    max_chars: 1000,
    multiline: false,
};

/// Why something is the way it is (an ignored account's reason).
pub const REASON: TextRule = TextRule {
    max_chars: 500,
    multiline: false,
};

/// An email address (RFC 5321's path limit).
pub const EMAIL: TextRule = TextRule {
    max_chars: 254,
    multiline: false,
};

/// Any other string of a JSON body, keys too: no NUL or control characters but line
/// breaks and tabs (notes may have them); fields check their own length.
pub const BOUNDARY: TextRule = TextRule {
    max_chars: usize::MAX,
    multiline: true,
};

/// A query parameter, name or value: one line, no control characters at all.
pub const QUERY: TextRule = TextRule {
    max_chars: usize::MAX,
    multiline: false,
};

/// Why a value broke its rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextProblem {
    /// A control character (or NUL) at this character position (0-based).
    ControlCharacter {
        at: usize,
        code: u32,
    },
    TooLong {
        max_chars: usize,
        chars: usize,
    },
}

impl fmt::Display for TextProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextProblem::ControlCharacter { at, code } => write!(
                f,
                "contains the control character U+{code:04X} at position {}",
                at + 1
            ),
            TextProblem::TooLong { max_chars, chars } => {
                write!(f, "may be at most {max_chars} characters (got {chars})")
            }
        }
    }
}

/// Whether `c` may appear in a field with `rule`. Unicode's other format and
/// separator characters are allowed: they are text, not terminal or log control.
fn allowed(c: char, rule: TextRule) -> bool {
    !c.is_control() || (rule.multiline && matches!(c, '\n' | '\r' | '\t'))
}

/// Checks `value` (as given; callers trim first where a field ignores surrounding
/// blanks) against `rule`.
pub fn check(value: &str, rule: TextRule) -> Result<(), TextProblem> {
    let mut chars = 0;
    for (at, c) in value.chars().enumerate() {
        if !allowed(c, rule) {
            return Err(TextProblem::ControlCharacter {
                at,
                code: u32::from(c),
            });
        }
        chars = at + 1;
    }
    if chars > rule.max_chars {
        return Err(TextProblem::TooLong {
            max_chars: rule.max_chars,
            chars,
        });
    }
    Ok(())
}

/// `check`, with the problem told as `"<field> <problem>"`.
pub fn check_field(field: &str, value: &str, rule: TextRule) -> Result<(), String> {
    check(value, rule).map_err(|p| format!("{field} {p}"))
}

/// Spreadsheet programs run a cell that starts with one of these as a formula (OWASP,
/// "CSV Injection").
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell made safe for a spreadsheet: a leading `'` when it would otherwise be
/// read as a formula. [`unneutralize`] undoes it on import.
pub fn neutralize_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) || cell.starts_with('\'') && is_neutralized(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Whether `cell` is a neutralized formula start (`'` followed by a formula start).
fn is_neutralized(cell: &str) -> bool {
    cell.strip_prefix('\'').is_some_and(|rest| {
        rest.starts_with(FORMULA_STARTS) || rest.starts_with('\'') && is_neutralized(rest)
    })
}

/// The text [`neutralize_formula`] was given.
pub fn unneutralize(cell: &str) -> &str {
    if is_neutralized(cell) {
        &cell[1..]
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_control_characters_are_refused() {
        assert_eq!(
            check("a\0b", NAME),
            Err(TextProblem::ControlCharacter { at: 1, code: 0 })
        );
        assert!(check("line\nforged", NAME).is_err());
        assert!(check("esc\u{1b}[31m", NOTES).is_err());
        assert!(check("del\u{7f}", NOTES).is_err());
        assert!(check("c1\u{85}", NOTES).is_err());
        assert_eq!(check("two\nlines\tand tab\r\n", NOTES), Ok(()));
        assert_eq!(check("Ünïcödé — ok ✓", NAME), Ok(()));
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let ok = "é".repeat(100);
        assert_eq!(check(&ok, NAME), Ok(()));
        let long = "é".repeat(101);
        assert_eq!(
            check(&long, NAME),
            Err(TextProblem::TooLong {
                max_chars: 100,
                chars: 101
            })
        );
    }

    #[test]
    fn the_message_names_the_field_and_the_position() {
        assert_eq!(
            check_field("name", "ab\0", NAME),
            Err("name contains the control character U+0000 at position 3".to_string())
        );
    }

    #[test]
    fn formulas_are_neutralized_and_restored() {
        for cell in [
            "=cmd|'/C calc'!A0",
            "+1",
            "-2",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "'=already",
        ] {
            let safe = neutralize_formula(cell);
            assert!(safe.starts_with('\''), "{cell:?} → {safe:?}");
            assert_eq!(unneutralize(&safe), cell);
        }
        for cell in ["plain", "'quoted text'", "", "1=1"] {
            assert_eq!(neutralize_formula(cell), cell);
            assert_eq!(unneutralize(cell), cell);
        }
    }
}
