//! The login page: Microsoft sign-in, and why the last attempt failed (`?error=`).
use crate::api;
use yew::prelude::*;

fn error_message(code: &str) -> String {
    match code {
        "access_denied" | "not_authorized" | "forbidden" => {
            "Access denied — your account is not authorized to use this dashboard.".into()
        }
        "session_expired" => "Your session has ended. Please sign in again.".into(),
        "invalid_state" | "state_mismatch" => {
            "The sign-in took too long or was started twice. Please try again.".into()
        }
        other => {
            format!("Sign-in failed ({other}). Please try again or contact your administrator.")
        }
    }
}

fn query_error() -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    params.get("error").filter(|e| !e.is_empty())
}

#[function_component(Login)]
pub fn login() -> Html {
    let error = use_memo((), |_| query_error());
    let methods = crate::components::fetch::use_fetch((), |_| crate::api::sign_in_methods());
    let (microsoft, dev_users) = match &*methods {
        crate::components::fetch::Fetch::Done(m) => (m.microsoft, m.dev_login_users.clone()),
        _ => (true, Vec::new()),
    };
    html! {
        <main class="login-page" id="main">
            <div class="login-card">
                <div class="login-brand">
                    <span class="logo big" aria-hidden="true">{ "Q" }</span>
                    <div>
                        <h1>{ "QBR Dashboard" }</h1>
                        <div class="muted">{ "Enersystems, LLC" }</div>
                    </div>
                </div>
                <p class="login-lead">{ "Quarterly Business Review: SmartNumbers, trends and the monthly business review in one place." }</p>
                if let Some(code) = &*error {
                    <div class="error-box" role="alert" id="login-error">{ error_message(code) }</div>
                }
                <a class="btn primary ms-btn" href={api::url("/api/auth/microsoft/login")} id="ms-login">
                    <span class="ms-logo" aria-hidden="true">
                        <span style="background:#f25022"></span><span style="background:#7fba00"></span>
                        <span style="background:#00a4ef"></span><span style="background:#ffb900"></span>
                    </span>
                    { "Sign in with Microsoft" }
                </a>
                if !microsoft {
                    <p class="muted small" id="ms-not-configured">{ "Microsoft sign-in is not configured on this server yet." }</p>
                }
                { for dev_users.iter().map(|email| html! {
                    <a class="btn dev-btn" id="dev-login" href={api::url(&format!("/api/auth/dev/login?email={}", String::from(js_sys::encode_uri_component(email))))}>
                        { format!("Sign in as {email} (development)") }
                    </a>
                }) }
                <p class="muted small">{ "For authorized users only. Access is logged." }</p>
            </div>
        </main>
    }
}
