//! How values are written for people: "23.2%", "$58,941", "0.42 h (25 min)".
//! Used by the SPA, exports and reports, so every screen formats alike.
use crate::catalogue::Unit;

/// A number without needless decimals: 1080, 5.5, 0.2537 (at most 6 significant decimals).
pub fn plain_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Groups the integer part with commas: 1234567 → "1,234,567".
fn group_thousands(int_part: u64) -> String {
    let digits = int_part.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A number with thousands separators and `decimals` places: 58941.2 → "58,941".
pub fn grouped(v: f64, decimals: usize) -> String {
    let rounded = format!("{:.*}", decimals, v.abs());
    let (int, frac) = rounded.split_once('.').unwrap_or((&rounded, ""));
    let int_grouped = group_thousands(int.parse().unwrap_or(0));
    let sign = if v < 0.0 && rounded.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{int_grouped}")
    } else {
        format!("{sign}{int_grouped}.{frac}")
    }
}

/// Whole dollars: "$58,941", "-$2,044".
pub fn usd(v: f64) -> String {
    let g = grouped(v, 0);
    match g.strip_prefix('-') {
        Some(rest) => format!("-${rest}"),
        None => format!("${g}"),
    }
}

/// A fraction as a percentage with one decimal: 0.2322 → "23.2%".
pub fn pct(v: f64) -> String {
    format!("{}%", grouped(v * 100.0, 1))
}

/// Hours with two decimals and, under ten hours, the minutes: "0.42 h (25 min)".
pub fn hours(v: f64) -> String {
    if v.abs() < 10.0 {
        let minutes = (v * 60.0).round();
        format!("{:.2} h ({} min)", v, minutes)
    } else {
        format!("{} h", grouped(v, 1))
    }
}

/// A count: whole numbers plainly, fractions (8.5 employees, 65.45 tickets) with up to two decimals.
pub fn count(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        grouped(v, 0)
    } else if v.abs() < 1.0 {
        format!("{v:.3}")
    } else {
        let s = grouped(v, 2);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A ratio with two decimals: "2.45".
pub fn ratio(v: f64) -> String {
    grouped(v, 2)
}

/// Formats a value by its unit; `None` is "N/A", never 0.
pub fn value(unit: Unit, v: Option<f64>) -> String {
    match v {
        None => "N/A".to_string(),
        Some(v) => match unit {
            Unit::Usd => usd(v),
            Unit::Pct => pct(v),
            Unit::Hours => hours(v),
            Unit::Count => count(v),
            Unit::Ratio => ratio(v),
        },
    }
}

/// A change between two periods, signed, in the unit's terms: "+1.2 pts" for
/// percentages (points, not percent of percent), "-$2,044", "+2 min", "+4.5".
pub fn change(unit: Unit, delta: f64) -> String {
    let sign = if delta > 0.0 { "+" } else { "" };
    match unit {
        Unit::Pct => {
            let body = grouped(delta * 100.0, 1);
            let sign = if body.starts_with('-') || body.trim_start_matches(['0', '.']).is_empty() {
                ""
            } else {
                sign
            };
            format!("{sign}{body} pts")
        }
        Unit::Usd => {
            let body = usd(delta);
            let sign = if body.starts_with('-') || body == "$0" {
                ""
            } else {
                sign
            };
            format!("{sign}{body}")
        }
        // Small changes of hours read better in minutes: "+2 min", "-30 min".
        Unit::Hours if delta.abs() < 1.0 => {
            let minutes = (delta * 60.0).round();
            if minutes == 0.0 {
                "0 min".to_string()
            } else {
                format!(
                    "{}{} min",
                    if minutes > 0.0 { "+" } else { "-" },
                    minutes.abs()
                )
            }
        }
        Unit::Hours => format!("{sign}{} h", grouped(delta, 1)),
        Unit::Count | Unit::Ratio => {
            let body = if unit == Unit::Ratio {
                ratio(delta)
            } else {
                count(delta)
            };
            let sign = if body.starts_with('-') || body == "0" || body == "0.00" {
                ""
            } else {
                sign
            };
            format!("{sign}{body}")
        }
    }
}

/// A stored value as the text a person edits: percentages in percent ("20" for
/// 0.2), everything else as a plain number without grouping ("58941", "0.25").
pub fn input_text(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Pct => plain_number((v * 100.0 * 1e6).round() / 1e6),
        _ => plain_number(v),
    }
}

