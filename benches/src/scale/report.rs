//! The report: `scale.json`, the summary on stderr, `scale.png`, the growth verdicts, the
//! goal checks and the recommended session limit.

use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;
use serde::Serialize;

use crate::memory::{Attribution, MemoryRun, MonitorCost};
use crate::sys::Machine;
use crate::tcp::TcpRun;

/// Everything one run measured.
#[derive(Debug, Serialize)]
pub struct ScaleReport {
    /// Format of this file.
    pub schema: &'static str,
    /// When the run ended.
    pub generated_at: String,
    /// The command line.
    pub command: Vec<String>,
    /// `git rev-parse HEAD` of the checkout, when available.
    pub git_commit: Option<String>,
    /// Where the figures come from.
    pub machine: Machine,
    /// Load average when the run ended (other work on the machine skews tail latency).
    pub loadavg_at_end: f64,
    /// Seconds the whole run took.
    pub elapsed_secs: f64,
    /// Guard versus watcher monitors.
    pub monitor_cost: Option<MonitorCost>,
    /// Where one in-memory session's heap goes.
    pub attribution: Option<Attribution>,
    /// In-memory ramp.
    pub in_memory: Option<MemoryRun>,
    /// One server process, as many connections as it can hold.
    pub tcp_single: Option<TcpRun>,
    /// The same with the real `erlmcp serve --tcp` binary (RSS only).
    pub tcp_single_erlmcp: Option<TcpRun>,
    /// Several server processes, ramped to the maximum.
    pub tcp_multi: Option<TcpRun>,
    /// Is memory growth linear?
    pub growth: Vec<Growth>,
    /// The goal figures, checked.
    pub goals: Goals,
    /// The recommended session limits derived from the figures.
    pub recommendation: Recommendation,
}

/// How one series' memory grows with sessions.
#[derive(Debug, Clone, Serialize)]
pub struct Growth {
    /// Which series.
    pub series: String,
    /// `ln(B₂/B₁) / ln(N₂/N₁)` between the first step of at least 10,000 sessions and the
    /// last: 1 is linear, below 1 sub-linear, above 1 super-linear.
    pub exponent: f64,
    /// Bytes per session at each step.
    pub per_session: Vec<(usize, f64)>,
    /// `linear`, `sub-linear` or `super-linear` (±5 % on the exponent).
    pub verdict: &'static str,
}

/// Computes [`Growth`] for `(sessions, total bytes)` points.
pub fn growth(series: &str, points: &[(usize, f64)]) -> Option<Growth> {
    let usable: Vec<&(usize, f64)> = points
        .iter()
        .filter(|(n, b)| *n >= 10_000 && *b > 0.0)
        .collect();
    let (first, last) = (usable.first()?, usable.last()?);
    if first.0 == last.0 {
        return None;
    }
    let exponent = (last.1 / first.1).ln() / (last.0 as f64 / first.0 as f64).ln();
    Some(Growth {
        series: series.to_owned(),
        exponent,
        per_session: points
            .iter()
            .map(|&(n, b)| (n, b / n.max(1) as f64))
            .collect(),
        verdict: if exponent < 0.95 {
            "sub-linear"
        } else if exponent > 1.05 {
            "super-linear"
        } else {
            "linear"
        },
    })
}

/// The goals for this machine, checked against the figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Goals {
    /// Most sessions held in one process, in memory.
    pub in_memory_sessions_held: usize,
    /// Most TCP sessions held (over all server processes of the multi-process ramp when
    /// there was one).
    pub tcp_sessions_held: usize,
    /// Most TCP sessions one server process held.
    pub tcp_sessions_one_process: usize,
    /// 100,000 sessions held (in memory and over TCP).
    pub held_100k: bool,
    /// Worst registry lookup p99 under churn over every step, in nanoseconds.
    pub worst_lookup_p99_ns: u64,
    /// Worst registry lookup p99.9 under churn over every step, in nanoseconds.
    pub worst_lookup_p999_ns: u64,
    /// Worst lookup p99 with the churn paced (in memory), in nanoseconds.
    pub worst_lookup_p99_paced_ns: u64,
    /// Lookup p99 under 1 ms at every step.
    pub lookup_p99_under_1ms: bool,
    /// Lookup p99 under 1 µs at every step (the aim).
    pub lookup_p99_under_1us: bool,
    /// Server-side heap per idle in-memory session at the largest step.
    pub in_memory_server_bytes_per_session: f64,
    /// Server RSS per idle TCP session at the largest step (of the multi-process ramp when
    /// there was one).
    pub tcp_server_rss_per_session: f64,
    /// Both under 8 KiB.
    pub under_8kib_per_session: bool,
}

