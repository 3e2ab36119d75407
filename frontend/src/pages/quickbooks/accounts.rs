//! The accounts QuickBooks reported, by section of the profit-and-loss report: each
//! with its last month's amount, where its amounts go (a `<select>`: its own mapping,
//! or what it follows), a reason when ignored, and why it goes there.
use super::state::Draft;
use crate::pages::{event_value, period_label};
use qbr_shared::catalogue::{metric_def, Category};
use qbr_shared::format;
use qbr_shared::quickbooks::api::{QuickBooksAccount, QuickBooksAccountsResponse};
use qbr_shared::quickbooks::{resolve, MappedBy, Mapping, Section, Target};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use yew::prelude::*;

/// A section's heading.
fn section_label(s: Section) -> &'static str {
    match s {
        Section::Income => "Income",
        Section::CostOfGoodsSold => "Cost of goods sold",
        Section::Expense => "Expenses",
        Section::OtherIncome => "Other income",
        Section::OtherExpense => "Other expenses",
    }
}

/// A target's name for people: the metric's label, or "Ignore".
pub fn target_label(target: &str) -> String {
    match target {
        "ignore" => "Ignore".into(),
        key => metric_def(key).map_or_else(|| key.to_string(), |d| d.label.to_string()),
    }
}

/// Money with cents, negative shown as such: "$1,234.50", "-$75.00".
pub fn money(v: f64) -> String {
    let g = format::grouped(v, 2);
    match g.strip_prefix('-') {
        Some(rest) => format!("-${rest}"),
        None => format!("${g}"),
    }
}

/// The parents of `A:B:C`, nearest first: `A:B`, `A`.
fn parents(name: &str) -> impl Iterator<Item = &str> {
    name.rmatch_indices(':').map(move |(i, _)| &name[..i])
}

/// Where an account goes as the page shows it: its own (possibly changed) mapping, or
/// what it follows without one.
#[derive(Clone, PartialEq, Debug)]
struct Effective {
    target: Option<String>,
    by: MappedBy,
}

/// Works out, from the stored answer and the changes typed so far, where each account
/// goes and what it would follow without a mapping of its own. The server's answer is
/// used as long as no change touches the account's parents; otherwise the shared rule
/// (`resolve`) decides over the own mappings the page knows.
struct Resolver<'a> {
    accounts: &'a [QuickBooksAccount],
    drafts: &'a BTreeMap<String, Draft>,
    own: BTreeMap<String, Mapping>,
}

impl<'a> Resolver<'a> {
    fn new(accounts: &'a [QuickBooksAccount], drafts: &'a BTreeMap<String, Draft>) -> Self {
        let own = accounts
            .iter()
            .filter_map(|a| {
                let d = drafts
                    .get(&a.full_name)
                    .cloned()
                    .unwrap_or_else(|| Draft::stored(a));
                let target = Target::parse(d.target.as_deref()?)?;
                Some((
                    a.full_name.clone(),
                    Mapping {
                        target,
                        reason: None,
                    },
                ))
            })
            .collect();
        Resolver {
            accounts,
            drafts,
            own,
        }
    }

    /// What `a` follows without an own mapping.
    fn follows(&self, a: &QuickBooksAccount) -> Effective {
        let parent_changed = self
            .drafts
            .keys()
            .any(|k| a.full_name.starts_with(&format!("{k}:")));
        if a.mapped_by != MappedBy::Own && !parent_changed {
            return Effective {
                target: a.target.clone(),
                by: a.mapped_by,
            };
        }
        let mut own = self.own.clone();
        own.remove(&a.full_name);
        let (target, by) = resolve(&a.full_name, a.section, &own);
        Effective {
            target: target.map(|t| t.as_str().to_string()),
            by,
        }
    }

    fn draft(&self, a: &QuickBooksAccount) -> Draft {
        self.drafts
            .get(&a.full_name)
            .cloned()
            .unwrap_or_else(|| Draft::stored(a))
    }

    fn effective(&self, a: &QuickBooksAccount) -> Effective {
        match self.draft(a).target {
            Some(t) => Effective {
                target: Some(t),
                by: MappedBy::Own,
            },
            None => self.follows(a),
        }
    }

