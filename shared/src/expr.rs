//! A tiny formula language for derived metrics and SmartNumbers.
//!
//! Formulas are data (`Expr`), not code, so one definition gives the value, the list
//! of missing inputs, the formula as text for the docs and the API, and the formula
//! "filled in" with a period's real numbers for the drill-down page.
use std::collections::BTreeMap;

/// Values by metric key.
pub type Values = BTreeMap<String, f64>;

/// An arithmetic expression over metric values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expr {
    /// The value of a metric (null when absent).
    Metric(&'static str),
    /// A constant.
    Const(f64),
    /// `m`: the number of months of the period (elapsed months for the period in progress).
    Months,
    /// Working hours per technician per month (an organization setting, 167 by default).
    WorkingHours,
    /// A sum whose missing terms count as 0 as long as at least one term is present.
    Sum(&'static [Expr]),
    /// `a − b`; null when either side is null.
    Sub(&'static Expr, &'static Expr),
    /// `a × b`; null when either side is null.
    Mul(&'static Expr, &'static Expr),
    /// `a / b`; null when either side is null or `b` is zero.
    Div(&'static Expr, &'static Expr),
}

/// What an evaluation needs besides the metric values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalContext {
    pub months: u32,
    pub working_hours: f64,
}

impl Default for EvalContext {
    fn default() -> Self {
        EvalContext {
            months: 1,
            working_hours: 167.0,
        }
    }
}

/// The result of evaluating an expression.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evaluation {
    pub value: Option<f64>,
    /// Inputs that were needed but absent (in formula order, no duplicates).
    pub missing_inputs: Vec<String>,
    /// Denominators that were zero, rendered as text (e.g. `first_time_appointments`).
    pub zero_denominators: Vec<String>,
}

impl Expr {
    /// Evaluates the expression against `values`.
    pub fn evaluate(&self, values: &Values, ctx: EvalContext) -> Evaluation {
        let mut eval = Evaluation::default();
        eval.value = self.eval_inner(values, ctx, &mut eval);
        if eval.value.is_some() {
            // A present value has no reason to be null; sums may have skipped absent terms.
            eval.missing_inputs.clear();
            eval.zero_denominators.clear();
        }
        eval
    }

    fn eval_inner(&self, values: &Values, ctx: EvalContext, acc: &mut Evaluation) -> Option<f64> {
        match self {
            Expr::Metric(key) => {
                let v = values.get(*key).copied();
                if v.is_none() && !acc.missing_inputs.iter().any(|k| k == key) {
                    acc.missing_inputs.push((*key).to_string());
                }
                v
            }
            Expr::Const(c) => Some(*c),
            Expr::Months => (ctx.months > 0).then_some(f64::from(ctx.months)),
            Expr::WorkingHours => Some(ctx.working_hours),
            Expr::Sum(terms) => {
                let mut scratch = Evaluation::default();
                let parts: Vec<Option<f64>> = terms
                    .iter()
                    .map(|t| t.eval_inner(values, ctx, &mut scratch))
                    .collect();
                if parts.iter().any(Option::is_some) {
                    Some(parts.iter().flatten().sum())
                } else {
                    merge_reasons(acc, scratch);
                    None
                }
            }
            Expr::Sub(a, b) => both(a, b, values, ctx, acc).map(|(x, y)| x - y),
            Expr::Mul(a, b) => both(a, b, values, ctx, acc).map(|(x, y)| x * y),
            Expr::Div(a, b) => {
                let (x, y) = both(a, b, values, ctx, acc)?;
                if y == 0.0 {
                    acc.zero_denominators.push(b.to_text(&|k| k.to_string()));
                    None
                } else {
                    Some(x / y)
                }
            }
        }
    }

    /// Every metric key the expression reads, in formula order, without duplicates.
    pub fn inputs(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        self.collect_inputs(&mut out);
        out
    }

    fn collect_inputs(&self, out: &mut Vec<&'static str>) {
        match self {
            Expr::Metric(k) => {
                if !out.contains(k) {
                    out.push(k);
                }
            }
            Expr::Const(_) | Expr::Months | Expr::WorkingHours => {}
            Expr::Sum(terms) => terms.iter().for_each(|t| t.collect_inputs(out)),
            Expr::Sub(a, b) | Expr::Mul(a, b) | Expr::Div(a, b) => {
                a.collect_inputs(out);
                b.collect_inputs(out);
            }
        }
    }

    /// The formula as text, with each metric written by `name` (a key or a label).
    pub fn to_text(&self, name: &dyn Fn(&str) -> String) -> String {
        self.render(&|leaf| match leaf {
            Leaf::Metric(k) => name(k),
            Leaf::Months => "m".to_string(),
            Leaf::WorkingHours => "working hours".to_string(),
        })
    }