/// Session limits derived from the figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Recommendation {
    /// Sessions per server process on TCP: 90 % of what one process held (the
    /// open-files limit binds first).
    pub tcp_sessions_per_process: usize,
    /// Server memory per TCP session used for the memory bound (RSS + kernel buffers).
    pub tcp_bytes_per_session: f64,
    /// Sessions per node that half of its memory allows at that cost.
    pub memory_bound_sessions: usize,
    /// Sessions per node: the memory bound, capped at what was actually measured.
    pub sessions_per_node: usize,
    /// Server processes per node needed for `sessions_per_node` on TCP.
    pub processes_per_node: usize,
    /// Why.
    pub basis: String,
}

/// Derives the goals and the recommendation.
pub fn assess(report: &mut ScaleReport) {
    let mut goals = Goals::default();
    let mut p99s = Vec::new();
    let mut p999s = Vec::new();
    if let Some(run) = &report.in_memory {
        goals.in_memory_sessions_held = run
            .steps
            .iter()
            .filter(|s| s.answered_ping == s.sessions)
            .map(|s| s.sessions)
            .max()
            .unwrap_or(0);
        for s in &run.steps {
            p99s.push(s.lookup.lookup.p99_ns);
            p999s.push(s.lookup.lookup.p999_ns);
            goals.worst_lookup_p99_paced_ns = goals
                .worst_lookup_p99_paced_ns
                .max(s.lookup_paced.lookup.p99_ns);
        }
        if let Some(last) = run.steps.last() {
            goals.in_memory_server_bytes_per_session = last.server_heap_per_session;
        }
    }
    for run in [&report.tcp_single, &report.tcp_multi]
        .into_iter()
        .flatten()
    {
        for s in &run.steps {
            if let Some(l) = &s.lookup {
                p99s.push(l.lookup.p99_ns);
                p999s.push(l.lookup.p999_ns);
            }
        }
    }
    if let Some(run) = &report.tcp_single {
        goals.tcp_sessions_one_process = run.steps.iter().map(|s| s.sessions).max().unwrap_or(0);
    }
    // The multi-process ramp when there was one (a quick run has only the single process).
    let tcp_ramp = report.tcp_multi.as_ref().or(report.tcp_single.as_ref());
    if let Some(run) = tcp_ramp {
        goals.tcp_sessions_held = run
            .steps
            .iter()
            .filter(|s| s.answered_ping == s.sessions)
            .map(|s| s.sessions)
            .max()
            .unwrap_or(0);
        if let Some(last) = run.steps.last() {
            goals.tcp_server_rss_per_session = last.rss_per_session;
        }
    }
    goals.held_100k =
        goals.in_memory_sessions_held >= 100_000 && goals.tcp_sessions_held >= 100_000;
    goals.worst_lookup_p99_ns = p99s.iter().copied().max().unwrap_or(0);
    goals.worst_lookup_p999_ns = p999s.iter().copied().max().unwrap_or(0);
    goals.lookup_p99_under_1ms = !p99s.is_empty() && goals.worst_lookup_p99_ns < 1_000_000;
    goals.lookup_p99_under_1us = !p99s.is_empty() && goals.worst_lookup_p99_ns < 1_000;
    goals.under_8kib_per_session = goals.in_memory_server_bytes_per_session < 8192.0
        && goals.tcp_server_rss_per_session > 0.0
        && goals.tcp_server_rss_per_session < 8192.0;

    let mut rec = Recommendation {
        tcp_sessions_per_process: goals.tcp_sessions_one_process * 9 / 10,
        ..Recommendation::default()
    };
    let tcp_last = tcp_ramp.and_then(|r| r.steps.last());
    if let Some(last) = tcp_last {
        rec.tcp_bytes_per_session = last.rss_per_session + last.kernel_bytes_per_session;
    }
    if rec.tcp_bytes_per_session > 0.0 {
        let half = report.machine.mem_total_bytes as f64 / 2.0;
        rec.memory_bound_sessions = (half / rec.tcp_bytes_per_session) as usize;
        let measured = goals.tcp_sessions_held.max(goals.in_memory_sessions_held);
        rec.sessions_per_node = rec.memory_bound_sessions.min(measured);
        rec.processes_per_node = rec
            .sessions_per_node
            .div_ceil(rec.tcp_sessions_per_process.max(1));
        rec.basis = format!(
            "per process: 90 % of the {} TCP sessions one process held (open-files limit {}); \
             per node: half of {:.1} GiB at {:.0} B per TCP session (server RSS + kernel \
             buffers) allows {}, capped at the {} sessions actually held and measured",
            goals.tcp_sessions_one_process,
            report.machine.nofile.1,
            report.machine.mem_total_bytes as f64 / f64::from(1u32 << 30),
            rec.tcp_bytes_per_session,
            rec.memory_bound_sessions,
            measured
        );
    }
    report.goals = goals;
    report.recommendation = rec;
}

