//! The metric catalogue and the SmartNumber definitions as the API shows them (pure:
//! built once per process).
use super::{encode, Answer};
use crate::error::AppResult;
use qbr_shared::api::*;
use qbr_shared::catalogue::{is_input, METRICS};
use qbr_shared::smartnumbers::SMARTNUMBERS;
use qbr_shared::values::PRIOR_YEAR_AVG_EXPENSES;
use std::sync::{Arc, OnceLock};

/// Every monthly metric and SmartNumber: key, label, category, unit, source,
/// aggregation, formula, description.
pub fn metric_definitions() -> AppResult<Answer<MetricDefinitionsResponse>> {
    static ANSWER: OnceLock<Answer<MetricDefinitionsResponse>> = OnceLock::new();
    if let Some(answer) = ANSWER.get() {
        return Ok(answer.clone());
    }
    let answer = Arc::new(encode(build())?);
    Ok(ANSWER.get_or_init(|| answer).clone())
}

fn build() -> MetricDefinitionsResponse {
    let metrics = METRICS
        .iter()
        .map(|d| MetricDefinition {
            key: d.key.to_string(),
            label: d.label.to_string(),
            category: d.category,
            unit: d.unit,
            source: d.source,
            aggregation: d.aggregation,
            formula: d.formula_text(),
            description: d.description.to_string(),
            editable: is_input(d) || d.key == PRIOR_YEAR_AVG_EXPENSES,
            collected: d.source.is_collected(),
        })
        .collect();
    let smartnumbers = SMARTNUMBERS
        .iter()
        .map(|d| SmartNumberDefinition {
            key: d.key.to_string(),
            label: d.label.to_string(),
            category: d.category,
            unit: d.unit,
            better: d.better,
            formula: d.formula.to_text(&|k| k.to_string()),
            inputs: d.formula.inputs().iter().map(|s| s.to_string()).collect(),
        })
        .collect();
    MetricDefinitionsResponse {
        metrics,
        smartnumbers,
    }
}
