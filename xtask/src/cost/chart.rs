//! `cost --chart FILE.svg`: monthly cost against monthly active users for the stage and the EC2
//! host, with the stage's profile and the break-even marked; plain SVG, written by hand.
//!
//! The AI calls cost the same on both sides and would dwarf the difference, so both lines leave
//! them out (the chart says so).

use std::fmt::Write as _;

use anyhow::Result;

use super::estimate::Template;
use super::{Inputs, Report, thousands, usd};

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 480.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 200.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 60.0;
const SAMPLES: usize = 60;
const STAGE_COLOUR: &str = "#1f77b4";
const HOST_COLOUR: &str = "#d62728";

/// The chart of `report`'s stage.
pub fn svg(report: &Report, inputs: &Inputs, templates: &[Template]) -> Result<String> {
    let profile = report.monthly_active_users;
    let break_even = report.host.break_even_monthly_active_users;
    let wanted = [
        profile * 2.0,
        break_even.map_or(0.0, |users| users * 1.5),
        10.0,
    ];
    let x_max = nice(wanted.into_iter().fold(0.0, f64::max));
    let host = inputs.prices.ec2_host.usd_per_month;
    let mut stage_points = Vec::with_capacity(SAMPLES + 1);
    let mut host_points = Vec::with_capacity(SAMPLES + 1);
    for step in 0..=SAMPLES {
        let users = x_max * step as f64 / SAMPLES as f64;
        let estimate = inputs.estimate_at(templates, users)?;
        stage_points.push((users, estimate.infrastructure()));
        host_points.push((users, host));
    }
    let y_max = nice(
        stage_points
            .iter()
            .chain(&host_points)
            .map(|point| point.1)
            .fold(1.0, f64::max)
            * 1.1,
    );
    let plot = Plot { x_max, y_max };

    let mut out = String::new();
    let w = &mut out;
    writeln!(
        w,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    )?;
    writeln!(
        w,
        r#"<title>Mumble {}: monthly cost against monthly active users</title>"#,
        escape(&report.stage)
    )?;
    writeln!(w, r#"<rect width="100%" height="100%" fill="white"/>"#)?;
    writeln!(
        w,
        r#"<text x="{LEFT}" y="28" font-size="16" font-weight="bold">Mumble {}: monthly cost against monthly active users</text>"#,
        escape(&report.stage)
    )?;
    // Axes, grid and ticks.
    let (x0, y0) = plot.at(0.0, 0.0);
    let (x1, y1) = plot.at(x_max, y_max);
    for tick in 0..=5 {
        let users = x_max * f64::from(tick) / 5.0;
        let (x, _) = plot.at(users, 0.0);
        writeln!(
            w,
            r##"<line x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{y1:.1}" stroke="#eee"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            y0 + 18.0,
            thousands(users.round() as u64)
        )?;
        let dollars = y_max * f64::from(tick) / 5.0;
        let (_, y) = plot.at(0.0, dollars);
        writeln!(
            w,
            r##"<line x1="{x0:.1}" y1="{y:.1}" x2="{x1:.1}" y2="{y:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            x0 - 6.0,
            y + 4.0,
            whole_dollars(dollars)
        )?;
    }
    writeln!(
        w,
        r#"<line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y0:.1}" stroke="black"/><line x1="{x0:.1}" y1="{y0:.1}" x2="{x0:.1}" y2="{y1:.1}" stroke="black"/>"#
    )?;
    writeln!(
        w,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">monthly active users</text>"#,
        (x0 + x1) / 2.0,
        HEIGHT - 14.0
    )?;
    writeln!(
        w,
        r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">US dollars a month</text>"#,
        (y0 + y1) / 2.0
    )?;
    writeln!(
        w,
        r#"<text x="{LEFT}" y="44" fill="gray">without the AI calls, which cost the same on both</text>"#
    )?;
    // The two lines, each named at its end and in its <title>.
    let stage_name = format!("serverless stage {}", report.stage);
    let host_name = format!("EC2 host ({} a month)", usd(host));
    let host_name = host_name.as_str();
    for (id, name, colour, points) in [
        (
            "serverless",
            stage_name.as_str(),
            STAGE_COLOUR,
            &stage_points,
        ),
        ("ec2-host", host_name, HOST_COLOUR, &host_points),
    ] {
        let coordinates: Vec<String> = points
            .iter()
            .map(|&(users, dollars)| {
                let (x, y) = plot.at(users, dollars);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        writeln!(
            w,
            r#"<polyline id="{id}" fill="none" stroke="{colour}" stroke-width="2.5" points="{}"><title>{}</title></polyline>"#,
            coordinates.join(" "),
            escape(name)
        )?;
        let &(users, dollars) = points.last().expect("samples");
        let (x, y) = plot.at(users, dollars);
        writeln!(
            w,
            r#"<text x="{:.1}" y="{:.1}" fill="{colour}">{}</text>"#,
            x + 6.0,
            y + 4.0,
            escape(name)
        )?;
    }
    // The stage's profile.
    let profile_usd = report.total_usd - report.host.shared_usd;
    let (px, py) = plot.at(profile, profile_usd);
    writeln!(
        w,
        r#"<circle id="profile" cx="{px:.1}" cy="{py:.1}" r="5" fill="{STAGE_COLOUR}"/><text x="{:.1}" y="{:.1}">profile: {} users, {}</text>"#,
        px + 8.0,
        py - 8.0,
        thousands(profile.round() as u64),
        usd(profile_usd)
    )?;
    if let Some(users) = break_even {
        let (bx, _) = plot.at(users, 0.0);
        writeln!(
            w,
            r#"<line id="break-even" x1="{bx:.1}" y1="{y0:.1}" x2="{bx:.1}" y2="{y1:.1}" stroke="gray" stroke-dasharray="6 4"/><text x="{:.1}" y="{:.1}" fill="gray">break-even: {} users</text>"#,
            bx + 4.0,
            y1 + 14.0,
            thousands(users.round() as u64)
        )?;
    }
    writeln!(w, "</svg>")?;
    Ok(out)
}

struct Plot {
    x_max: f64,
    y_max: f64,
}

impl Plot {
    /// Pixel position of (users, dollars).
    fn at(&self, users: f64, dollars: f64) -> (f64, f64) {
        let width = WIDTH - LEFT - RIGHT;
        let height = HEIGHT - TOP - BOTTOM;
        (
            LEFT + users / self.x_max * width,
            HEIGHT - BOTTOM - dollars / self.y_max * height,
        )
    }
}

/// The first round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) at or
/// above `value`: each fifth of the axis is then a round number too.
fn nice(value: f64) -> f64 {
    let power = 10f64.powf(value.max(1e-9).log10().floor());
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .map(|step| step * power)
        .find(|candidate| *candidate >= value)
        .unwrap_or(10.0 * power)
}

/// `$1,250` on the axis: cents only where the scale is small.
fn whole_dollars(amount: f64) -> String {
    if amount.fract().abs() < 1e-9 {
        format!("${}", thousands(amount as u64))
    } else {
        usd(amount)
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::nice;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice(590.0), 600.0);
        assert_eq!(nice(1510.0), 2000.0);
        assert_eq!(nice(4100.0), 5000.0);
        assert_eq!(nice(119.0), 120.0);
        assert_eq!(nice(10.0), 10.0);
    }
}