/// Prints the summary table to stderr.
pub fn print_summary(report: &ScaleReport) {
    eprintln!();
    eprintln!(
        "{:<16} {:>8} {:>12} {:>12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "run",
        "sessions",
        "rss/sess B",
        "server B",
        "lookup p50",
        "p99 ns",
        "p99.9 ns",
        "paced p99",
        "probe p99",
        "ping p99"
    );
    if let Some(run) = &report.in_memory {
        for s in &run.steps {
            eprintln!(
                "{:<16} {:>8} {:>12.0} {:>12.0} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8.0}µs",
                "in-memory",
                s.sessions,
                s.rss_per_session,
                s.server_heap_per_session,
                s.lookup.lookup.p50_ns,
                s.lookup.lookup.p99_ns,
                s.lookup.lookup.p999_ns,
                s.lookup_paced.lookup.p99_ns,
                s.lookup.probe.p99_ns,
                s.ping.p99_ns as f64 / 1000.0
            );
        }
    }
    for (label, run) in [
        ("tcp-1-process", &report.tcp_single),
        ("tcp-erlmcp-bin", &report.tcp_single_erlmcp),
        ("tcp-n-process", &report.tcp_multi),
    ] {
        for s in run.iter().flat_map(|r| &r.steps) {
            let l = s.lookup.as_ref().map(|l| l.lookup);
            eprintln!(
                "{:<16} {:>8} {:>12.0} {:>12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8.0}µs",
                label,
                s.sessions,
                s.rss_per_session,
                s.heap_per_session
                    .map_or("-".to_owned(), |h| format!("{h:.0}")),
                l.map_or("-".to_owned(), |l| l.p50_ns.to_string()),
                l.map_or("-".to_owned(), |l| l.p99_ns.to_string()),
                l.map_or("-".to_owned(), |l| l.p999_ns.to_string()),
                "-",
                s.lookup
                    .as_ref()
                    .map_or("-".to_owned(), |l| l.probe.p99_ns.to_string()),
                s.ping.p99_ns as f64 / 1000.0
            );
        }
    }
    let g = &report.goals;
    eprintln!(
        "goals: 100K held {} | lookup p99 worst {} ns (<1 µs {}; paced churn {} ns) | server bytes/session in-memory {:.0}, tcp {:.0} (<8 KiB {})",
        g.held_100k,
        g.worst_lookup_p99_ns,
        g.lookup_p99_under_1us,
        g.worst_lookup_p99_paced_ns,
        g.in_memory_server_bytes_per_session,
        g.tcp_server_rss_per_session,
        g.under_8kib_per_session
    );
    let r = &report.recommendation;
    eprintln!(
        "recommended: {} sessions per TCP server process, {} per node ({} processes)",
        r.tcp_sessions_per_process, r.sessions_per_node, r.processes_per_node
    );
}

