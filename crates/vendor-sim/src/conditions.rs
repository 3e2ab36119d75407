//! ConnectWise's `conditions` language (the subset the collectors and the simulated
//! server use): parsing, evaluation against a JSON row, and `fields` projection.
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

/// A parsed `conditions` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    Cmp(String, String, Lit),
    In(String, bool, Vec<Lit>),
}

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Date(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Date(DateTime<Utc>),
    Op(String),
    LParen,
    RParen,
    Comma,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '"' | '\'' => {
                let quote = c;
                let mut v = String::new();
                i += 1;
                loop {
                    let Some(&ch) = chars.get(i) else {
                        return Err("unterminated string".into());
                    };
                    i += 1;
                    if ch == '\\' {
                        if let Some(&n) = chars.get(i) {
                            v.push(n);
                            i += 1;
                        }
                    } else if ch == quote {
                        break;
                    } else {
                        v.push(ch);
                    }
                }
                out.push(Tok::Str(v));
            }
            '[' => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .ok_or("unterminated datetime")?;
                let text: String = chars[i + 1..i + end].iter().collect();
                let d = DateTime::parse_from_rfc3339(text.trim())
                    .map_err(|e| format!("bad datetime [{text}]: {e}"))?;
                out.push(Tok::Date(d.with_timezone(&Utc)));
                i += end + 1;
            }
            '=' | '!' | '<' | '>' => {
                let mut op = c.to_string();
                if chars.get(i + 1) == Some(&'=') || (c == '<' && chars.get(i + 1) == Some(&'>')) {
                    op.push(chars[i + 1]);
                    i += 1;
                }
                i += 1;
                out.push(Tok::Op(op));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                out.push(Tok::Num(
                    text.parse().map_err(|_| format!("bad number {text}"))?,
                ));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric()
                        || chars[i] == '_'
                        || chars[i] == '/'
                        || chars[i] == '.')
                {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected '{other}'")),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(k))
    }
    fn or(&mut self) -> Result<Cond, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            left = Cond::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Cond, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            left = Cond::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Cond, String> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Cond::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let c = self.or()?;
            if self.next() != Some(Tok::RParen) {
                return Err("expected )".into());
            }
            return Ok(c);
        }
        self.comparison()
    }
    fn literal(&mut self) -> Result<Lit, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::Str(s)),
            Some(Tok::Num(n)) => Ok(Lit::Num(n)),
            Some(Tok::Date(d)) => Ok(Lit::Date(d)),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("null") => Ok(Lit::Null),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("true") => Ok(Lit::Bool(true)),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("false") => Ok(Lit::Bool(false)),
            other => Err(format!("expected a value, got {other:?}")),
        }
    }
    fn comparison(&mut self) -> Result<Cond, String> {
        let Some(Tok::Ident(field)) = self.next() else {
            return Err("expected a field".into());
        };
        let negated = if self.keyword("not") {
            self.pos += 1;
            true
        } else {
            false
        };
        if self.keyword("in") {
            self.pos += 1;
            if self.next() != Some(Tok::LParen) {
                return Err("expected ( after in".into());
            }
            let mut items = Vec::new();
            loop {
                items.push(self.literal()?);
                match self.next() {
                    Some(Tok::Comma) => continue,
                    Some(Tok::RParen) => break,
                    other => return Err(format!("expected , or ), got {other:?}")),
                }
            }
            return Ok(Cond::In(field, negated, items));
        }
        if self.keyword("like") {
            self.pos += 1;
            let lit = self.literal()?;
            let c = Cond::Cmp(field, "like".into(), lit);
            return Ok(if negated { Cond::Not(Box::new(c)) } else { c });
        }
        match self.next() {
            Some(Tok::Op(op)) => Ok(Cond::Cmp(field, op, self.literal()?)),
            other => Err(format!("expected an operator, got {other:?}")),
        }
    }
}

/// Parses a `conditions` string.
pub fn parse_conditions(s: &str) -> Result<Cond, String> {
    let mut p = Parser {
        toks: tokenize(s)?,
        pos: 0,
    };
    let c = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("unexpected input at token {}", p.pos));
    }
    Ok(c)
}

fn lookup<'a>(row: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/')
        .try_fold(row, |v, key| v.get(key))
        .filter(|v| !v.is_null())
}

