//! The **view registry**: the live view's views, in Tab order. One [`views!`] line per view
//! gives its enum variant, config and `--view` spelling, tab title, number key and one-line
//! description; `View::ALL`, parsing, Tab order, the tabs, `--view`'s values and help, the
//! config file's validation and the number-key bindings (see `keys.rs`, checked by a test)
//! all derive from it. A new view is a line here, its key row in `keys.rs::BINDINGS`, and the
//! arms the compiler then asks for in `tui/state.rs` (its rows) and `tui/ui/body.rs` (its
//! drawing).

macro_rules! views {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $title:literal, $key:literal, $about:literal; )+) => {
        /// One view of the live view (see the registry in `config/views.rs`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum View {
            $( $(#[$doc])* $variant, )+
        }

        impl View {
            /// Every view, in Tab order.
            pub const ALL: &'static [View] = &[ $( View::$variant, )+ ];

            /// How many views there are (the size of per-view state arrays).
            pub const COUNT: usize = View::ALL.len();

            /// The config file's and `--view`'s spelling.
            pub fn name(self) -> &'static str {
                match self { $( View::$variant => $name, )+ }
            }

            /// The tab title.
            pub fn title(self) -> &'static str {
                match self { $( View::$variant => $title, )+ }
            }

            /// The number key that shows it.
            pub fn key(self) -> char {
                match self { $( View::$variant => $key, )+ }
            }

            /// One line for `--help`, the man page and the help overlay.
            pub fn about(self) -> &'static str {
                match self { $( View::$variant => $about, )+ }
            }
        }
    };
}

views! {
    States = "states", "States", '1', "Sockets grouped by TCP state.";
    Listeners = "listeners", "Listeners", '2', "Listening sockets with their queues and connections.";
    Sockets = "sockets", "Sockets", '3', "The flat socket table.";
    Lifecycle = "lifecycle", "Lifecycle", '6', "The TCP state machine, live: each state's count and trend, each transition's rate; a state's sockets below.";
}

impl Default for View {
    fn default() -> View {
        View::ALL[0]
    }
}

impl View {
    /// Its place in [`View::ALL`] (indexes per-view state).
    pub fn index(self) -> usize {
        View::ALL.iter().position(|&v| v == self).unwrap_or(0)
    }

    /// Parse the config spelling (`states`, `listeners`, …), case-insensitively.
    pub fn parse(s: &str) -> Option<View> {
        let s = s.trim();
        View::ALL
            .iter()
            .copied()
            .find(|v| v.name().eq_ignore_ascii_case(s))
    }

    /// The next view in Tab order (wrapping).
    pub fn next(self) -> View {
        View::ALL[(self.index() + 1) % View::COUNT]
    }

    /// The previous view in Tab order (wrapping).
    pub fn prev(self) -> View {
        View::ALL[(self.index() + View::COUNT - 1) % View::COUNT]
    }

    /// The spellings for messages: `states, listeners or sockets`.
    pub fn names() -> String {
        let names: Vec<&str> = View::ALL.iter().map(|v| v.name()).collect();
        match names.split_last() {
            Some((last, [])) => (*last).to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keys_and_order_are_consistent() {
        let mut keys: Vec<char> = View::ALL.iter().map(|v| v.key()).collect();
        keys.dedup();
        assert_eq!(keys.len(), View::COUNT, "a number key per view");
        for (i, &v) in View::ALL.iter().enumerate() {
            assert_eq!(v.index(), i);
            assert_eq!(View::parse(v.name()), Some(v));
            assert_eq!(View::parse(&v.name().to_ascii_uppercase()), Some(v));
            assert_eq!(v.next().prev(), v);
            // Keys ascend in Tab order (views 4 and 5 may not be there yet).
            if i > 0 {
                assert!(v.key() > View::ALL[i - 1].key(), "keys follow Tab order");
            }
        }
        assert_eq!(View::parse("nope"), None);
        assert_eq!(View::default(), View::States);
        assert!(View::names().starts_with("states, listeners, sockets"));
    }
}
