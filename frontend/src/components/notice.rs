//! The message a page shows after an action: done (green) or not done (red).
use yew::prelude::*;

/// What happened to the last action, in words for people.
#[derive(Clone, PartialEq, Debug)]
pub struct Notice {
    pub ok: bool,
    pub text: String,
}

impl Notice {
    pub fn ok(text: impl Into<String>) -> Notice {
        Notice {
            ok: true,
            text: text.into(),
        }
    }

    pub fn bad(text: impl Into<String>) -> Notice {
        Notice {
            ok: false,
            text: text.into(),
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct ToastProps {
    pub notice: Notice,
    /// For tests and links to find this page's notice.
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

/// A notice as a coloured line, read out by screen readers when it changes.
#[function_component(Toast)]
pub fn toast(props: &ToastProps) -> Html {
    let n = &props.notice;
    html! {
        <div class={classes!("toast", if n.ok { "ok" } else { "bad" })} role="status" aria-live="polite" id={props.id.clone()}>
            { &n.text }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct RoleNoteProps {
    /// What the role can't do here ("enter data").
    pub what: AttrValue,
}

/// Says why a page is read only: the user's role in the organization shown.
#[function_component(RoleNote)]
pub fn role_note(props: &RoleNoteProps) -> Html {
    let Some(session) = use_context::<crate::Session>() else {
        return html! {};
    };
    html! {
        <div class="note" id="role-note" role="note">
            { format!("Read only: your role in {} ({}) can't {}.", session.org.name, session.org.role, props.what) }
        </div>
    }
}
