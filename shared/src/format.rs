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
}