    /// The formula with the numbers put in, e.g. `1080 / 5.5 / 3`.
    pub fn filled_in(
        &self,
        values: &Values,
        ctx: EvalContext,
        fmt: &dyn Fn(&str, f64) -> String,
    ) -> String {
        self.render(&|leaf| match leaf {
            Leaf::Metric(k) => values
                .get(k)
                .map_or_else(|| "N/A".to_string(), |v| fmt(k, *v)),
            Leaf::Months => ctx.months.to_string(),
            Leaf::WorkingHours => crate::format::plain_number(ctx.working_hours),
        })
    }

    fn render(&self, leaf: &dyn Fn(Leaf<'_>) -> String) -> String {
        match self {
            Expr::Metric(k) => leaf(Leaf::Metric(k)),
            Expr::Const(c) => crate::format::plain_number(*c),
            Expr::Months => leaf(Leaf::Months),
            Expr::WorkingHours => leaf(Leaf::WorkingHours),
            Expr::Sum(terms) => {
                let inner: Vec<String> = terms.iter().map(|t| t.render(leaf)).collect();
                if terms.len() > 1 {
                    format!("({})", inner.join(" + "))
                } else {
                    inner.join("")
                }
            }
            Expr::Sub(a, b) => format!("({} − {})", a.render(leaf), b.render(leaf)),
            Expr::Mul(a, b) => format!("{} × {}", a.render(leaf), wrap(b, leaf)),
            Expr::Div(a, b) => format!("{} / {}", a.render(leaf), wrap(b, leaf)),
        }
    }
}

enum Leaf<'a> {
    Metric(&'a str),
    Months,
    WorkingHours,
}

/// Puts a right-hand operand of × or / in parentheses when it is itself a product or quotient.
fn wrap(e: &Expr, leaf: &dyn Fn(Leaf<'_>) -> String) -> String {
    match e {
        Expr::Mul(..) | Expr::Div(..) => format!("({})", e.render(leaf)),
        _ => e.render(leaf),
    }
}

fn both(
    a: &Expr,
    b: &Expr,
    values: &Values,
    ctx: EvalContext,
    acc: &mut Evaluation,
) -> Option<(f64, f64)> {
    let x = a.eval_inner(values, ctx, acc);
    let y = b.eval_inner(values, ctx, acc);
    Some((x?, y?))
}

fn merge_reasons(acc: &mut Evaluation, scratch: Evaluation) {
    for k in scratch.missing_inputs {
        if !acc.missing_inputs.contains(&k) {
            acc.missing_inputs.push(k);
        }
    }
    acc.zero_denominators.extend(scratch.zero_denominators);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(pairs: &[(&str, f64)]) -> Values {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    const SUM: Expr = Expr::Sum(&[Expr::Metric("a"), Expr::Metric("b")]);
    const RATIO: Expr = Expr::Div(&Expr::Metric("a"), &Expr::Metric("b"));

    #[test]
    fn sum_counts_missing_terms_as_zero_when_one_is_present() {
        let e = SUM.evaluate(&vals(&[("a", 2.0)]), EvalContext::default());
        assert_eq!(e.value, Some(2.0));
        assert!(e.missing_inputs.is_empty());
    }

    #[test]
    fn sum_of_nothing_is_null_and_names_every_term() {
        let e = SUM.evaluate(&vals(&[]), EvalContext::default());
        assert_eq!(e.value, None);
        assert_eq!(e.missing_inputs, vec!["a", "b"]);
    }

    #[test]
    fn ratio_is_null_on_missing_input_or_zero_denominator() {
        let e = RATIO.evaluate(&vals(&[("a", 1.0)]), EvalContext::default());
        assert_eq!((e.value, e.missing_inputs), (None, vec!["b".to_string()]));
        let e = RATIO.evaluate(&vals(&[("a", 1.0), ("b", 0.0)]), EvalContext::default());
        assert_eq!(
            (e.value, e.zero_denominators),
            (None, vec!["b".to_string()])
        );
    }

    #[test]
    fn text_and_filled_in_forms() {
        const E: Expr = Expr::Div(
            &Expr::Div(&Expr::Metric("a"), &Expr::Metric("b")),
            &Expr::Months,
        );
        assert_eq!(E.to_text(&|k| k.to_uppercase()), "A / B / m");
        let ctx = EvalContext {
            months: 3,
            working_hours: 167.0,
        };
        let s = E.filled_in(&vals(&[("a", 1080.0), ("b", 5.5)]), ctx, &|_, v| {
            crate::format::plain_number(v)
        });
        assert_eq!(s, "1080 / 5.5 / 3");
    }
}