/// Text for the graph, rendered with `ab_glyph` from a TrueType font found on the
/// machine (plotters' own text features would change how criterion draws its plots in
/// this package, so plotters draws lines only and the text is put in pixel by pixel).
struct Text {
    font: Option<ab_glyph::FontArc>,
}

#[derive(Clone, Copy)]
enum Anchor {
    Left,
    Center,
    Right,
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

impl Text {
    /// Loads the first font found (`ERLMCP_PLOT_FONT`, then common DejaVu/Liberation paths).
    fn load() -> Self {
        let mut candidates: Vec<String> = std::env::var("ERLMCP_PLOT_FONT").into_iter().collect();
        candidates.extend(
            [
                "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/TTF/DejaVuSans.ttf",
                "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
                "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
                "/Library/Fonts/Arial.ttf",
            ]
            .map(str::to_owned),
        );
        let font = candidates.iter().find_map(|path| {
            let bytes = std::fs::read(path).ok()?;
            ab_glyph::FontArc::try_from_vec(bytes).ok()
        });
        Text { font }
    }

    /// Draws `text` with its top at `y`, anchored at `x` (backend pixel coordinates, as
    /// `ChartContext::backend_coord` gives them).
    fn draw(
        &self,
        area: &Area<'_>,
        (x, y): (i32, i32),
        text: &str,
        px: f32,
        color: RGBColor,
        anchor: Anchor,
    ) {
        use ab_glyph::{Font, ScaleFont};
        let Some(font) = &self.font else { return };
        let (bx, by) = area.get_base_pixel();
        let (x, y) = (x - bx, y - by);
        let scaled = font.as_scaled(px);
        let mut caret = 0.0f32;
        let mut last = None;
        let mut glyphs = Vec::new();
        for ch in text.chars() {
            let id = scaled.glyph_id(ch);
            if let Some(prev) = last {
                caret += scaled.kern(prev, id);
            }
            glyphs.push(id.with_scale_and_position(px, ab_glyph::point(caret, scaled.ascent())));
            caret += scaled.h_advance(id);
            last = Some(id);
        }
        let x0 = match anchor {
            Anchor::Left => x,
            Anchor::Center => x - (caret / 2.0) as i32,
            Anchor::Right => x - caret as i32,
        };
        for glyph in glyphs {
            let Some(outlined) = font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outlined.px_bounds();
            outlined.draw(|gx, gy, coverage| {
                if coverage < 0.08 {
                    return;
                }
                let blend = |c: u8| (255.0 - coverage.min(1.0) * (255.0 - f32::from(c))) as u8;
                let pixel = RGBColor(blend(color.0), blend(color.1), blend(color.2));
                let _ = area.draw_pixel(
                    (
                        x0 + bounds.min.x as i32 + gx as i32,
                        y + bounds.min.y as i32 + gy as i32,
                    ),
                    &pixel,
                );
            });
        }
    }
}

type Series = (String, RGBColor, Vec<(f64, f64)>);

/// A "nice" tick step for a range of `max`.
fn tick_step(max: f64) -> f64 {
    let rough = (max / 5.0).max(1e-9);
    let magnitude = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= rough)
        .unwrap_or(10.0 * magnitude)
}

/// A tick's label with as many decimals as the step needs (2.5 → "7.5", not "8").
fn tick_label(y: f64, step: f64) -> String {
    let mut decimals = 0usize;
    while decimals < 3 {
        let scaled = step * 10f64.powi(decimals as i32);
        if (scaled - scaled.round()).abs() < 1e-6 {
            break;
        }
        decimals += 1;
    }
    format!("{y:.decimals$}")
}

fn sessions_label(x: f64) -> String {
    if x >= 1000.0 {
        format!("{:.0}K", x / 1000.0)
    } else {
        format!("{x:.0}")
    }
}