/// Parses what a person typed into a value field. Blank is `Ok(None)` (no value);
/// `$`, `,`, `%`, `h` and spaces are ignored; percentages are typed in percent.
/// Negative values are refused for units that can't be negative.
pub fn parse_input(unit: Unit, text: &str) -> Result<Option<f64>, String> {
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, '$' | ',' | '%' | ' ' | 'h'))
        .collect();
    if cleaned.is_empty() {
        return Ok(None);
    }
    let v: f64 = cleaned
        .replace('\u{2212}', "-")
        .parse()
        .map_err(|_| format!("\"{}\" is not a number", text.trim()))?;
    if !v.is_finite() {
        return Err("enter a finite number".to_string());
    }
    if v < 0.0 && !unit.allows_negative() {
        return Err("can't be negative".to_string());
    }
    Ok(Some(if unit == Unit::Pct { v / 100.0 } else { v }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        assert_eq!(pct(0.2322), "23.2%");
        assert_eq!(pct(0.104759), "10.5%");
        assert_eq!(usd(58941.0), "$58,941");
        assert_eq!(usd(-2044.0), "-$2,044");
        assert_eq!(usd(220818.4), "$220,818");
        assert_eq!(hours(0.418593), "0.42 h (25 min)");
        assert_eq!(hours(0.253692), "0.25 h (15 min)");
        assert_eq!(value(Unit::Hours, None), "N/A");
    }

    #[test]
    fn counts_and_ratios() {
        assert_eq!(count(1080.0), "1,080");
        assert_eq!(count(8.5), "8.5");
        assert_eq!(count(65.454545), "65.45");
        assert_eq!(count(0.606622), "0.607");
        assert_eq!(ratio(2.456), "2.46");
        assert_eq!(plain_number(5.5), "5.5");
        assert_eq!(plain_number(1080.0), "1080");
        assert_eq!(grouped(-0.001, 0), "0");
        assert_eq!(grouped(1234567.891, 2), "1,234,567.89");
    }

    #[test]
    fn changes() {
        assert_eq!(change(Unit::Pct, 0.0123), "+1.2 pts");
        assert_eq!(change(Unit::Pct, -0.05), "-5.0 pts");
        assert_eq!(change(Unit::Pct, 0.0), "0.0 pts");
        assert_eq!(change(Unit::Usd, -2044.0), "-$2,044");
        assert_eq!(change(Unit::Usd, 366.0), "+$366");
        assert_eq!(change(Unit::Hours, 0.031), "+2 min");
        assert_eq!(change(Unit::Hours, -0.5), "-30 min");
        assert_eq!(change(Unit::Hours, -0.001), "0 min");
        assert_eq!(change(Unit::Hours, 12.34), "+12.3 h");
        assert_eq!(change(Unit::Count, 4.5), "+4.5");
        assert_eq!(change(Unit::Count, 0.0), "0");
        assert_eq!(change(Unit::Ratio, -1.234), "-1.23");
    }

    #[test]
    fn inputs_round_trip() {
        assert_eq!(parse_input(Unit::Usd, " $58,941 "), Ok(Some(58941.0)));
        assert_eq!(parse_input(Unit::Usd, "-2044"), Ok(Some(-2044.0)));
        assert_eq!(parse_input(Unit::Pct, "20%"), Ok(Some(0.2)));
        assert_eq!(parse_input(Unit::Hours, "0.25 h"), Ok(Some(0.25)));
        assert_eq!(parse_input(Unit::Count, ""), Ok(None));
        assert!(parse_input(Unit::Count, "-1").is_err());
        assert!(parse_input(Unit::Count, "abc").is_err());
        assert_eq!(input_text(Unit::Pct, 0.2), "20");
        assert_eq!(input_text(Unit::Pct, 0.104759), "10.4759");
        assert_eq!(input_text(Unit::Usd, 58941.0), "58941");
        for (unit, v) in [(Unit::Pct, 0.95), (Unit::Usd, 150000.0), (Unit::Hours, 0.2)] {
            assert_eq!(parse_input(unit, &input_text(unit, v)), Ok(Some(v)));
        }
    }
}
