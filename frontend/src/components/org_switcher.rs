//! The organization switcher of the top bar (for users of more than one): the same
//! page in the organization picked — the URL's slug changes, and the layout loads that
//! organization's data.
use crate::components::choice::Choice;
use crate::Route;
use qbr_shared::api::OrganizationRole;
use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Properties, PartialEq)]
pub struct OrgSwitcherProps {
    pub organizations: Vec<OrganizationRole>,
    pub current: OrganizationRole,
}

#[function_component(OrgSwitcher)]
pub fn org_switcher(props: &OrgSwitcherProps) -> Html {
    let route = use_route::<Route>();
    let navigator = use_navigator();
    let onchange = Callback::from(move |slug: String| {
        if let Some(n) = &navigator {
            let here = route.clone().unwrap_or(Route::NotFound);
            n.push(&here.in_org(&slug));
        }
    });
    let options: Vec<(AttrValue, AttrValue)> = props
        .organizations
        .iter()
        .map(|o| {
            (
                AttrValue::from(o.slug.clone()),
                AttrValue::from(o.name.clone()),
            )
        })
        .collect();
    html! {
        <Choice id="org-switcher" class="org-switcher" label="Organization" {options}
            value={props.current.slug.clone()} {onchange} />
    }
}