fn panel(
    area: &Area<'_>,
    text: &Text,
    title: &str,
    series: &[Series],
    goal: Option<(f64, &str)>,
) -> anyhow::Result<()> {
    let err = |e: &dyn std::fmt::Debug| anyhow::anyhow!("{e:?}");
    let points: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|(_, _, p)| p.iter().copied())
        .collect();
    let x_min = points
        .iter()
        .map(|p| p.0)
        .fold(f64::MAX, f64::min)
        .min(1000.0)
        * 0.7;
    let x_max = points.iter().map(|p| p.0).fold(1000.0, f64::max) * 1.4;
    let mut y_max = points.iter().map(|p| p.1).fold(0.0, f64::max);
    if let Some((g, _)) = goal {
        y_max = y_max.max(g);
    }
    let y_max = (y_max * 1.25).max(1.0);
    let black = RGBColor(30, 30, 30);
    let grey = RGBColor(215, 215, 215);
    let (w, _) = area.dim_in_pixel();
    let (bx, by) = area.get_base_pixel();
    text.draw(
        area,
        (bx + w as i32 / 2, by + 8),
        title,
        19.0,
        black,
        Anchor::Center,
    );
    let mut chart = ChartBuilder::on(area)
        .margin_top(40)
        .margin_right(16)
        .x_label_area_size(48)
        .y_label_area_size(62)
        .build_cartesian_2d((x_min..x_max).log_scale(), 0f64..y_max)
        .map_err(|e| err(&e))?;
    // Grid and tick labels, drawn here (see `Text`).
    let step = tick_step(y_max);
    let mut y = 0.0;
    while y <= y_max {
        chart
            .draw_series(LineSeries::new(vec![(x_min, y), (x_max, y)], grey))
            .map_err(|e| err(&e))?;
        let (px, py) = chart.backend_coord(&(x_min, y));
        let label = tick_label(y, step);
        text.draw(area, (px - 6, py - 7), &label, 13.0, black, Anchor::Right);
        y += step;
    }
    let mut xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let mut last_px: Option<i32> = None;
    for &x in &xs {
        let (px, py) = chart.backend_coord(&(x, 0.0));
        if last_px.is_some_and(|last| px - last < 34) {
            continue;
        }
        last_px = Some(px);
        chart
            .draw_series(LineSeries::new(vec![(x, 0.0), (x, y_max)], grey))
            .map_err(|e| err(&e))?;
        text.draw(
            area,
            (px, py + 6),
            &sessions_label(x),
            13.0,
            black,
            Anchor::Center,
        );
    }
    // Axes (plotters' mesh would draw its own text).
    chart
        .draw_series(LineSeries::new(
            vec![(x_min, y_max), (x_min, 0.0), (x_max, 0.0)],
            black.stroke_width(1),
        ))
        .map_err(|e| err(&e))?;
    let (cx, cy) = chart.backend_coord(&(x_min * 1.0001, 0.0));
    let (ex, _) = chart.backend_coord(&(x_max, 0.0));
    text.draw(
        area,
        ((cx + ex) / 2, cy + 26),
        "sessions (log scale)",
        14.0,
        black,
        Anchor::Center,
    );

    for (_, color, pts) in series {
        if pts.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|e| err(&e))?;
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
            .map_err(|e| err(&e))?;
    }
    let goal_color = RGBColor(120, 120, 120);
    if let Some((g, _)) = goal {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x_min, g), (x_max, g)],
                8,
                5,
                goal_color.stroke_width(2),
            ))
            .map_err(|e| err(&e))?;
    }
    // Legend, top left inside the plot.
    let (lx, ly) = chart.backend_coord(&(x_min, y_max));
    let mut entries: Vec<(String, RGBColor)> = series
        .iter()
        .filter(|(_, _, p)| !p.is_empty())
        .map(|(name, color, _)| (name.clone(), *color))
        .collect();
    if let Some((_, label)) = goal {
        entries.push((label.to_owned(), goal_color));
    }
    for (i, (name, color)) in entries.iter().enumerate() {
        let y = ly + 8 + 18 * i as i32;
        area.draw(&PathElement::new(
            vec![(lx - bx + 8, y - by + 7), (lx - bx + 28, y - by + 7)],
            color.stroke_width(3),
        ))
        .map_err(|e| err(&e))?;
        text.draw(area, (lx + 34, y), name, 13.0, black, Anchor::Left);
    }
    Ok(())
}

