//! Light/dark theme: follows `prefers-color-scheme` until the user picks one with the
//! toggle, which is remembered in localStorage.
const KEY: &str = "qbr-theme";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Whether the dark theme is active (remembered choice, else the system's preference).
pub fn is_dark() -> bool {
    if let Some(saved) = storage().and_then(|s| s.get_item(KEY).ok().flatten()) {
        return saved == "dark";
    }
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// Applies a theme to the page (`data-theme` on `<html>`).
pub fn apply(dark: bool) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-theme", if dark { "dark" } else { "light" });
    }
}

/// Switches theme, remembers the choice and returns the new state.
pub fn toggle() -> bool {
    let dark = !is_dark();
    if let Some(s) = storage() {
        let _ = s.set_item(KEY, if dark { "dark" } else { "light" });
    }
    apply(dark);
    dark
}
