//! A chart drawn by ECharts through charming's wasm renderer. ECharts itself is a
//! same-origin script (`echarts.min.js`, copied into dist/ by Trunk).
use charming::theme::Theme;
use charming::{Chart, WasmRenderer};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use yew::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = echarts, js_name = dispose)]
    fn echarts_dispose(el: &web_sys::Element);

    #[wasm_bindgen(js_namespace = echarts, js_name = getInstanceByDom)]
    fn echarts_instance(el: &web_sys::Element) -> Option<charming::Echarts>;
}

/// Fits the chart in element `id` to its container's new size.
fn resize(id: &str) {
    if let Some(chart) = element(id).and_then(|el| echarts_instance(&el)) {
        chart.resize(JsValue::UNDEFINED);
    }
}

/// A chart definition; compared by identity so a new definition redraws.
#[derive(Clone)]
pub struct ChartSpec(pub Rc<Chart>);

impl PartialEq for ChartSpec {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl ChartSpec {
    pub fn new(chart: Chart) -> Self {
        ChartSpec(Rc::new(chart))
    }
}

fn echarts_loaded() -> bool {
    web_sys::window().is_some_and(|w| js_sys::Reflect::has(&w, &"echarts".into()).unwrap_or(false))
}

fn element(id: &str) -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

#[derive(Properties, PartialEq)]
pub struct ChartProps {
    pub id: AttrValue,
    pub spec: ChartSpec,
    /// What the chart shows, for screen readers.
    pub label: AttrValue,
    #[prop_or(320)]
    pub height: u32,
}

#[function_component(EChart)]
pub fn echart(props: &ChartProps) -> Html {
    let dark = use_context::<crate::Session>().is_some_and(|s| s.dark);
    let loaded = echarts_loaded();
    {
        let id = props.id.clone();
        let height = props.height;
        use_effect_with((props.spec.clone(), dark), move |(spec, dark)| {
            if echarts_loaded() {
                if let Some(el) = element(&id) {
                    echarts_dispose(&el);
                }
                let theme = if *dark { Theme::Dark } else { Theme::Default };
                let _ = WasmRenderer::new_opt(None, Some(height))
                    .theme(theme)
                    .render(&id, &spec.0);
            }
            // Follow the window's size (charts don't on their own).
            let id_for_resize = id.clone();
            let on_resize = Closure::<dyn Fn()>::new(move || resize(&id_for_resize));
            let window = web_sys::window();
            if let Some(w) = &window {
                let _ = w
                    .add_event_listener_with_callback("resize", on_resize.as_ref().unchecked_ref());
            }
            move || {
                if let Some(w) = &window {
                    let _ = w.remove_event_listener_with_callback(
                        "resize",
                        on_resize.as_ref().unchecked_ref(),
                    );
                }
                if echarts_loaded() {
                    if let Some(el) = element(&id) {
                        echarts_dispose(&el);
                    }
                }
            }
        });
    }
    html! {
        <div class="chart-wrap">
            <div id={props.id.clone()} class="chart" role="img" aria-label={props.label.clone()}
                 style={format!("height:{}px", props.height)}></div>
            if !loaded { <div class="muted">{ "Charts are unavailable: echarts.min.js did not load." }</div> }
        </div>
    }
}
