//! Fuzz the configuration file parser on any text: it parses or fails with a message, never
//! panics; what it accepts applies to the live view's settings and survives a round trip
//! through the file format (what `config --print` writes reads back the same).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockeye::config::{self, Config};
use sockeye::tui::TuiSettings;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match config::parse(text) {
        Ok(c) => {
            let mut settings = TuiSettings::default();
            c.apply_to(&mut settings);
            let back = Config::from_settings(&settings);
            if let Ok(written) = toml::to_string(&back) {
                let again = config::parse(&written).expect("a written config reads back");
                assert_eq!(again, back, "round trip:\n{written}");
            }
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = (e.line(), e.key());
        }
    }
});
