//! README screenshots of the live view, rendered from the TUI's own TestBackend buffer to SVG.
//! Regenerate from a real demo run with `cargo test --test it tui::screenshots -- --ignored`; the
//! plain test checks the renderer.

use std::fmt::Write as _;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use sockeye::tui::state::App;
use sockeye::tui::{TuiSettings, ui};

const FG: &str = "#d4d4d4";
const BG: &str = "#1e1e1e";

fn hex(c: Color, default: &str) -> String {
    match c {
        Color::Reset => default.to_string(),
        Color::Black => "#000000".into(),
        Color::Red => "#f14c4c".into(),
        Color::Green => "#23d18b".into(),
        Color::Yellow => "#f5f543".into(),
        Color::Blue => "#3b8eea".into(),
        Color::Magenta => "#d670d6".into(),
        Color::Cyan => "#29b8db".into(),
        Color::Gray => "#cccccc".into(),
        Color::DarkGray => "#808080".into(),
        Color::LightRed => "#ff7b72".into(),
        Color::LightGreen => "#7ee787".into(),
        Color::LightYellow => "#ffdf5d".into(),
        Color::LightBlue => "#79c0ff".into(),
        Color::LightMagenta => "#d2a8ff".into(),
        Color::LightCyan => "#a5f3fc".into(),
        Color::White => "#ffffff".into(),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(_) => default.to_string(),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The buffer as an SVG: one `<text>` per line, one `<tspan>` per run of equal style,
/// backgrounds as rectangles.
fn svg(buf: &Buffer) -> String {
    let (cw, lh) = (8.4_f64, 17.0_f64);
    let area = buf.area;
    let (w, h) = (
        f64::from(area.width) * cw + 16.0,
        f64::from(area.height) * lh + 16.0,
    );
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="14">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="{BG}" rx="6"/>"#
    );
    for y in 0..area.height {
        let mut runs: Vec<(u16, String, String, String, bool)> = Vec::new();
        for x in 0..area.width {
            let c = &buf[(x, y)];
            let rev = c.modifier.contains(Modifier::REVERSED);
            let (mut fg, mut bg) = (hex(c.fg, FG), hex(c.bg, BG));
            if rev {
                std::mem::swap(&mut fg, &mut bg);
            }
            let bold = c.modifier.contains(Modifier::BOLD);
            match runs.last_mut() {
                Some(r) if r.2 == fg && r.3 == bg && r.4 == bold => r.1.push_str(c.symbol()),
                _ => runs.push((x, c.symbol().to_string(), fg, bg, bold)),
            }
        }
        let ty = 8.0 + f64::from(y) * lh;
        for (x, text, _, bg, _) in &runs {
            if bg != BG {
                let n = text.chars().count() as f64;
                let _ = writeln!(
                    out,
                    r#"<rect x="{:.1}" y="{ty:.1}" width="{:.1}" height="{lh:.1}" fill="{bg}"/>"#,
                    8.0 + f64::from(*x) * cw,
                    n * cw
                );
            }
        }
        let _ = write!(
            out,
            r#"<text y="{:.1}" xml:space="preserve">"#,
            ty + lh - 4.5
        );
        for (x, text, fg, _, bold) in &runs {
            if text.trim().is_empty() {
                continue;
            }
            let weight = if *bold { r#" font-weight="bold""# } else { "" };
            let _ = write!(
                out,
                r#"<tspan x="{:.1}" fill="{fg}"{weight} textLength="{:.1}" lengthAdjust="spacingAndGlyphs">{}</tspan>"#,
                8.0 + f64::from(*x) * cw,
                text.chars().count() as f64 * cw,
                esc(text)
            );
        }
        out.push_str("</text>\n");
    }
    out.push_str("</svg>\n");
    out
}

fn key(app: &mut App, code: KeyCode) {
    let _ = app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn shot(app: &mut App, w: u16, h: u16) -> String {
    app.set_page(ui::layout(Rect::new(0, 0, w, h), app).page());
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, app)).unwrap();
    svg(t.backend().buffer())
}

fn app() -> App {
    crate::tui::common::app(TuiSettings {
        numeric: true,
        ..TuiSettings::default()
    })
}

#[test]
fn svg_holds_the_screen_text_and_colors() {
    let mut a = app();
    let s = shot(&mut a, 100, 30);
    assert!(s.starts_with("<svg"));
    assert!(s.contains("CLOSE-WAIT"));
    assert!(s.contains("127.0.0.1:7001"));
    assert!(s.contains("#d670d6"), "CLOSE-WAIT in magenta");
    assert_eq!(s.matches("<text").count(), 30);
}

/// The README screenshots from a real run: a headless `sockeye demo` on loopback, collected
/// by the real collector (netlink, processes, tcp_info) and drawn by the real views.
#[test]
#[ignore = "starts a demo and writes assets/; run to regenerate the README screenshots"]
fn write_readme_screenshots_from_a_real_demo() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use sockeye::collect::{Collector, NetidSet};
    use sockeye::model::Netid;
    use sockeye::tui::QuerySpec;
    use sockeye::tui::query::{Needs, compose};

    let runtime = tempfile::tempdir().unwrap();
    let mut demo = Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(["demo", "--headless"])
        .env("XDG_RUNTIME_DIR", runtime.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ports = Vec::new();
    for line in BufReader::new(demo.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.starts_with("control") {
            break;
        }
        let addr = line.split_whitespace().nth(1).unwrap();
        ports.push(addr.rsplit(':').next().unwrap().to_string());
    }
    assert_eq!(ports.len(), 6, "six scenarios");
    // Let every phenomenon build up: the queue fills, CLOSE-WAIT leaks, TIME-WAIT climbs.
    std::thread::sleep(Duration::from_secs(12));

    let words = crate::common::port_filter(&ports);
    let spec = QuerySpec {
        filter: words.clone(),
        ..QuerySpec::of_tables(NetidSet::of(&[Netid::Tcp]))
    };
    let needs = Needs {
        processes: true,
        details: true,
    };
    let mut collector = Collector::new(compose(&spec, &words, needs).unwrap());
    let mut a = App::new(
        TuiSettings {
            numeric: true,
            ..TuiSettings::default()
        },
        spec,
    );
    for _ in 0..2 {
        a.apply_snapshot(collector.snapshot().unwrap(), None);
        std::thread::sleep(Duration::from_secs(1));
    }
    a.apply_snapshot(collector.snapshot().unwrap(), None);
    unsafe { libc::kill(demo.id() as i32, libc::SIGINT) };
    let _ = demo.wait();

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    std::fs::write(dir.join("tui-states.svg"), shot(&mut a, 120, 36)).unwrap();
    key(&mut a, KeyCode::Char('2'));
    std::fs::write(dir.join("tui-listeners.svg"), shot(&mut a, 120, 36)).unwrap();
    key(&mut a, KeyCode::Char('3'));
    std::fs::write(dir.join("tui-sockets.svg"), shot(&mut a, 120, 36)).unwrap();
    key(&mut a, KeyCode::Char('2'));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Char('i'));
    std::fs::write(dir.join("tui-detail.svg"), shot(&mut a, 150, 36)).unwrap();
}