    /// Names of the accounts, to tell which parents are listed.
    fn names(&self) -> BTreeSet<&'a str> {
        self.accounts.iter().map(|a| a.full_name.as_str()).collect()
    }
}

/// The option that removes an account's own mapping, named by what it then follows.
fn follow_label(f: &Effective) -> String {
    match (&f.target, f.by) {
        (Some(t), MappedBy::Parent) => format!("(parent: {})", target_label(t)),
        (Some(t), _) => format!("(default: {})", target_label(t)),
        (None, _) => "(not mapped)".into(),
    }
}

/// The badge saying why an account goes where it goes.
fn by_badge(by: MappedBy) -> Html {
    let (class, text, title) = match by {
        MappedBy::Own => (Some("own"), "own", "Its own mapping"),
        MappedBy::Parent => (None, "parent", "Follows its nearest mapped parent account"),
        MappedBy::Default => (None, "default", "The default rule for its name and section"),
        MappedBy::Nothing => (
            Some("red"),
            "unmapped",
            "Goes nowhere: map it to a metric, or ignore it with a reason",
        ),
    };
    html! { <span class={classes!("badge", class)} {title}>{ text }</span> }
}

/// The metrics an account can go to, by category of the catalogue.
type Groups = Vec<(&'static str, Vec<String>)>;

#[derive(Properties, PartialEq)]
struct TargetSelectProps {
    account: AttrValue,
    /// The chosen option: a metric key, `ignore`, or empty to follow.
    value: String,
    /// The empty option's text: what the account follows without a mapping.
    follow: String,
    groups: Rc<Groups>,
    disabled: bool,
    onchange: Callback<Event>,
}

/// Where an account goes, as a `<select>`. Its value is set on the element after every
/// change of `value`: `selected` attributes stop counting once a person has picked an
/// option, so a reload or Cancel would otherwise leave the old choice showing.
#[function_component(TargetSelect)]
fn target_select(props: &TargetSelectProps) -> Html {
    let node = use_node_ref();
    {
        let node = node.clone();
        use_effect_with(props.value.clone(), move |value| {
            if let Some(select) = node.cast::<web_sys::HtmlSelectElement>() {
                select.set_value(value);
            }
        });
    }
    let option = |key: &String| {
        html! { <option value={key.clone()} selected={props.value == *key}>{ target_label(key) }</option> }
    };
    html! {
        <select ref={node} class="target" data-account={props.account.clone()} onchange={props.onchange.clone()}
            disabled={props.disabled} aria-label={format!("Where {} goes", props.account)}>
            <option value="" selected={props.value.is_empty()}>{ props.follow.clone() }</option>
            { for props.groups.iter().map(|(label, keys)| html! {
                <optgroup label={*label}>{ for keys.iter().map(&option) }</optgroup>
            }) }
            <option value="ignore" selected={props.value == "ignore"}>{ "Ignore" }</option>
        </select>
    }
}

#[derive(Properties, PartialEq)]
pub struct AccountsTableProps {
    pub data: Rc<QuickBooksAccountsResponse>,
    pub drafts: BTreeMap<String, Draft>,
    pub saving: bool,
    /// Whether the user's role may change mappings (else the selects are disabled).
    pub editable: bool,
    /// An account's new mapping: (account, stored, new).
    pub onedit: Callback<(String, Draft, Draft)>,
}

#[function_component(AccountsTable)]
pub fn accounts_table(props: &AccountsTableProps) -> Html {
    let data = &props.data;
    let r = Resolver::new(&data.accounts, &props.drafts);
    let names = r.names();
    let last_month = data.accounts.iter().find_map(|a| a.last_month.clone());
    // Metric targets grouped as in the Business Review (revenue, then expenses).
    let metrics: Vec<&String> = data.targets.iter().filter(|t| *t != "ignore").collect();
    let groups: Rc<Groups> = Rc::new(
        Category::ALL
            .iter()
            .filter_map(|c| {
                let keys: Vec<String> = metrics
                    .iter()
                    .filter(|k| metric_def(k).is_some_and(|d| d.category == *c))
                    .map(|k| k.to_string())
                    .collect();
                (!keys.is_empty()).then_some((c.label(), keys))
            })
            .collect(),
    );
    let locked = props.saving || !props.editable;
    let row = |a: &QuickBooksAccount| {
        let draft = r.draft(a);
        let eff = r.effective(a);
        let stored = Draft::stored(a);
        let changed = props.drafts.contains_key(&a.full_name);
        // Indented under the accounts listed above it, named after the nearest one.
        let listed: Vec<&str> = parents(&a.full_name)
            .filter(|p| names.contains(p))
            .collect();
        let depth = listed.len();
        let shown = listed
            .first()
            .map_or(a.full_name.as_str(), |p| &a.full_name[p.len() + 1..]);
        let selected = draft.target.clone().unwrap_or_default();
        let onselect = {
            let (account, stored, draft) = (a.full_name.clone(), stored.clone(), draft.clone());
            props.onedit.reform(move |e: Event| {
                let v = event_value(&e);
                let target = (!v.is_empty()).then_some(v);
                (
                    account.clone(),
                    stored.clone(),
                    Draft {
                        target,
                        ..draft.clone()
                    },
                )
            })
        };
        let onreason = {
            let (account, stored, draft) = (a.full_name.clone(), stored.clone(), draft.clone());
            props.onedit.reform(move |e: InputEvent| {
                (
                    account.clone(),
                    stored.clone(),
                    Draft {
                        reason: event_value(&e),
                        ..draft.clone()
                    },
                )
            })
        };
        let amount = a.last_month_amount;
        let invalid = draft.needs_reason();
        html! {
            <tr key={a.full_name.clone()} class={classes!(changed.then_some("changed"), eff.target.is_none().then_some("unmapped"))}
                data-account={a.full_name.clone()}>
                <th scope="row" class="account" title={a.full_name.clone()}>
                    <span class="account-name" style={format!("padding-left: {}px", depth * 18)}>{ shown }</span>
                </th>
                <td class={classes!("num", amount.is_some_and(|v| v < 0.0).then_some("neg"))}>
                    { amount.map_or_else(|| "—".to_string(), money) }
                </td>
                <td class="mapping">
                    <TargetSelect account={a.full_name.clone()} value={selected} follow={follow_label(&r.follows(a))}
                        groups={groups.clone()} disabled={locked} onchange={onselect} />
                    if draft.ignored() {
                        <input class={classes!("reason", invalid.then_some("invalid"))} data-account={a.full_name.clone()}
                            placeholder="Why is it ignored? (required)" aria-label={format!("Why {} is ignored", a.full_name)}
                            aria-invalid={invalid.to_string()} required=true value={draft.reason.clone()} oninput={onreason}
                            disabled={locked} />
                    }
                </td>
                <td class="by">{ by_badge(eff.by) }</td>
            </tr>
        }
    };
    // Parents before their sub-accounts: by the parts of the name, not the raw string
    // ("Payroll:Wages" sorts before "Payroll Taxes").
    let mut sorted: Vec<&QuickBooksAccount> = data.accounts.iter().collect();
    sorted.sort_by(|a, b| a.full_name.split(':').cmp(b.full_name.split(':')));
    html! {
        <div class="table-scroll">
            <table class="table qb-accounts" id="qb-accounts">
                <thead><tr>
                    <th scope="col">{ "Account" }</th>
                    <th scope="col" class="num">{ last_month.as_deref().map_or_else(|| "Last month".to_string(), period_label) }</th>
                    <th scope="col">{ "Goes to" }</th>
                    <th scope="col">{ "Why" }</th>
                </tr></thead>
                { for Section::ALL.iter().filter_map(|s| {
                    let rows: Vec<&QuickBooksAccount> = sorted.iter().copied().filter(|a| a.section == *s).collect();
                    (!rows.is_empty()).then(|| html! {
                        <tbody data-section={s.as_str()}>
                            <tr class="section-row"><th colspan="4" scope="rowgroup">{ section_label(*s) }</th></tr>
                            { for rows.into_iter().map(&row) }
                        </tbody>
                    })
                }) }
            </table>
        </div>
    }
}
