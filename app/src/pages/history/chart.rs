//! The history chart: items pushed (green) and failed (red) per hour or
//! day, as server-rendered SVG with a y axis, time labels and a legend.

use leptos::prelude::*;

use crate::api::history::ChartBar;

/// Plot area: left margin for the y axis's figures, bottom for the times.
const LEFT: f64 = 44.0;
const TOP: f64 = 8.0;
const PLOT_HEIGHT: f64 = 120.0;
const BOTTOM: f64 = 22.0;
const BAR: f64 = 22.0;
/// At most this many time labels, so they never overlap.
const MAX_LABELS: usize = 8;

#[component]
pub fn HistoryChart(bars: Vec<ChartBar>, caption: String) -> impl IntoView {
    let top = nice_top(bars.iter().map(|b| b.pushed + b.failed).max().unwrap_or(0));
    let width = LEFT + bars.len().max(1) as f64 * BAR + 8.0;
    let height = TOP + PLOT_HEIGHT + BOTTOM;
    let y = move |v: i64| TOP + PLOT_HEIGHT - PLOT_HEIGHT * v as f64 / top as f64;
    let every = bars.len().div_ceil(MAX_LABELS).max(1);
    let (pushed, failed) = bars.iter().fold((0, 0), |(p, f), b| (p + b.pushed, f + b.failed));
    let ticks = [0, top / 2, top]
        .into_iter()
        .map(|v| {
            view! {
                <g class="tick">
                    <line x1=LEFT - 4.0 x2=width - 8.0 y1=y(v) y2=y(v) class="grid"/>
                    <text x=LEFT - 8.0 y=y(v) + 4.0 text-anchor="end">{v}</text>
                </g>
            }
        })
        .collect_view();
    let columns = bars
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let x = LEFT + i as f64 * BAR + 2.0;
            let (ok_top, bad_top) = (y(b.pushed), y(b.pushed + b.failed));
            let label = format!("{}: {} pushed, {} failed", b.label, b.pushed, b.failed);
            let tick = (i % every == 0).then(|| {
                view! { <text x=x + (BAR - 4.0) / 2.0 y=TOP + PLOT_HEIGHT + 16.0 text-anchor="middle">{b.label.clone()}</text> }
            });
            view! {
                <g>
                    <title>{label}</title>
                    <rect x=x y=ok_top width=BAR - 4.0 height=TOP + PLOT_HEIGHT - ok_top class="bar-ok"/>
                    <rect x=x y=bad_top width=BAR - 4.0 height=ok_top - bad_top class="bar-bad"/>
                    {tick}
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="card chart" id="history-chart">
            <figcaption class="muted">{caption}</figcaption>
            // Drawn at its own size, so its figures stay readable; on a
            // narrow screen it scrolls inside its card.
            <div class="chart-scroll">
            <svg width=width height=height viewBox=format!("0 0 {width} {height}") role="img" aria-label="Items pushed and failed over time">
                {ticks}
                <line x1=LEFT y1=TOP x2=LEFT y2=TOP + PLOT_HEIGHT class="axis"/>
                <line x1=LEFT y1=TOP + PLOT_HEIGHT x2=width - 8.0 y2=TOP + PLOT_HEIGHT class="axis"/>
                {columns}
            </svg>
            </div>
            <ul class="legend" id="chart-legend">
                <li><span class="swatch bar-ok"></span>{format!("Pushed ({pushed})")}</li>
                <li><span class="swatch bar-bad"></span>{format!("Failed ({failed})")}</li>
            </ul>
        </figure>
    }
}

/// A round top for the y axis at or above `max`: 1, 2, 5, 10, 20, 50, …
fn nice_top(max: i64) -> i64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if step * m >= max.max(1) {
                // At least 2, so the middle tick is above 0.
                return if step * m == 1 { 2 } else { step * m };
            }
        }
        step *= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_y_axis_tops_out_at_a_round_figure() {
        assert_eq!(nice_top(0), 2);
        assert_eq!(nice_top(1), 2);
        assert_eq!(nice_top(3), 5);
        assert_eq!(nice_top(237), 500);
        assert_eq!(nice_top(1000), 1000);
    }
}