/// Draws `scale.png`: memory per session, lookup p99 and ping p99 against sessions.
/// Returns whether text could be drawn (a TrueType font was found).
pub fn plot(report: &ScaleReport, path: &Path) -> anyhow::Result<bool> {
    let text = Text::load();
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(255, 127, 14);
    let green = RGBColor(44, 160, 44);
    let red = RGBColor(214, 39, 40);
    let purple = RGBColor(148, 103, 189);
    let kib = |b: f64| b / 1024.0;
    let mut memory: Vec<Series> = Vec::new();
    let mut lookup: Vec<Series> = Vec::new();
    let mut ping: Vec<Series> = Vec::new();
    if let Some(run) = &report.in_memory {
        memory.push((
            "in-memory: server heap".into(),
            blue,
            run.steps
                .iter()
                .map(|s| (s.sessions as f64, kib(s.server_heap_per_session)))
                .collect(),
        ));
        memory.push((
            "in-memory: process RSS (server + pipe)".into(),
            green,
            run.steps
                .iter()
                .map(|s| (s.sessions as f64, kib(s.rss_per_session)))
                .collect(),
        ));
        lookup.push((
            "in-memory, max-rate churn".into(),
            blue,
            run.steps
                .iter()
                .map(|s| (s.sessions as f64, s.lookup.lookup.p99_ns as f64))
                .collect(),
        ));
        lookup.push((
            "in-memory, contains_key (registry only), max-rate churn".into(),
            RGBColor(23, 190, 207),
            run.steps
                .iter()
                .map(|s| (s.sessions as f64, s.lookup.probe.p99_ns as f64))
                .collect(),
        ));
        lookup.push((
            format!("in-memory, churn paced to {}/s", run.config.paced_churn),
            green,
            run.steps
                .iter()
                .map(|s| (s.sessions as f64, s.lookup_paced.lookup.p99_ns as f64))
                .collect(),
        ));
        ping.push((
            "in-memory".into(),
            blue,
            run.steps
                .iter()
                .map(|s| (s.sessions as f64, s.ping.p99_ns as f64 / 1000.0))
                .collect(),
        ));
    }
    for (label, run, color) in [
        ("TCP, 1 server process", &report.tcp_single, red),
        ("TCP, several server processes", &report.tcp_multi, orange),
        ("TCP, erlmcp serve --tcp", &report.tcp_single_erlmcp, purple),
    ] {
        let Some(run) = run else { continue };
        memory.push((
            format!("{label}: server RSS"),
            color,
            run.steps
                .iter()
                .map(|s| (s.sessions as f64, kib(s.rss_per_session)))
                .collect(),
        ));
        lookup.push((
            format!("{label}, max-rate churn (worst node)"),
            color,
            run.steps
                .iter()
                .filter_map(|s| Some((s.sessions as f64, s.lookup.as_ref()?.lookup.p99_ns as f64)))
                .collect(),
        ));
        ping.push((
            label.to_owned(),
            color,
            run.steps
                .iter()
                .map(|s| (s.sessions as f64, s.ping.p99_ns as f64 / 1000.0))
                .collect(),
        ));
    }
    let root = BitMapBackend::new(path, (1800, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let panels = root.split_evenly((1, 3));
    panel(
        &panels[0],
        &text,
        "Server memory per idle session (KiB)",
        &memory,
        Some((8.0, "goal: 8 KiB")),
    )?;
    panel(
        &panels[1],
        &text,
        "Registry lookup p99 under churn (ns)",
        &lookup,
        Some((1000.0, "aim: 1 µs")),
    )?;
    panel(&panels[2], &text, "ping round trip p99 (µs)", &ping, None)?;
    root.present()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(text.font.is_some())
}

#[cfg(test)]
mod tests {
    use super::{tick_label, tick_step};

    #[test]
    fn tick_labels_carry_the_decimals_their_step_needs() {
        // A 10 KiB axis steps by 2.5: its ticks must read 2.5 and 7.5, not 2 and 8
        // (the 8 KiB goal line would then sit above the "8" tick).
        assert_eq!(tick_step(12.0), 2.5);
        assert_eq!(tick_label(7.5, 2.5), "7.5");
        assert_eq!(tick_label(5.0, 2.5), "5.0");
        assert_eq!(tick_label(500.0, 100.0), "500");
        assert_eq!(tick_label(0.75, 0.25), "0.75");
        assert_eq!(tick_label(0.4, 0.2), "0.4");
    }
}
