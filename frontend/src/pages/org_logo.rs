//! Settings › Organization › Logo for client reports: the logo as the server has it,
//! and, for admins, a file input that uploads a PNG or JPEG at once and a Remove
//! button. The server reads every upload and says what is wrong with a refused one.
use crate::api;
use crate::components::notice::{Notice, Toast};
use yew::prelude::*;

/// Whether the preview loaded: unknown until the browser tried.
#[derive(Clone, Copy, PartialEq)]
enum Shown {
    Loading,
    Logo,
    None,
}

#[derive(Properties, PartialEq)]
pub struct LogoProps {
    pub editable: bool,
}

/// A new address for the preview (after a change, and at each visit).
fn now() -> f64 {
    js_sys::Date::now()
}

#[function_component(OrgLogo)]
pub fn org_logo(props: &LogoProps) -> Html {
    let version = use_state(now);
    let shown = use_state(|| Shown::Loading);
    let busy = use_state(|| false);
    let notice = use_state(|| None::<Notice>);
    // A change: the preview is asked for again, and the notice says what happened.
    let changed = {
        let (version, shown, busy, notice) =
            (version.clone(), shown.clone(), busy.clone(), notice.clone());
        Callback::from(move |n: Notice| {
            if n.ok {
                shown.set(Shown::Loading);
                version.set(now());
            }
            busy.set(false);
            notice.set(Some(n));
        })
    };
    let on_file = {
        let (busy, changed) = (busy.clone(), changed.clone());
        Callback::from(move |e: Event| {
            let input = super::input_of(&e);
            let Some(file) = input
                .as_ref()
                .and_then(|i| i.files())
                .and_then(|l| l.get(0))
            else {
                return;
            };
            // The same file chosen again is a change too.
            if let Some(i) = &input {
                i.set_value("");
            }
            busy.set(true);
            let changed = changed.clone();
            wasm_bindgen_futures::spawn_local(async move {
                changed.emit(match api::upload_logo(&file).await {
                    Ok(l) => Notice::ok(format!(
                        "Logo uploaded ({}×{} pixels); client reports show it.",
                        l.width, l.height
                    )),
                    Err(e) => Notice::bad(format!("Not uploaded: {}", e.message)),
                });
            });
        })
    };
    let on_remove = {
        let (busy, changed) = (busy.clone(), changed.clone());
        Callback::from(move |_: MouseEvent| {
            busy.set(true);
            let changed = changed.clone();
            wasm_bindgen_futures::spawn_local(async move {
                changed.emit(match api::remove_logo().await {
                    Ok(_) => Notice::ok("Logo removed; client reports show the name only."),
                    Err(e) => Notice::bad(format!("Not removed: {}", e.message)),
                });
            });
        })
    };
    let on_load = {
        let shown = shown.clone();
        Callback::from(move |_: Event| shown.set(Shown::Logo))
    };
    let on_error = {
        let shown = shown.clone();
        Callback::from(move |_: Event| shown.set(Shown::None))
    };
    let preview_class = classes!("logo-preview", (*shown != Shown::Logo).then_some("hidden"));
    html! {
        <div class="panel logo-settings" id="logo-settings">
            <h2>{ "Logo for client reports" }</h2>
            <p class="muted small">{ "Drawn top right on the first page of every client's QBR report. A PNG or JPEG, at most 512 KiB and 4000×4000 pixels; a transparent PNG about 4:1 looks best." }</p>
            if let Some(n) = &*notice {
                <Toast notice={n.clone()} id="logo-notice" />
            }
            <div class="logo-row">
                <div class="logo-frame">
                    <img id="logo-preview" class={preview_class} alt="The organization's logo"
                        src={api::logo_url(*version)} onload={on_load} onerror={on_error} />
                    if *shown == Shown::None {
                        <span class="muted small" id="logo-none">{ "No logo: client reports show the organization's name only." }</span>
                    }
                </div>
                if props.editable {
                    <div class="logo-actions">
                        <label class="btn" for="logo-file">
                            { if *shown == Shown::Logo { "Replace logo…" } else { "Upload logo…" } }
                        </label>
                        <input type="file" id="logo-file" class="sr-only" accept="image/png,image/jpeg"
                            onchange={on_file} disabled={*busy} />
                        if *shown == Shown::Logo {
                            <button type="button" class="btn danger" id="logo-remove" onclick={on_remove} disabled={*busy}>
                                { "Remove" }
                            </button>
                        }
                    </div>
                }
            </div>
        </div>
    }
}