fn compare(v: Option<&Value>, lit: &Lit) -> Option<std::cmp::Ordering> {
    let v = v?;
    match lit {
        Lit::Num(n) => v.as_f64()?.partial_cmp(n),
        Lit::Str(s) => Some(v.as_str()?.to_lowercase().cmp(&s.to_lowercase())),
        Lit::Bool(b) => Some(v.as_bool()?.cmp(b)),
        Lit::Date(d) => {
            let t = DateTime::parse_from_rfc3339(v.as_str()?)
                .ok()?
                .with_timezone(&Utc);
            Some(t.cmp(d))
        }
        Lit::Null => None,
    }
}

/// Whether `row` satisfies `c`.
pub fn eval(c: &Cond, row: &Value) -> bool {
    use std::cmp::Ordering::*;
    match c {
        Cond::And(a, b) => eval(a, row) && eval(b, row),
        Cond::Or(a, b) => eval(a, row) || eval(b, row),
        Cond::Not(a) => !eval(a, row),
        Cond::In(f, negated, items) => {
            let v = lookup(row, f);
            let hit = items.iter().any(|l| compare(v, l) == Some(Equal));
            hit != *negated
        }
        Cond::Cmp(f, op, Lit::Null) => {
            let is_null = lookup(row, f).is_none();
            match op.as_str() {
                "=" => is_null,
                "!=" | "<>" => !is_null,
                _ => false,
            }
        }
        Cond::Cmp(f, op, lit) => {
            let v = lookup(row, f);
            if op == "like" {
                let (Some(s), Lit::Str(p)) = (v.and_then(Value::as_str), lit) else {
                    return false;
                };
                let needle = p.trim_matches('%').to_lowercase();
                return s.to_lowercase().contains(&needle);
            }
            let Some(ord) = compare(v, lit) else {
                return op == "!=" || op == "<>";
            };
            match op.as_str() {
                "=" => ord == Equal,
                "!=" | "<>" => ord != Equal,
                "<" => ord == Less,
                "<=" => ord != Greater,
                ">" => ord == Greater,
                ">=" => ord != Less,
                _ => false,
            }
        }
    }
}

/// Keeps only `fields` (comma-separated, nested with `/`).
pub fn project(row: &Value, fields: &str) -> Value {
    let mut out = Value::Object(Map::new());
    for f in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let Some(v) = path_value(row, f) else {
            continue;
        };
        let mut target = &mut out;
        let parts: Vec<&str> = f.split('/').collect();
        for (i, p) in parts.iter().enumerate() {
            let Some(obj) = target.as_object_mut() else {
                break;
            };
            if i + 1 == parts.len() {
                obj.insert(p.to_string(), v.clone());
                break;
            }
            target = obj.entry(p.to_string()).or_insert_with(|| json!({}));
        }
    }
    out
}

fn path_value<'a>(row: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/').try_fold(row, |v, key| v.get(key))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn row() -> Value {
        json!({
            "id": 7, "board": {"name": "Help Desk"}, "status": {"name": ">Closed"},
            "parentTicketId": null, "dateEntered": "2025-03-01T05:59:59Z", "actualHours": 1.5
        })
    }

    fn holds(c: &str) -> bool {
        eval(&parse_conditions(c).unwrap(), &row())
    }

    #[test]
    fn conditions_follow_the_documented_syntax() {
        assert!(holds(
            r#"board/name in ("Help Desk", "Triage") AND parentTicketId = null"#
        ));
        assert!(!holds(r#"board/name not in ("Help Desk")"#));
        assert!(
            holds(r#"board/name = "help desk""#),
            "string comparison ignores case"
        );
        assert!(holds("dateEntered < [2025-03-01T06:00:00Z]"));
        assert!(!holds("dateEntered >= [2025-03-01T06:00:00Z]"));
        assert!(holds("id in (1, 7) and actualHours > 1"));
        assert!(holds(
            r#"(id = 1 OR id = 7) AND NOT status/name = "Completed""#
        ));
        assert!(
            !holds("id = 1 OR id = 2 AND id = 7"),
            "AND binds tighter than OR"
        );
        assert!(holds(r#"status/name like "%Closed%""#));
        assert!(!holds("parentTicketId != null"));
        assert!(
            !holds("closedDate >= [2025-01-01T00:00:00Z]"),
            "missing field"
        );
        assert!(parse_conditions("id = ").is_err());
        assert!(parse_conditions("(id = 1").is_err());
        assert!(parse_conditions("dateEntered > [not a date]").is_err());
    }

    #[test]
    fn fields_keep_only_what_is_asked() {
        assert_eq!(
            project(&row(), "id,board/name"),
            json!({"id": 7, "board": {"name": "Help Desk"}})
        );
    }
}
